"""Files only the account running Trellis may read: the secret key and the SQLite databases.

Each is created with mode 0600 from the start (never written first and narrowed after, which
leaves a moment where anyone may read it). SQLite gives a database's -wal and -shm files the
mode of the database file, so creating the empty database file ourselves is enough.
"""
import os
import secrets
from pathlib import Path

from sqlalchemy.engine import make_url

PRIVATE_MODE = 0o600


def ensure_private_file(path: str | os.PathLike) -> Path:
    """Create `path` empty with mode 0600 unless it exists (an existing file is left alone).

    SQLite opens an empty file as a new database, so this runs before anything opens one.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, PRIVATE_MODE)
    except FileExistsError:
        return path
    os.close(fd)
    return path


def write_private_file_once(path: str | os.PathLike, content: str) -> str:
    """Write `content` to `path` (mode 0600) unless the file exists; return what it holds.

    The content goes to a private temporary file first and is linked into place, which
    fails if the file exists: several processes starting at once (gunicorn workers) all
    end up reading the one value that won, never a half-written or a second one.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
        fd = os.open(temporary, os.O_CREAT | os.O_EXCL | os.O_WRONLY, PRIVATE_MODE)
        with os.fdopen(fd, "w") as handle:
            handle.write(content)
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process was first: use its value
        except OSError:  # a filesystem without hard links: create it exclusively instead
            _create_exclusively(path, content)
        finally:
            temporary.unlink()
    return path.read_text()


def _create_exclusively(path: Path, content: str) -> None:
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, PRIVATE_MODE)
    except FileExistsError:
        return
    with os.fdopen(fd, "w") as handle:
        handle.write(content)


def sqlite_file(uri: str) -> Path | None:
    """The file behind a SQLite SQLAlchemy URL; None for another database or :memory:."""
    url = make_url(uri)
    if url.get_backend_name() != "sqlite":
        return None
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return None
    return Path(database)
