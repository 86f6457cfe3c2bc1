"""The bench's app, data and measuring tools.

One app per process, on a temporary SQLite file, or on DATABASE_URL when it is set (for
PostgreSQL in a schema of its own, dropped afterwards, so the test suite's tables are
never touched). The rate limiter stays on (its cost is part of every request) with limits
too high to reach; it uses REDIS_URL when set, like the test suite.
"""
import os
import statistics
import tempfile
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, event, insert, text
from sqlalchemy.engine import make_url

OWNER_EMAIL = "owner@bench.example"
OWNER_PASSWORD = "bench-owner-password"
UNREACHABLE = 10**9


@dataclass
class Bench:
    app: object
    dialect: str
    api_headers: dict
    browser: object  # a signed-in test client
    business_id: int
    other_business_id: int
    cleanups: list = field(default_factory=list)

    def close(self) -> None:
        for cleanup in reversed(self.cleanups):
            cleanup()


def _database(tmp: Path, cleanups: list) -> tuple[str, dict]:
    """(SQLAlchemy URL, engine options) for the bench's own database or schema."""
    url = os.environ.get("DATABASE_URL")
    if not url:
        return f"sqlite:///{tmp / 'bench.db'}", {}
    backend = make_url(url).get_backend_name()
    if backend != "postgresql":
        raise SystemExit(f"bench: DATABASE_URL must be SQLite or PostgreSQL, not {backend}")
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))

    def drop_schema():
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()

    cleanups.append(drop_schema)
    return url, {"connect_args": {"options": f"-csearch_path={schema}"}}


def build(rows_per_business: int) -> Bench:
    from app import create_app
    from app.config import TestConfig

    cleanups: list = []
    tmp_dir = tempfile.TemporaryDirectory(prefix="trellis-bench-")
    cleanups.append(tmp_dir.cleanup)
    tmp = Path(tmp_dir.name)
    try:
        url, engine_options = _database(tmp, cleanups)
        config = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
        config.update(
            TESTING=False,  # errors answer as they would in production
            SQLALCHEMY_DATABASE_URI=url,
            SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True, **engine_options},
            MAIL_DIR=str(tmp / "mail"),
            HUEY_SQLITE_PATH=str(tmp / "huey.db"),
            EXPORT_DIR=str(tmp / "exports"),
            API_RATE_LIMITS={"free": UNREACHABLE, "pro": UNREACHABLE},
            PUBLIC_RATE_LIMIT=f"{UNREACHABLE}/minute",
            LOGIN_RATE_LIMIT=f"{UNREACHABLE}/minute",
            RATELIMIT_KEY_PREFIX=f"trellis-bench-{uuid.uuid4().hex[:8]}",
        )
        app = create_app(config)
        from app.extensions import db

        with app.app_context():
            db.create_all()
            cleanups.append(lambda: _dispose(app))
        business_id, owner_id = _business(app, "Bench Outfitters", OWNER_EMAIL)
        other_id, _ = _business(app, "Other Tenant Ltd", "owner@other-tenant.example")
        add_locations(app, business_id, rows_per_business, prefix="Location")
        add_locations(app, other_id, rows_per_business, prefix="Elsewhere")
        add_contacts(app, business_id, rows_per_business, prefix="Person")
        add_contacts(app, other_id, rows_per_business, prefix="Stranger")
        add_deals(app, business_id, owner_id, BOARD_COLUMN_DEALS)
        _analyze(app)

        token = _token(app, owner_id)
        browser = app.test_client()
        signed_in = browser.post("/login", data={"login": OWNER_EMAIL, "password": OWNER_PASSWORD})
        assert signed_in.status_code in (302, 303), signed_in.status_code
        return Bench(app=app, dialect=make_url(url).get_backend_name(),
                     api_headers={"Authorization": f"Bearer {token}"}, browser=browser,
                     business_id=business_id, other_business_id=other_id, cleanups=cleanups)
    except BaseException:
        for cleanup in reversed(cleanups):
            cleanup()
        raise


def _dispose(app) -> None:
    from app.extensions import db

    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _business(app, name: str, email: str) -> tuple[int, int]:
    from app.auth.services import sign_up
    from app.extensions import db

    with app.app_context():
        owner = sign_up(name, "Owner", name.split()[0], email, OWNER_PASSWORD)
        db.session.commit()
        return owner.business_id, owner.id


def _token(app, owner_id: int) -> str:
    from sqlalchemy import select

    from app.auth import tokens
    from app.core.permissions import actor_for
    from app.core.tenancy import tenant_scope
    from app.extensions import db
    from app.team.models import User

    with app.app_context():
        owner = db.session.scalar(select(User).where(User.id == owner_id).execution_options(all_tenants=True))
        with tenant_scope(owner.business_id):
            _, plain = tokens.create_token(actor_for(owner), owner.id, "bench")
            db.session.commit()
            return plain


def add_locations(app, business_id: int, count: int, prefix: str) -> None:
    from app.core.models import utcnow
    from app.extensions import db
    from app.locations.models import Location

    now = utcnow()
    rows = [
        {"business_id": business_id, "name": f"{prefix} {n:05d}", "code": f"L{n:05d}", "city": f"City {n % 50}",
         "country": "GB", "email": f"site{n}@example.com", "is_active": n % 7 != 0,
         "created_at": now, "updated_at": now}
        for n in range(count)
    ]
    with app.app_context():
        for start in range(0, len(rows), 1000):
            db.session.execute(insert(Location), rows[start:start + 1000])
        db.session.commit()


BOARD_COLUMN_DEALS = 500  # the "500 deals in a column without lag"


def add_contacts(app, business_id: int, count: int, prefix: str) -> None:
    """Contacts through plain INSERTs (the full-text index follows by its triggers/indexes)."""
    from app.core.models import utcnow
    from app.extensions import db
    from app.pipelines.models import Contact

    now = utcnow()
    rows = [
        {"business_id": business_id, "first_name": f"{prefix}{n:05d}", "last_name": f"Family{n % 400}",
         "email": f"{prefix.lower()}{n}@example.com", "mobile_phone": f"+4477009{n:05d}", "status": "Lead",
         "do_not_contact": False, "custom_fields": {}, "version": 1, "created_at": now, "updated_at": now}
        for n in range(count)
    ]
    with app.app_context():
        for start in range(0, len(rows), 1000):
            db.session.execute(insert(Contact), rows[start:start + 1000])
        db.session.commit()


def add_deals(app, business_id: int, owner_id: int, in_first_column: int) -> None:
    """`in_first_column` deals in the default pipeline's first stage, 50 in each other open stage."""
    from sqlalchemy import select

    from app.core.models import utcnow
    from app.extensions import db
    from app.pipelines.models import Contact, Deal, Pipeline, Stage

    now = utcnow()
    with app.app_context():
        pipeline = db.session.scalar(select(Pipeline).where(Pipeline.business_id == business_id,
                                                            Pipeline.is_default.is_(True))
                                     .execution_options(all_tenants=True))
        stages = list(db.session.scalars(select(Stage).where(Stage.pipeline_id == pipeline.id, Stage.kind == "open")
                                         .order_by(Stage.position).execution_options(all_tenants=True)))
        contacts = list(db.session.scalars(select(Contact.id).where(Contact.business_id == business_id)
                                           .limit(in_first_column).execution_options(all_tenants=True)))
        rows = []
        for index, stage in enumerate(stages):
            for position in range(in_first_column if index == 0 else 50):
                rows.append({"business_id": business_id, "title": f"Deal {index}-{position}", "value": 100 + position,
                             "currency": "USD", "pipeline_id": pipeline.id, "stage_id": stage.id,
                             "position": position, "owner_id": owner_id, "status": "open",
                             "contact_id": contacts[position % len(contacts)] if contacts else None,
                             "stage_entered_at": now, "custom_fields": {}, "version": 1, "created_at": now,
                             "updated_at": now})
        db.session.execute(insert(Deal), rows)
        db.session.commit()


def _analyze(app) -> None:
    """Planner statistics, as a database that has lived a while would have."""
    from app.extensions import db

    with app.app_context(), db.engine.begin() as conn:
        conn.execute(text("ANALYZE"))


# --- measuring ----------------------------------------------------------------------------


@dataclass
class Capture:
    statements: list = field(default_factory=list)  # (sql, parameters)

    @property
    def count(self) -> int:
        return len(self.statements)


@contextmanager
def capture_sql(app):
    from app.extensions import db

    capture = Capture()

    def record(conn, cursor, statement, parameters, context, executemany):
        capture.statements.append((statement, parameters))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield capture
    finally:
        event.remove(engine, "before_cursor_execute", record)


def fetch(client, url: str, headers: dict | None = None) -> bytes:
    """One request, body read to the end (a streamed answer runs its queries while read)."""
    with client.get(url, headers=headers or {}) as response:
        body = response.get_data()
        if response.status_code != 200:
            raise AssertionError(f"GET {url} answered {response.status_code}: {body[:300]!r}")
        return body


def timed(call) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def compare(target, ceiling, rounds: int, warmup: int = 5) -> tuple[float, float]:
    """Median seconds of `target` and of `ceiling`, measured alternately so drift in the
    machine's speed (other processes, CPU frequency) hits both sides alike."""
    for _ in range(warmup):
        target()
        ceiling()
    target_times, ceiling_times = [], []
    for _ in range(rounds):
        ceiling_times.append(timed(ceiling))
        target_times.append(timed(target))
    return statistics.median(target_times), statistics.median(ceiling_times)
