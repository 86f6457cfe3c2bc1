"""Configuration, read from the environment so one build runs anywhere."""
import os
import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = Path(os.environ.get("TRELLIS_INSTANCE", ROOT / "instance"))


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one generated once into instance/ (mode 0600)."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    from app.core.private_files import write_private_file_once

    return write_private_file_once(INSTANCE / "secret_key", secrets.token_hex(32)).strip()


def _rate_limit_storage_uri() -> str:
    """Where the rate-limit counters live: Redis when REDIS_URL is set, else a SQLite file
    of the instance that every worker process on this machine shares."""
    return (os.environ.get("RATELIMIT_STORAGE_URI") or os.environ.get("REDIS_URL")
            or f"trellis+sqlite:///{INSTANCE / 'ratelimits.db'}")


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


class Config:
    SECRET_KEY = None  # filled lazily by create_app so imports never touch the disk
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{INSTANCE / 'trellis.db'}"
    )
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    REDIS_URL = os.environ.get("REDIS_URL") or None
    PORT = int(os.environ.get("PORT", "5000"))

    # Mail: SMTP when SMTP_HOST is set, otherwise .eml files under instance/mail/.
    SMTP_HOST = os.environ.get("SMTP_HOST") or None
    SMTP_PORT = int(os.environ.get("SMTP_PORT", "587"))
    SMTP_USERNAME = os.environ.get("SMTP_USERNAME") or None
    SMTP_PASSWORD = os.environ.get("SMTP_PASSWORD") or None
    SMTP_STARTTLS = _bool("SMTP_STARTTLS", True)
    MAIL_FROM = os.environ.get("MAIL_FROM", "Trellis <no-reply@trellis.local>")
    MAIL_DIR = str(INSTANCE / "mail")

    # Sessions and forms
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_HTTPONLY = True
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    PASSWORD_RESET_MAX_AGE = 3600
    PASSWORD_HASH_PROFILE = "RFC_9106_LOW_MEMORY"  # argon2id, 64 MiB, t=3
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_CONTENT_LENGTH", str(10 * 1024 * 1024)))

    # Rate limits (Flask-Limiter): counters shared by every worker, in Redis or in
    # instance/ratelimits.db (app.core.sqlite_limits). If the storage fails (Redis down),
    # each process counts in memory until it answers again, instead of failing requests.
    RATELIMIT_STORAGE_URI = _rate_limit_storage_uri()
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_ENABLED = _bool("RATELIMIT_ENABLED", True)
    RATELIMIT_KEY_PREFIX = os.environ.get("RATELIMIT_KEY_PREFIX", "trellis")
    # Requests per minute for an authenticated credential, by business plan.
    API_RATE_LIMITS = {"free": 60, "pro": 500}
    PUBLIC_RATE_LIMIT = "30/minute"
    LOGIN_RATE_LIMIT = "10/minute"  # failed sign-ins per IP
    LOGIN_EMAIL_RATE_LIMIT = "5/minute"  # failed sign-ins per account

    # Background jobs (huey): Redis when REDIS_URL is set, else a SQLite file.
    HUEY_IMMEDIATE = _bool("HUEY_IMMEDIATE", False)
    HUEY_SQLITE_PATH = str(INSTANCE / "huey.db")
    # A CSV import whose runner has not finished a batch for this long is taken to be dead
    # (worker killed, machine restarted) and is resumed from its checkpoint.
    IMPORT_STALL_SECONDS = int(os.environ.get("IMPORT_STALL_SECONDS", "60"))

    # CSV exports: up to EXPORT_STREAM_LIMIT rows stream in the response (done well within
    # gunicorn's worker timeout); a larger export is built by the worker into a file under
    # EXPORT_DIR/<business>/, kept EXPORT_KEEP_HOURS for download.
    EXPORT_DIR = os.environ.get("EXPORT_DIR") or str(INSTANCE / "exports")
    EXPORT_STREAM_LIMIT = int(os.environ.get("EXPORT_STREAM_LIMIT", "10000"))
    EXPORT_KEEP_HOURS = int(os.environ.get("EXPORT_KEEP_HOURS", "24"))

    # OpenAPI / flask-smorest
    API_TITLE = "Trellis CRM API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api"
    OPENAPI_JSON_PATH = "v1/openapi.json"
    OPENAPI_SWAGGER_UI_PATH = "docs"
    OPENAPI_SWAGGER_UI_URL = "/static/vendor/swagger-ui-5.35.0/"
    # No badge from the public validator: an image from another site, which the page's
    # Content-Security-Policy refuses (and the spec's address would leak to it).
    OPENAPI_SWAGGER_UI_CONFIG = {"validatorUrl": None}
    API_SPEC_OPTIONS = {
        "info": {
            "description": (
                "JSON API of Trellis CRM. Authenticate with `Authorization: Bearer <id>|<secret>`;"
                " get a token from `POST /api/v1/tokens`. Lists return `{data, meta, links}`,"
                " errors `{message, errors}`."
            )
        },
        "components": {
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "id|secret"}
            }
        },
        "security": [{"bearerAuth": []}],
    }


class TestConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret-key"
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL", "sqlite:///:memory:")
    WTF_CSRF_ENABLED = False
    HUEY_IMMEDIATE = True
    PASSWORD_HASH_PROFILE = "CHEAPEST"  # still argon2id; fast so the suite stays quick
    RATELIMIT_STORAGE_URI = os.environ.get("REDIS_URL") or "memory://"
    SERVER_NAME = None


def resolve_secret_key(config) -> None:
    if not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = _secret_key()
