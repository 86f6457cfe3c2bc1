from flask import render_template

from app.core.jobs import job
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
