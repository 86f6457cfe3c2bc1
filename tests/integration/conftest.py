"""Fixtures for integration tests: SQL statement counting and bulk rows.

The app, the clean database per test and the tenants come from tests/conftest.py.
"""
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest
from sqlalchemy import event, insert

from app.extensions import db


@dataclass
class StatementLog:
    statements: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.statements)

    def __str__(self) -> str:
        return "\n".join(f"{n:3}. {s.splitlines()[0][:160]}" for n, s in enumerate(self.statements, 1))


@contextmanager
def count_statements(app):
    """Every SQL statement the app's engine runs inside the block (SAVEPOINTs included)."""
    log = StatementLog()

    def record(conn, cursor, statement, parameters, context, executemany):
        log.statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield log
    finally:
        event.remove(engine, "before_cursor_execute", record)


@pytest.fixture
def statements(app):
    """statements() -> a context manager that records the SQL run inside it."""
    return lambda: count_statements(app)


def add_locations(app, business_id: int, count: int, start: int = 0, prefix: str = "Location") -> None:
    """`count` locations for one business in one INSERT (fast enough for thousands)."""
    from app.core.models import utcnow
    from app.locations.models import Location

    now = utcnow()
    rows = [
        {"business_id": business_id, "name": f"{prefix} {n:05d}", "code": f"L{n:05d}", "city": f"City {n % 50}",
         "country": "GB", "email": f"site{n}@example.com", "is_active": n % 7 != 0,
         "created_at": now, "updated_at": now}
        for n in range(start, start + count)
    ]
    with app.app_context():
        db.session.execute(insert(Location), rows)
        db.session.commit()


def add_tokens(app, user_id: int, count: int) -> None:
    from tests.conftest import make_token

    for n in range(count):
        make_token(app, user_id, name=f"token {n}")
