"""One error shape: `{"message", "errors"}` for the API, a friendly page for HTML."""
import logging

from flask import jsonify, render_template, request
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException, InternalServerError

from app.core.errors import DomainError, PreconditionFailed, Unauthenticated, ValidationFailed, first_error_message
from app.core.listing import flatten_errors

log = logging.getLogger(__name__)

API_MESSAGES = {
    400: "Bad request.",
    401: "Unauthenticated.",
    403: "Unauthorized",
    404: "Not found",
    405: "Method not allowed.",
    406: "Not acceptable.",
    409: "Conflict.",
    412: "Precondition failed.",
    413: "The request body is too large.",
    415: "Unsupported media type.",
    422: "The given data was invalid.",
    429: "Too Many Attempts.",
    500: "Server Error",
    503: "Service unavailable.",
}
PASSED_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")


def wants_json() -> bool:
    path = request.path
    return path.startswith("/api/") and not path.startswith("/api/docs")


def json_error(status: int, message: str, errors: dict | None = None, headers: dict | None = None):
    body = {"message": message}
    if errors:
        body["errors"] = errors
    response = jsonify(body)
    response.status_code = status
    for key, value in (headers or {}).items():
        response.headers[key] = value
    if status == 401 and "WWW-Authenticate" not in response.headers:
        response.headers["WWW-Authenticate"] = 'Bearer realm="trellis"'
    return response


def html_error(status: int, message: str | None = None, headers: dict | None = None):
    return render_template("errors/error.html", status=status, message=message), status, headers or {}


def handle_http_exception(error: HTTPException):
    status = error.code or 500
    if status >= 500:
        log.error("server error on %s %s", request.method, request.path, exc_info=error.original_exception
                  if isinstance(error, InternalServerError) else None)
    headers = {k: v for k, v in error.get_headers() if k in PASSED_HEADERS}
    if not wants_json():
        return html_error(status, headers=headers)
    data = getattr(error, "data", None) or {}
    errors = flatten_errors(data["messages"]) if "messages" in data else None
    message = API_MESSAGES.get(status, error.name)
    if status == 422 and errors:
        message = first_error_message(errors)
    elif status == 400 and errors:
        message, errors = "The request body is not valid JSON.", None
    elif status in (400, 406, 415) and error.description != type(error).description:
        message = error.description  # our own explanation (app.api.base, app.core.web)
    return json_error(status, message, errors, headers)


def handle_domain_error(error: DomainError):
    headers = dict(getattr(error, "headers", None) or {})  # e.g. TooManyAttempts' Retry-After
    if wants_json():
        if isinstance(error, Unauthenticated):
            headers["WWW-Authenticate"] = 'Bearer realm="trellis"'
        return json_error(error.status, error.message, error.errors or None, headers)
    if isinstance(error, ValidationFailed):
        return html_error(422, error.message)
    return html_error(error.status, error.message if error.status not in (401, 404) else None, headers)


def handle_stale_write(error: StaleDataError):
    """Two writers raced past the version check; the later flush matched no row."""
    from app.core.concurrency import STALE_MESSAGE

    return handle_domain_error(PreconditionFailed(STALE_MESSAGE))


def register_error_handlers(app) -> None:
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(StaleDataError, handle_stale_write)
    # flask-smorest's Api registers the HTTPException handler (ours, via the subclass);
    # register it here as well so HTML-only apps and tests without the API behave the same.
    app.register_error_handler(HTTPException, handle_http_exception)
