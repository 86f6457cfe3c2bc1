"""Glue for the HTML face: who is signed in, what they may do, form errors."""
from flask import abort, current_app, flash, g, request
from flask_login import current_user

from app.core.audit import BROWSER, remember_actor
from app.core.errors import DomainError, NotFound
from app.core.permissions import PERMISSION_GROUPS, actor_for
from app.core.tenancy import set_current_business
from app.extensions import db


def bind_browser_user() -> None:
    """Make the signed-in user's business current for this request (not for the API)."""
    if request.path.startswith("/api/") or request.path.startswith("/static/"):
        return
    if current_user.is_authenticated:
        set_current_business(current_user.business_id)
        g.actor = actor_for(current_user)
        remember_actor(current_user, BROWSER)


NUL_JSON_ESCAPE = b"\\u0000"


def reject_nul_characters() -> None:
    """No text column stores NUL (PostgreSQL refuses it): answer 400, never a 500."""
    values = [v for source in (request.args, request.form) for vs in source.listvalues() for v in vs]
    body = request.get_data(cache=True) if request.is_json else b""
    if any("\x00" in v for v in values) or NUL_JSON_ESCAPE in body or b"\x00" in body:
        abort(400, description="The request contains a NUL character, which is not allowed.")


def browser_actor():
    return g.get("actor")


def flash_refusal(error: DomainError) -> None:
    """Say on the next page why an action was refused (a button's POST, then a redirect).

    Not a NotFound: another business's record (or one the user may not see) is a 404 on
    every face, htmx included, never a message and a 204 that hints the record exists.
    """
    if isinstance(error, NotFound):
        raise error
    db.session.rollback()
    flash(error.message, "danger")


def apply_errors(form, error: DomainError) -> None:
    """Show a service's field errors next to the fields; nothing of the attempt is kept."""
    db.session.rollback()
    unplaced = []
    for name, messages in error.errors.items():
        field = getattr(form, name.split(".")[0], None)
        if field is not None and hasattr(field, "errors"):
            field.errors = list(field.errors or []) + list(messages)
        else:
            unplaced.extend(messages)
    if unplaced or not error.errors:
        form.form_errors.extend(unplaced or [error.message])


def upload_limit() -> str:
    """MAX_CONTENT_LENGTH as people say it: "10 MB"."""
    megabytes = current_app.config["MAX_CONTENT_LENGTH"] / (1024 * 1024)
    return f"{megabytes:g} MB" if megabytes >= 1 else f"{current_app.config['MAX_CONTENT_LENGTH'] // 1024} KB"


def template_context() -> dict:
    actor = g.get("actor")
    return {
        "can": (lambda *perms: bool(actor and actor.can_any(*perms))),
        "permission_groups": PERMISSION_GROUPS,
        "upload_limit": upload_limit,
    }
