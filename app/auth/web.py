"""Sign-up, sign-in, sign-out and password reset screens."""
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from app.auth import services, sessions
from app.auth.forms import ForgotPasswordForm, LoginForm, ResetPasswordForm, SignUpForm
from app.core.errors import TooManyAttempts, ValidationFailed
from app.core.limits import login_key
from app.core.web import apply_errors
from app.extensions import limiter
from app.team.models import User

bp = Blueprint("auth", __name__)
SIGN_IN_FAILED = "Those details do not match an account. Check them and try again."
TOO_MANY_SIGN_INS = "Too many attempts to sign in. Wait {seconds} seconds, then try again."


def load_user(session_id: str) -> User | None:
    return sessions.user_for_session(session_id)


def _sign_in(user: User, remember: bool = False) -> None:
    """Start a server-side session (app.auth.sessions), then Flask-Login's cookies."""
    sessions.start_session(user, request.remote_addr, request.user_agent.string)
    login_user(user, remember=remember)


def _safe_next(target: str | None) -> str:
    if target and urlsplit(target).netloc == "" and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("dashboard.index")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    form = LoginForm()
    status = 422 if request.method == "POST" else 200
    headers = {}
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.login.data, form.password.data, request.remote_addr)
        except TooManyAttempts as blocked:
            form.form_errors.append(TOO_MANY_SIGN_INS.format(seconds=blocked.retry_after))
            status, headers = blocked.status, blocked.headers
        else:
            if user is not None:
                _sign_in(user, remember=form.remember.data)
                return redirect(_safe_next(request.args.get("next")), code=302)
            form.form_errors.append(SIGN_IN_FAILED)
    return render_template("auth/login.html", form=form), status, headers


@bp.route("/logout", methods=["POST"])
def logout():
    if current_user.is_authenticated:
        sessions.end_session(current_user._get_current_object())
    logout_user()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/logout/everywhere", methods=["POST"])
@login_required
def sign_out_everywhere():
    """Every browser of this user, this one included, and every remember-me cookie."""
    sessions.end_all_sessions(current_user._get_current_object(), keep_current=False)
    logout_user()
    flash("You are signed out on every device.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/sessions")
@login_required
def devices():
    """The browsers you are signed in on, with a way to sign any of them out."""
    user = current_user._get_current_object()
    return render_template("auth/sessions.html", rows=sessions.live_sessions(user), current=user.current_session)


@bp.route("/account/sessions/<id:session_id>/end", methods=["POST"])
@login_required
def end_device(session_id: int):
    user = current_user._get_current_object()
    if session_id == user.current_session.id:
        return logout()
    sessions.end_other_session(user, session_id)
    flash("That browser is signed out.", "info")
    return redirect(url_for("auth.devices"))


@bp.route("/signup", methods=["GET", "POST"])
def signup():
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    form = SignUpForm()
    if form.validate_on_submit():
        try:
            owner = services.sign_up(form.business_name.data, form.first_name.data, form.last_name.data,
                                     form.email.data, form.password.data)
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            _sign_in(owner)
            flash(f"Welcome to Trellis, {owner.first_name}! Your business is ready.", "success")
            return redirect(url_for("dashboard.index"))
    status = 422 if request.method == "POST" else 200
    return render_template("auth/signup.html", form=form), status


@bp.route("/forgot-password", methods=["GET", "POST"])
@limiter.limit("5/minute", methods=["POST"], key_func=login_key, scope="forgot")
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        services.request_password_reset(
            form.email.data, lambda token: url_for("auth.reset_password", token=token, _external=True)
        )
        # The same answer whether or not the account exists.
        flash("If an account uses that address, we have sent it a link to reset the password.", "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot_password.html", form=form)


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    if services.user_for_reset_token(token) is None:
        flash("This reset link is invalid or has expired. Ask for a new one.", "danger")
        return redirect(url_for("auth.forgot_password"))
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            services.reset_password(token, form.password.data)
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            flash("Your password is changed. Sign in with the new one.", "success")
            return redirect(url_for("auth.login"))
    status = 422 if request.method == "POST" else 200
    return render_template("auth/reset_password.html", form=form, token=token), status


@bp.route("/account")
@login_required
def account():
    return redirect(url_for("settings.tokens"))
