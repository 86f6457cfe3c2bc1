"""Sign-up, sign-in and password reset."""
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select

from app.auth import throttle
from app.auth.passwords import MIN_PASSWORD_LENGTH, hash_password, needs_rehash, verify_password
from app.auth.sessions import end_all_sessions
from app.core.errors import ValidationFailed
from app.core.models import utcnow
from app.core.tenancy import tenant_scope
from app.extensions import db
from app.team.models import User
from app.team.services import admin_role, create_business

RESET_SALT = "trellis-password-reset"


def normalize_email(value: str, field: str = "email") -> str:
    try:
        return validate_email((value or "").strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        raise ValidationFailed({field: ["Enter a valid e-mail address."]}) from None


def check_password_strength(password: str, field: str = "password") -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise ValidationFailed({field: [f"The password must be at least {MIN_PASSWORD_LENGTH} characters."]})


def login_email_taken(email: str) -> bool:
    stmt = (
        select(func.count()).select_from(User)
        # Only people who sign in need a unique address: agents and login-less staff do not.
        .where(func.lower(User.email) == email.lower(), User.deleted_at.is_(None), User.allow_login.is_(True))
        .execution_options(all_tenants=True)
    )
    return bool(db.session.scalar(stmt))


def sign_up(business_name: str, first_name: str, last_name: str | None, email: str, password: str,
            currency: str = "USD", timezone: str = "UTC") -> User:
    """A new business with its default roles and its owner, who holds the Admin role."""
    errors = {}
    if not (business_name or "").strip():
        errors["business_name"] = ["The business name field is required."]
    if not (first_name or "").strip():
        errors["first_name"] = ["The first name field is required."]
    try:
        email = normalize_email(email)
        if login_email_taken(email):
            errors["email"] = ["An account with this e-mail address already exists."]
    except ValidationFailed as exc:
        errors.update(exc.errors)
    try:
        check_password_strength(password)
    except ValidationFailed as exc:
        errors.update(exc.errors)
    if errors:
        raise ValidationFailed(errors)
    business = create_business(business_name, currency=currency, timezone=timezone)
    with tenant_scope(business.id):
        owner = User(
            business_id=business.id, first_name=first_name.strip(), last_name=(last_name or "").strip() or None,
            email=email, username=email, password_hash=hash_password(password), allow_login=True,
            status="active", role=admin_role(), last_login_at=utcnow(),
        )
        db.session.add(owner)
        db.session.flush()
    return owner


def find_login_user(login: str) -> User | None:
    login = (login or "").strip().lower()
    if not login:
        return None
    stmt = (
        select(User)
        .where((func.lower(User.email) == login) | (func.lower(User.username) == login))
        .where(User.deleted_at.is_(None), User.allow_login.is_(True))
        .order_by(User.id)
        .execution_options(all_tenants=True)
    )
    return db.session.scalars(stmt).first()


def authenticate(login: str, password: str, ip: str | None) -> User | None:
    """The user when the credentials are right and the account may sign in.

    Every password check goes through here, so failures are counted per account and per
    client IP (app.auth.throttle): past the limit this raises TooManyAttempts before
    anything is checked. A password is always verified (against a dummy hash when there
    is no such user) so the answer takes the same time whether or not the account exists.
    """
    user = find_login_user(login)
    # One budget per account whichever login names it (e-mail or username: two budgets
    # doubled the guesses); a login that names nobody is counted as typed.
    account = f"user:{user.id}" if user else login
    throttle.check_login_allowed(account, ip)
    ok = verify_password(user.password_hash if user else None, password or "")
    if not (ok and user and user.is_active):
        throttle.record_failed_login(account, ip)
        return None
    throttle.clear_failed_logins(account)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    return user


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=RESET_SALT)


def password_reset_token(user: User) -> str:
    # The nonce makes a link single-use: a reset bumps it and every older link dies.
    return _serializer().dumps({"user": user.id, "nonce": user.session_nonce})


def request_password_reset(email: str, reset_url) -> User | None:
    """Mail a reset link if the account exists; the caller answers the same either way.

    `reset_url(token)` builds the absolute link (the web layer knows the host).
    """
    user = find_login_user(email)
    if user is None or not user.is_active:
        return None
    mail_password_reset_link(user, reset_url)
    return user


def mail_password_reset_link(user: User, reset_url) -> None:
    """Queue the reset mail once this transaction commits: run inline (huey's immediate
    mode), the job would wait on the SQLite write lock that transaction holds."""
    from app.auth.tasks import send_password_reset
    from app.core.jobs import enqueue_after_commit

    enqueue_after_commit(send_password_reset, user.id, reset_url(password_reset_token(user)),
                         business_id=user.business_id)


def user_for_reset_token(token: str) -> User | None:
    try:
        data = _serializer().loads(token, max_age=current_app.config["PASSWORD_RESET_MAX_AGE"])
    except (SignatureExpired, BadSignature):
        return None
    stmt = select(User).where(User.id == data.get("user")).execution_options(all_tenants=True)
    user = db.session.scalar(stmt)
    if user is None or user.session_nonce != data.get("nonce") or not user.is_active:
        return None
    return user


def reset_password(token: str, password: str) -> User:
    user = user_for_reset_token(token)
    if user is None:
        raise ValidationFailed({"token": ["This reset link is invalid or has expired. Ask for a new one."]})
    check_password_strength(password)
    user.password_hash = hash_password(password)
    end_all_sessions(user, keep_current=False)  # a reset signs the user out everywhere
    return user
