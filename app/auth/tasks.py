from flask import render_template
from huey import crontab

from app.auth.sessions import forget_ended_sessions
from app.core.jobs import job, periodic_job
from app.core.mail import send_mail
from app.extensions import db
from app.team.models import User


@job(retries=3, retry_delay=30)
def send_password_reset(user_id: int, link: str, business_id: int) -> None:
    user = db.session.get(User, user_id)
    if user is None or not user.email:
        return
    send_mail(
        user.email,
        "Reset your Trellis password",
        render_template("auth/email/reset_password.txt", user=user, link=link),
        render_template("auth/email/reset_password.html", user=user, link=link),
    )


@periodic_job(crontab(minute="23"))
def forget_old_sessions() -> None:
    forget_ended_sessions()
