"""Domain errors raised by services and mapped once to JSON or to HTML.

Each carries an HTTP status so the API maps it without a lookup table, and a message a
person can read. ValidationFailed carries field errors as {field: [messages]}.
"""


class DomainError(Exception):
    status = 400
    default_message = "The request could not be completed."

    def __init__(self, message: str | None = None, errors: dict | None = None):
        self.message = message or self.default_message
        self.errors = errors or {}
        super().__init__(self.message)

    def to_dict(self) -> dict:
        body = {"message": self.message}
        if self.errors:
            body["errors"] = self.errors
        return body


class NotFound(DomainError):
    status = 404
    default_message = "Not found"


class Forbidden(DomainError):
    status = 403
    default_message = "Unauthorized"


class Unauthenticated(DomainError):
    status = 401
    default_message = "Unauthenticated."


class ValidationFailed(DomainError):
    status = 422
    default_message = "The given data was invalid."

    def __init__(self, errors: dict | None = None, message: str | None = None):
        errors = {k: list(v) if isinstance(v, (list, tuple)) else [v] for k, v in (errors or {}).items()}
        if message is None and errors:
            message = first_error_message(errors)
        super().__init__(message, errors)


class Conflict(DomainError):
    status = 409
    default_message = "The request conflicts with the current state of the resource."


class PreconditionFailed(DomainError):
    status = 412
    default_message = "The resource was changed by someone else. Reload it and try again."


class QuotaExceeded(DomainError):
    status = 422
    default_message = "The user quota of this business is used up."


class TooManyAttempts(DomainError):
    """Refused before any work: too many recent failures. `retry_after` is in seconds."""

    status = 429
    default_message = "Too Many Attempts."

    def __init__(self, retry_after: int, message: str | None = None):
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))

    @property
    def headers(self) -> dict:
        return {"Retry-After": str(self.retry_after)}


class PaymentRequired(DomainError):
    status = 402
    default_message = "This business has no active subscription."


def first_error_message(errors: dict) -> str:
    """Laravel's summary: the first message, plus how many more there are."""
    messages = [m for msgs in errors.values() for m in msgs]
    if not messages:
        return ValidationFailed.default_message
    extra = len(messages) - 1
    if extra:
        return f"{messages[0]} (and {extra} more error{'s' if extra > 1 else ''})"
    return messages[0]
