"""Optimistic concurrency for VersionedMixin models: stale writes are refused, not merged."""
from app.core.errors import PreconditionFailed

STALE_MESSAGE = "Someone else changed this record since you loaded it. Reload it and try again."


def check_version(obj, expected_version: int | None) -> None:
    """Refuse the write when the caller saw an older version than the one stored."""
    if expected_version is not None and expected_version != obj.version:
        raise PreconditionFailed(STALE_MESSAGE)
