"""CSV exports of CRM records: who may export, and exports too long for one request.

Every CSV of contacts, accounts, leads, deals and activities comes from here: the API's
`format=csv`, the lists' export links and bulk "export", and the Import/Export page. Each
first checks the list's export permission (`crm.export`, see app.core.exports).

A small export (at most EXPORT_STREAM_LIMIT rows) streams in the response, which ends
well within gunicorn's worker timeout. A larger one becomes an `ExportJob`: the worker
writes the file under a temporary name, renames it into place only once every row is
in, and the page (or the API client) polls the job and downloads the finished file. So
an export is never cut by the timeout, and a failed one never looks complete.
"""
import logging
import os
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

from flask import current_app
from huey import crontab
from sqlalchemy import select, update
from werkzeug.datastructures import MultiDict

from app.core.csv_export import write_csv
from app.core.errors import Conflict, DomainError, NotFound, ValidationFailed
from app.core.exports import require_export
from app.core.jobs import enqueue_after_commit, job, periodic_job
from app.core.listing import ListSpec
from app.core.models import utcnow
from app.core.permissions import Actor, actor_for, stored_abilities
from app.core.sqlite import read_only_transaction, write_from_here
from app.extensions import db
from app.pipelines.models import ExportJob
from app.team.models import User

log = logging.getLogger(__name__)

LAYOUTS = ("list", "import")
PROGRESS_EVERY = 1000  # rows between progress updates of a running job
FINISHED = ("completed", "failed", "expired")


@dataclass
class ExportKind:
    """One exportable list. `args` is the list's query string (a MultiDict): the filters,
    search and sort the export applies, parsed the way the list parses them."""

    kind: str                                   # "contacts"
    label: str                                  # "Contacts"
    spec: ListSpec                              # the list: its export permission
    columns: Callable[[], list[str]]            # () -> the CSV's columns (the API's format=csv columns)
    rows: Callable[[Actor, MultiDict], Iterable[dict]]   # every matching record as a row, streamed
    count: Callable[[Actor, MultiDict], int]    # how many rows `rows` gives
    selected: Callable[[Actor, list[int]], Iterable[dict]]  # the visible records among ids, as rows


EXPORT_KINDS: dict[str, ExportKind] = {}


def register_export_kind(kind: ExportKind) -> None:
    EXPORT_KINDS[kind.kind] = kind


def export_kind(name: str) -> ExportKind:
    if name not in EXPORT_KINDS:
        raise NotFound()
    return EXPORT_KINDS[name]


@dataclass
class CsvExport:
    """An export small enough to stream in the response."""

    columns: list[str]
    rows: Iterable[dict]
    filename: str


# --- the rows of an export ----------------------------------------------------------------

def _as_args(args) -> MultiDict:
    if isinstance(args, MultiDict):
        return args
    return MultiDict([(k, v) for k, values in (args or {}).items()
                      for v in (values if isinstance(values, (list, tuple)) else [values])])


def _source(actor: Actor, kind: ExportKind, args: MultiDict, layout: str) -> tuple[list[str], Iterable[dict]]:
    """The columns and rows of an export, after the permission check."""
    require_export(actor, kind.spec)
    if layout == "import":
        # The Import/Export page's file: every visible record, in the columns an import reads back.
        from app.pipelines.imports import importer

        spec = importer(kind.kind)
        return spec.export_columns(), spec.export_rows(actor)
    return kind.columns(), kind.rows(actor, args)


def _count(actor: Actor, kind: ExportKind, args: MultiDict, layout: str) -> int:
    return kind.count(actor, MultiDict() if layout == "import" else args)


def stream_limit() -> int:
    return int(current_app.config.get("EXPORT_STREAM_LIMIT", 10_000))


def export_now_or_later(actor: Actor, kind_name: str, args, layout: str = "list") -> CsvExport | ExportJob:
    """A CSV to stream now when it is small, else a queued `ExportJob` (the caller answers
    202 / shows the progress page). Raises Forbidden without the export permission."""
    kind = export_kind(kind_name)
    args = _as_args(args)
    require_export(actor, kind.spec)
    total = _count(actor, kind, args, layout)  # also checks the view permission and the filters
    if total > stream_limit():
        return _queue(actor, kind, args, layout, total)
    columns, rows = _source(actor, kind, args, layout)
    return CsvExport(columns, rows, f"{kind.kind}.csv")


def export_selected(actor: Actor, kind_name: str, ids: list[int]) -> CsvExport:
    """The ticked records of a list (a bulk export: at most a page of ids, so it streams)."""
    kind = export_kind(kind_name)
    require_export(actor, kind.spec)
    # A list now: the request commits (expiring the records) before the body streams.
    return CsvExport(kind.columns(), list(kind.selected(actor, ids)), f"{kind.kind}-selected.csv")


# --- export jobs ----------------------------------------------------------------------------

def start_export(actor: Actor, kind_name: str, args, layout: str = "list") -> ExportJob:
    """Queue an export however many rows it has (POST /api/v1/exports)."""
    if kind_name not in EXPORT_KINDS:
        raise ValidationFailed({"kind": [f"The kind must be one of: {', '.join(EXPORT_KINDS)}."]})
    if layout not in LAYOUTS:
        raise ValidationFailed({"layout": ["The layout must be list or import."]})
    kind = export_kind(kind_name)
    args = _as_args(args)
    require_export(actor, kind.spec)
    return _queue(actor, kind, args, layout, _count(actor, kind, args, layout))


def _queue(actor: Actor, kind: ExportKind, args: MultiDict, layout: str, total: int) -> ExportJob:
    write_from_here()  # a large CSV GET queues its export: write in a transaction that holds the lock
    export = ExportJob(kind=kind.kind, layout=layout, params=args.to_dict(flat=False), status="queued",
                       rows_total=total, created_by_id=actor.user.id, abilities=stored_abilities(actor))
    db.session.add(export)
    db.session.flush()
    enqueue_after_commit(run_export, export.id, business_id=export.business_id)
    return export


def get_export(actor: Actor, export_id: int) -> ExportJob:
    """An export job of this business that `actor` started (its rows are what *they* may
    see, so nobody else gets the file); anything else is a 404."""
    export = db.session.get(ExportJob, export_id)
    if export is None or export.created_by_id != actor.user.id:
        raise NotFound()
    require_export(actor, export_kind(export.kind).spec)
    return export


def export_file(actor: Actor, export_id: int) -> tuple[ExportJob, Path]:
    """The finished file of an export; a 409 while it runs or after it failed or expired."""
    export = get_export(actor, export_id)
    if export.status != "completed" or not export.file_path or not Path(export.file_path).is_file():
        raise Conflict(_not_ready_message(export))
    return export, Path(export.file_path)


def _not_ready_message(export: ExportJob) -> str:
    if export.status == "failed":
        return "This export failed; there is no file to download. Start it again."
    if export.status in ("expired", "completed"):
        return "This export's file has expired. Start it again."
    return "This export is not finished yet."


def recent_exports(actor: Actor, limit: int = 10) -> list[ExportJob]:
    """The export jobs `actor` started, newest first (none without crm.export)."""
    if not actor.can("crm.export"):
        return []
    stmt = (select(ExportJob).where(ExportJob.created_by_id == actor.user.id)
            .order_by(ExportJob.created_at.desc(), ExportJob.id.desc()).limit(limit))
    return [e for e in db.session.scalars(stmt) if e.kind in EXPORT_KINDS]


def _export_dir(business_id: int) -> Path:
    directory = Path(current_app.config["EXPORT_DIR"]) / str(business_id)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    return directory


def _set_progress(export_id: int, rows_done: int) -> None:
    # On a connection of its own: the job's session is reading the rows through an open
    # cursor, which a commit there would close.
    with db.engine.begin() as conn:
        conn.execute(update(ExportJob.__table__).where(ExportJob.__table__.c.id == export_id)
                     .values(rows_done=rows_done, updated_at=utcnow()))


def _counted(rows: Iterable[dict], export_id: int, written: list[int]):
    """The rows, counting them into written[0] and saving the progress as they go."""
    for row in rows:
        yield row
        written[0] += 1
        if written[0] % PROGRESS_EVERY == 0:
            _set_progress(export_id, written[0])


@job()
def run_export(export_id: int, business_id: int) -> None:
    """Write the export's file; on any error mark the job failed and leave no file."""
    export = db.session.get(ExportJob, export_id)
    if export is None or export.status in FINISHED:
        return
    final = _export_dir(business_id) / f"{uuid.uuid4().hex}.csv"
    partial = final.with_suffix(".part")
    try:
        user = db.session.get(User, export.created_by_id) if export.created_by_id else None
        if user is None or not user.is_active:
            raise DomainError("The person who started this export can no longer sign in.")
        actor = actor_for(user, export.abilities)  # as narrow as the credential that asked
        kind = export_kind(export.kind)
        args = _as_args(export.params)
        export.status, export.rows_done = "running", 0
        export.rows_total = _count(actor, kind, args, export.layout)
        db.session.commit()
        read_only_transaction(db.session)  # progress is saved beside it (_set_progress)
        columns, rows = _source(actor, kind, args, export.layout)
        written = [0]
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with open(fd, "w", encoding="utf-8", newline="") as file:
            write_csv(file, columns, _counted(rows, export_id, written))
        os.replace(partial, final)  # only now is there a file: a whole one
    except Exception as exc:  # noqa: BLE001 - any failure must end as "failed", never as a file
        partial.unlink(missing_ok=True)
        _fail(export_id, exc)
        return
    _complete(export_id, final, written[0])


def _complete(export_id: int, path: Path, rows: int) -> None:
    db.session.rollback()  # end the reading transaction; the job row is read afresh
    export = db.session.get(ExportJob, export_id)
    now = utcnow()
    export.status, export.file_path, export.finished_at = "completed", str(path), now
    export.rows_done = export.rows_total = rows
    export.expires_at = now + timedelta(hours=int(current_app.config.get("EXPORT_KEEP_HOURS", 24)))
    db.session.flush()


def _fail(export_id: int, exc: Exception) -> None:
    db.session.rollback()
    if isinstance(exc, DomainError):
        message = exc.message
    else:
        log.exception("export %s failed", export_id)
        message = "The export failed before it was complete; no file was kept. Try again, or ask an administrator."
    export = db.session.get(ExportJob, export_id)
    export.status, export.error, export.finished_at, export.file_path = "failed", message[:500], utcnow(), None
    db.session.commit()


@periodic_job(crontab(minute="*/15"))
def remove_expired_exports() -> None:
    """Delete the files of exports past their expiry (the job row stays, as "expired"), and
    fail exports whose worker died mid-file (their partial file never became a download)."""
    now = utcnow()
    expired = db.session.scalars(
        select(ExportJob).where(ExportJob.status == "completed", ExportJob.expires_at < now)
        .execution_options(all_tenants=True)
    ).all()
    for export in expired:
        if export.file_path:
            Path(export.file_path).unlink(missing_ok=True)
        export.status, export.file_path = "expired", None
    stalled = db.session.scalars(
        select(ExportJob).where(ExportJob.status.in_(("queued", "running")),
                                ExportJob.updated_at < now - timedelta(hours=1))
        .execution_options(all_tenants=True)
    ).all()
    for export in stalled:
        export.status, export.finished_at = "failed", now
        export.error = "The export stopped before it was complete; no file was kept. Start it again."
    _remove_abandoned_partial_files(now - timedelta(hours=1))
    db.session.flush()


def _remove_abandoned_partial_files(older_than) -> None:
    """Half-written files of workers that died mid-export (a live job touches its file
    every few hundred rows)."""
    root = Path(current_app.config["EXPORT_DIR"])
    if not root.is_dir():
        return
    for partial in root.glob("*/*.part"):
        if partial.stat().st_mtime < older_than.timestamp():
            partial.unlink(missing_ok=True)


def count_of(list_fn, actor: Actor, params, *extra) -> int:
    """How many rows a list has: its first page's total (one COUNT with the list's own
    visibility, filters and search)."""
    return list_fn(actor, replace(params, page=1, per_page=1), *extra).total
