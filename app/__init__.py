"""Trellis CRM: create_app() builds everything; nothing happens at import time."""
import logging

from flask import Flask, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

from app.auth.passwords import configure_hasher
from app.config import Config, resolve_secret_key
from app.core.converters import RowIdConverter
from app.core.json_input import reject_deep_json
from app.core.limits import init_limiter
from app.core.security_headers import add_security_headers
from app.core.web import bind_browser_user, reject_nul_characters
from app.extensions import csrf, db, limiter, login_manager, migrate


def create_app(config: type | dict | None = None) -> Flask:
    app = Flask(__name__, template_folder="../templates", static_folder="../static", instance_relative_config=True)
    app.config.from_object(Config)
    if isinstance(config, dict):
        app.config.update(config)
    elif config is not None:
        app.config.from_object(config)
    resolve_secret_key(app.config)
    if not logging.getLogger().handlers:  # gunicorn and the huey consumer bring their own
        logging.basicConfig(level=logging.INFO)

    app.url_map.converters["id"] = RowIdConverter
    _init_database(app)
    _init_login(app)
    # Before CSRF and the limiter: their error pages then know who is signed in.
    app.before_request(reject_deep_json)  # before anything reads the body as JSON
    app.before_request(reject_nul_characters)
    app.before_request(bind_browser_user)
    # Registered before the limiter's own hook, so it runs after it (Flask runs
    # after_request hooks in reverse): Flask-Limiter adds Retry-After to every limited
    # answer, but it only means something on a 429.
    app.after_request(_retry_after_only_on_429)
    csrf.init_app(app)
    init_limiter(app, limiter)
    configure_hasher(app.config["PASSWORD_HASH_PROFILE"])

    from app.core.jobs import init_jobs

    init_jobs(app)
    _register_models_and_tasks()
    _register_blueprints(app)
    _register_request_hooks(app)
    _register_template_helpers(app)

    from app.cli import register_cli

    register_cli(app)
    return app


def _retry_after_only_on_429(response):
    if response.status_code not in (429, 503):
        response.headers.pop("Retry-After", None)
    return response


def _init_database(app: Flask) -> None:
    from app.core.audit import install_audit_hooks
    from app.core.events import install_outbox_hooks
    from app.core.jobs import install_after_commit_hooks
    from app.core.sqlite import install_sqlite_transactions
    from app.core.tenancy import install_tenancy_hooks

    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    _create_sqlite_file_privately(app, uri)
    if uri.startswith("sqlite"):
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        options.setdefault("connect_args", {}).setdefault("timeout", 15)
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    db.init_app(app)
    migrate.init_app(app, db, directory=str(app.root_path + "/../migrations"), render_as_batch=True)
    install_tenancy_hooks()
    install_outbox_hooks()
    install_after_commit_hooks()
    install_audit_hooks()
    install_sqlite_transactions()

    from app.pipelines.imports import install_import_hooks

    install_import_hooks()


def _create_sqlite_file_privately(app: Flask, uri: str) -> None:
    """A new SQLite database starts as an empty file of mode 0600 (its -wal and -shm follow)."""
    from pathlib import Path

    from app.core.private_files import ensure_private_file, sqlite_file

    path = sqlite_file(uri)
    if path is not None:
        # Flask-SQLAlchemy resolves a relative SQLite path against the instance folder.
        ensure_private_file(path if path.is_absolute() else Path(app.instance_path) / path)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    """WAL lets readers and the writer work at once; foreign keys are off by default.
    Transactions are begun by app.core.sqlite (BEGIN IMMEDIATE for writers)."""
    import sqlite3

    from app.core.sqlite import take_over_transactions

    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
    take_over_transactions(dbapi_connection)


def _init_login(app: Flask) -> None:
    from app.auth.web import load_user

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"
    login_manager.user_loader(load_user)


def _register_models_and_tasks() -> None:
    # Importing registers tables with the metadata, permissions, and jobs with huey.
    import app.auth.models  # noqa: F401
    import app.auth.tasks  # noqa: F401
    import app.core.audit  # noqa: F401
    import app.core.events  # noqa: F401
    import app.core.tasks  # noqa: F401
    import app.locations.models  # noqa: F401
    import app.locations.services  # noqa: F401
    import app.pipelines.export_kinds  # noqa: F401  (registers the CSV export kinds)
    import app.pipelines.exports  # noqa: F401
    import app.pipelines.import_kinds  # noqa: F401  (registers the CSV import kinds)
    import app.pipelines.imports  # noqa: F401
    import app.pipelines.models  # noqa: F401
    import app.pipelines.permissions  # noqa: F401
    import app.pipelines.search  # noqa: F401  (creates the full-text index with create_all)
    import app.team.models  # noqa: F401
    import app.team.permissions  # noqa: F401


def _register_blueprints(app: Flask) -> None:
    from app.api import register_api
    from app.auth.web import bp as auth_bp
    from app.core.error_pages import register_error_handlers
    from app.core.health import bp as health_bp
    from app.dashboard.routes import bp as dashboard_bp
    from app.locations.routes import bp as locations_bp
    from app.pipelines.accounts_web import bp as accounts_bp
    from app.pipelines.activities_web import bp as activities_bp
    from app.pipelines.board_web import bp as board_bp
    from app.pipelines.capture_web import bp as capture_settings_bp
    from app.pipelines.contacts_web import bp as contacts_bp
    from app.pipelines.custom_fields_web import bp as crm_custom_fields_bp
    from app.pipelines.deals_web import bp as deals_bp
    from app.pipelines.exports_web import bp as exports_bp
    from app.pipelines.imports_web import bp as imports_bp
    from app.pipelines.leads_web import bp as leads_bp
    from app.pipelines.settings_web import bp as pipeline_settings_bp
    from app.settings.routes import bp as settings_bp
    from app.team.agents_web import bp as agents_bp
    from app.team.roles_web import bp as roles_bp
    from app.team.routes import bp as team_bp

    for blueprint in (auth_bp, dashboard_bp, locations_bp, settings_bp, team_bp, agents_bp, roles_bp,
                      activities_bp, contacts_bp, accounts_bp, crm_custom_fields_bp,
                      leads_bp, capture_settings_bp):
        app.register_blueprint(blueprint)
    for blueprint in (board_bp, deals_bp, pipeline_settings_bp):  # sales: board, deals, pipelines settings
        app.register_blueprint(blueprint)
    app.register_blueprint(imports_bp)
    app.register_blueprint(health_bp)
    app.register_blueprint(exports_bp)
    register_error_handlers(app)
    register_api(app)


def _register_request_hooks(app: Flask) -> None:
    @app.after_request
    def commit_or_roll_back(response):
        """Commit once per request; anything but success leaves no trace."""
        if response.status_code < 400:
            db.session.commit()
        else:
            db.session.rollback()
        return response

    @app.after_request
    def security_headers(response):
        add_security_headers(response)
        if request.path.startswith("/api/v1") and response.mimetype == "application/json":
            response.headers.setdefault("Cache-Control", "no-store")
        return response


def _register_template_helpers(app: Flask) -> None:
    from app.core.web import template_context

    app.context_processor(template_context)
