"""CSV import and export of contacts, leads and deals.

Each kind registers an `ImportSpec`: the columns it exports (which are also the fields
an import can fill, so an export imports back as the same rows), how a row is matched
to an existing record (by e-mail), and the service functions that create and update.
An import is uploaded, mapped (CSV column -> field, with a preview), then run by a job
in batches: every row is written through the kind's service in its own savepoint, so a
bad row is reported with its number and never stops or half-writes the others.

Exactly once, however often the job runs or dies:
- a batch, its counts and the checkpoint (`processed_rows`) commit in one transaction, so
  a run that dies mid-batch leaves nothing of it, and the next run starts at the checkpoint;
- every record an import creates carries its `import_id` and `import_row` (unique
  together), so a replayed row is recognised and can never become a second record;
- one runner at a time: a run claims the import (a lease token) and re-checks the claim,
  with the import's row locked, at the start of every batch;
- each batch is a heartbeat. A running import whose heartbeat is older than
  IMPORT_STALL_SECONDS lost its runner; the sweep (every minute, and when a worker starts)
  runs it again and the new run takes the lease over.
"""
import csv
import io
import logging
import re
import time
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app
from huey import crontab
from sqlalchemy import event, or_, select, update
from sqlalchemy.orm import Session

from app.core.csv_export import FORMULA_PREFIXES
from app.core.errors import Conflict, DomainError, Forbidden, NotFound, ValidationFailed
from app.core.jobs import enqueue_after_commit, job, periodic_job
from app.core.models import utcnow
from app.core.permissions import Actor, actor_for, require, stored_abilities
from app.extensions import db, huey
from app.pipelines.models import ImportedRowMixin, ImportJob
from app.team.models import User

log = logging.getLogger(__name__)

MODES = ("update", "skip")
BATCH_SIZE = 200
PREVIEW_ROWS = 5
MAX_REPORTED_ERRORS = 500
# Python's csv module refuses a cell over 131,072 characters with an exception (it was a
# 500). Files are read with no such limit (uploads are capped by MAX_CONTENT_LENGTH) and
# a mapped cell over this length is that row's error instead, naming row and column.
MAX_CELL_CHARS = 131_072
csv.field_size_limit(max(csv.field_size_limit(), 2**31 - 1))
# Between batches on SQLite the worker lets go of the write lock this long, so the web
# app's writes (whose busy handler retries at most every 100 ms) are not starved.
SQLITE_BATCH_PAUSE = 0.1


@dataclass
class ImportSpec:
    kind: str                      # "contacts"
    label: str                     # "Contacts"
    fields: Callable               # () -> the fields an import can fill (custom fields as cf_<key>)
    export_columns: Callable       # () -> the export's columns: the fields plus read-only ones (id, names)
    find: Callable                 # (actor, match value) -> record or None
    create: Callable               # (actor, data) -> record
    update: Callable               # (actor, record, data) -> record
    export_rows: Callable          # (actor) -> iterable of dicts keyed by export_columns
    create_permission: str
    model: type | None = None      # the record class (carries import_id / import_row)
    match_field: str = "email"
    required: tuple = ()
    aliases: dict[str, str] = field(default_factory=dict)  # normalised header -> field

    def as_data(self, values: dict) -> dict:
        """A mapped row as the service takes it: blank cells left out (an import never
        erases what a record has), `cf_<key>` columns gathered into custom_fields."""
        data, custom = {}, {}
        for name, value in values.items():
            if value in (None, ""):
                continue
            if name.startswith("cf_"):
                custom[name[3:]] = value
            else:
                data[name] = value
        if custom:
            data["custom_fields"] = custom
        return data


IMPORTERS: dict[str, ImportSpec] = {}


def register_importer(spec: ImportSpec) -> None:
    IMPORTERS[spec.kind] = spec


def importer(kind: str) -> ImportSpec:
    if kind not in IMPORTERS:
        raise NotFound()
    return IMPORTERS[kind]




# --- reading a file -------------------------------------------------------------------

def decode_upload(raw: bytes) -> str:
    """UTF-8 (with or without a BOM), else Windows-1252, which is what Excel writes."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def _dialect(text: str):
    try:
        return csv.Sniffer().sniff(text[:4096], delimiters=",;\t|")
    except csv.Error:
        return csv.excel


def read_rows(text: str) -> tuple[list[str], list[list[str]]]:
    reader = csv.reader(io.StringIO(text, newline=""), _dialect(text))
    rows = [row for row in reader if any(cell.strip() for cell in row)]
    if not rows:
        return [], []
    return [h.strip() for h in rows[0]], rows[1:]


MAX_REPORTED_NUL_CELLS = 5


def refuse_nul_characters(headers: list[str], rows: list[list[str]]) -> None:
    """A file with a NUL character is refused at upload, naming where, as the API and the
    forms refuse one in any request (app.core.web.reject_nul_characters): nothing is
    silently changed, and the file, which import_jobs.content keeps until the import is
    done, never reaches PostgreSQL (which cannot store NUL in text)."""
    places = []
    for number, row in enumerate([headers, *rows], start=1):
        for index, cell in enumerate(row):
            if "\x00" in cell:
                column = headers[index] if index < len(headers) and number > 1 else f"{index + 1}"
                places.append(f"row {number}, column \u201c{column.replace(chr(0), '')}\u201d")
    if places:
        shown = "; ".join(places[:MAX_REPORTED_NUL_CELLS]) + ("; \u2026" if len(places) > MAX_REPORTED_NUL_CELLS else "")
        raise ValidationFailed({"file": [
            f"The file contains a NUL character, which is not allowed ({shown}). Remove it and upload the file again."]})


def unguard(value: str) -> str:
    """Undo the export's formula guard: "'=1+2" was exported from "=1+2"."""
    if len(value) > 1 and value[0] == "'" and value[1:].startswith(FORMULA_PREFIXES + ("'",)):
        return value[1:]
    return value


def _normalise(header: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", header.lower()).strip("_")


def guess_mapping(spec: ImportSpec, headers: list[str]) -> dict[str, str]:
    """CSV column -> field for the columns whose name says which field they are."""
    mapping = {}
    taken = set()
    fields = spec.fields()
    for header in headers:
        key = _normalise(header)
        target = key if key in fields else spec.aliases.get(key)
        if target and target not in taken:
            mapping[header] = target
            taken.add(target)
    return mapping


# --- the import -----------------------------------------------------------------------

def start_import(actor: Actor, kind: str, filename: str, raw: bytes) -> ImportJob:
    require(actor, "crm.import")
    if kind not in IMPORTERS:
        raise ValidationFailed({"kind": [f"The kind must be one of: {', '.join(IMPORTERS)}."]})
    spec = importer(kind)
    require(actor, spec.create_permission)
    if not raw:
        raise ValidationFailed({"file": ["Choose a CSV file to import."]})
    if "\x00" in (filename or ""):
        raise ValidationFailed({"file": ["The file's name contains a NUL character, which is not allowed."]})
    text = decode_upload(raw)
    headers, rows = read_rows(text)
    if not headers:
        raise ValidationFailed({"file": ["The file is empty."]})
    if not rows:
        raise ValidationFailed({"file": ["The file has a header row but no data rows."]})
    if len(set(headers)) != len(headers):
        raise ValidationFailed({"file": ["Two columns of the file have the same name; rename one and try again."]})
    refuse_nul_characters(headers, rows)
    upload = ImportJob(kind=spec.kind, filename=(filename or "import.csv")[:255], content=text, status="mapping",
                       mapping=guess_mapping(spec, headers), total_rows=len(rows), created_by_id=actor.user.id,
                       abilities=stored_abilities(actor))
    db.session.add(upload)
    db.session.flush()
    return upload


def get_import(actor: Actor, import_id: int) -> ImportJob:
    """An import of the actor's own: its file holds rows they chose to share with nobody
    else, and it runs with its uploader's permissions, so a colleague who could map and
    start it would act with those (another's import is a 404, as exports are)."""
    require(actor, "crm.import")
    upload = db.session.scalar(select(ImportJob).where(ImportJob.id == import_id,
                                                       ImportJob.created_by_id == actor.user.id))
    if upload is None:
        raise NotFound()
    return upload


def preview(upload: ImportJob, mapping: dict | None = None) -> tuple[list[str], list[dict]]:
    """The first rows as they would be imported: field -> value."""
    headers, rows = read_rows(upload.content)
    mapping = upload.mapping if mapping is None else mapping
    return headers, [_mapped(headers, row, mapping) for row in rows[:PREVIEW_ROWS]]


def _mapped(headers: list[str], row: list[str], mapping: dict) -> dict:
    values = {}
    for index, header in enumerate(headers):
        target = mapping.get(header)
        if target and index < len(row):
            values[target] = unguard(row[index].strip())
    return values


def _overlong_cells(headers: list[str], row: list[str], mapping: dict) -> dict[str, list[str]]:
    """The mapped cells too long for any field, as a row's errors: field -> message."""
    errors = {}
    for index, header in enumerate(headers):
        target = mapping.get(header)
        if target and index < len(row) and len(row[index]) > MAX_CELL_CHARS:
            errors[target] = [f"The \u201c{header}\u201d cell has {len(row[index]):,} characters; a cell can hold"
                              f" at most {MAX_CELL_CHARS:,}."]
    return errors


def clean_mapping(spec: ImportSpec, headers: list[str], chosen: dict) -> dict:
    mapping = {h: f for h, f in chosen.items() if h in headers and f}
    errors: dict[str, list[str]] = {}
    unknown = sorted({f for f in mapping.values() if f not in spec.fields()})
    if unknown:
        errors["mapping"] = [f"Unknown field: {', '.join(unknown)}."]
    targets = list(mapping.values())
    doubled = sorted({f for f in targets if targets.count(f) > 1})
    if doubled:
        errors["mapping"] = [f"Each field can take one column only: {', '.join(doubled)}."]
    missing = [f for f in spec.required if f not in targets]
    if missing and not errors:
        errors["mapping"] = [f"Choose a column for: {', '.join(missing)}."]
    if not mapping and not errors:
        errors["mapping"] = ["Choose at least one column to import."]
    if errors:
        raise ValidationFailed(errors)
    return mapping


def queue_import(actor: Actor, import_id: int, chosen: dict, mode: str) -> ImportJob:
    """Save the mapping and hand the import to the worker (after this request commits)."""
    upload = get_import(actor, import_id)
    if upload.status != "mapping":
        raise Conflict("This import has already started.")
    if mode not in MODES:
        raise ValidationFailed({"mode": ["The mode must be update or skip."]})
    headers, _ = read_rows(upload.content)
    upload.mapping = clean_mapping(importer(upload.kind), headers, chosen)
    upload.mode = mode
    upload.status = "queued"
    db.session.flush()
    enqueue_after_commit(run_import, upload.id, business_id=upload.business_id)
    return upload


def stall_seconds() -> int:
    return int(current_app.config.get("IMPORT_STALL_SECONDS", 60))


def stalled_imports() -> list[tuple[int, int]]:
    """(id, business) of imports nobody is working on: queued but never started (the
    enqueue after commit was lost), or running with a heartbeat older than the stall time."""
    cutoff = utcnow() - timedelta(seconds=stall_seconds())
    stmt = (
        select(ImportJob.id, ImportJob.business_id)
        .where(ImportJob.status.in_(("queued", "running")),
               or_(ImportJob.heartbeat_at < cutoff, ImportJob.heartbeat_at.is_(None) & (ImportJob.updated_at < cutoff)))
        .order_by(ImportJob.id)
        .execution_options(all_tenants=True)
    )
    return [tuple(row) for row in db.session.execute(stmt)]


@periodic_job(crontab(minute="*"))
def restart_stalled_imports() -> None:
    """Run stalled imports again; run_import resumes from the checkpoint, and its lease
    keeps a runner that is merely slow from being joined by a second one."""
    for import_id, business_id in stalled_imports():
        log.warning("import %s stalled; resuming it", import_id)
        enqueue_after_commit(run_import, import_id, business_id=business_id)


@huey.on_startup()
def resume_stalled_imports_on_start() -> None:
    """A worker that starts (after a crash, a deploy) picks up stalled imports at once
    rather than at the next minute's sweep."""
    try:
        restart_stalled_imports.call_local()
    except Exception:  # the minute's sweep will try again; never stop the worker starting
        log.exception("could not look for stalled imports")


@job(retries=2, retry_delay=30)
def run_import(import_id: int, business_id: int) -> None:
    """Import the rows after the checkpoint, batch by batch. Safe to run any number of
    times, at once or after a crash: see the module's docstring."""
    token = uuid.uuid4().hex
    if not _claim(import_id, token):
        return  # finished, or another runner holds a live lease
    try:
        _run_claimed(import_id, token)
    except Exception:
        db.session.rollback()
        _release(import_id, token)  # a retry need not wait for the lease to go stale
        raise


def _claim(import_id: int, token: str) -> bool:
    now = utcnow()
    stale = now - timedelta(seconds=stall_seconds())
    claimed = db.session.execute(
        update(ImportJob)
        .where(ImportJob.id == import_id, ImportJob.status.in_(("queued", "running")),
               or_(ImportJob.lease_token.is_(None), ImportJob.heartbeat_at.is_(None), ImportJob.heartbeat_at < stale))
        .values(lease_token=token, heartbeat_at=now, status="running")
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return bool(claimed)


def _release(import_id: int, token: str) -> None:
    try:
        db.session.execute(update(ImportJob).where(ImportJob.id == import_id, ImportJob.lease_token == token)
                           .values(lease_token=None).execution_options(synchronize_session=False))
        db.session.commit()
    except Exception:  # the lease then expires with its heartbeat
        db.session.rollback()
        log.exception("could not release the lease of import %s", import_id)


def _run_claimed(import_id: int, token: str) -> None:
    upload = db.session.get(ImportJob, import_id)
    user = db.session.get(User, upload.created_by_id) if upload.created_by_id else None
    if user is None or not user.is_active:
        _finish(upload, failure="The person who started this import can no longer sign in, so it was not run.")
        db.session.commit()
        return
    spec = importer(upload.kind)
    headers, rows = read_rows(upload.content)
    # As narrow as the credential that started it (an API token's abilities), never the
    # whole role; the role alone (`reach`) only tells a row hidden from the token apart
    # from a row that matches nothing, so the former is refused rather than duplicated.
    batch = _Batch(import_id, token, spec, actor_for(user, upload.abilities), actor_for(user), headers, rows)
    db.session.commit()  # end the read: each batch is its own write transaction
    pause = SQLITE_BATCH_PAUSE if db.engine.dialect.name == "sqlite" else 0
    while batch.run_next():
        time.sleep(pause)


@dataclass
class _Batch:
    import_id: int
    token: str
    spec: ImportSpec
    actor: Actor
    reach: Actor
    headers: list[str]
    rows: list[list[str]]

    def run_next(self) -> bool:
        """Import the next batch and move the checkpoint, in one transaction. False when
        there is nothing more to do (finished, or the lease was lost)."""
        upload = _lock_import(self.import_id)
        if upload is None or upload.lease_token != self.token or upload.status != "running":
            db.session.rollback()  # taken over by another runner after we were presumed dead
            return False
        start = upload.processed_rows
        if start >= len(self.rows):
            upload.total_rows = len(self.rows)
            upload.lease_token = None
            _finish(upload)
            db.session.commit()
            return False
        end = min(len(self.rows), start + BATCH_SIZE)
        done = _rows_already_imported(self.spec, self.import_id, start + 2, end + 1)
        for index in range(start, end):
            # Row numbers as a spreadsheet shows them: the header is row 1.
            number = index + 2
            if number not in done:  # else an earlier run committed it, and its counts with it
                _import_row(upload, self.spec, self.actor, self.reach, number, self.headers,
                            self.rows[index])
        checkpoint(upload, end)
        db.session.commit()  # the rows, the counts and the checkpoint, together
        return True


def _lock_import(import_id: int) -> ImportJob | None:
    """The import, re-read and locked for this transaction: FOR UPDATE on PostgreSQL; on
    SQLite this first statement began the transaction with BEGIN IMMEDIATE (app.core.sqlite),
    which holds the database's write lock until commit."""
    stmt = (select(ImportJob).where(ImportJob.id == import_id).with_for_update()
            .execution_options(populate_existing=True))
    return db.session.scalar(stmt)


def checkpoint(upload: ImportJob, rows_done: int) -> None:
    """The rows before `rows_done` are imported; also the runner's heartbeat."""
    upload.processed_rows = rows_done
    upload.heartbeat_at = utcnow()
    db.session.flush()


def _rows_already_imported(spec: ImportSpec, import_id: int, first: int, last: int) -> set[int]:
    if spec.model is None:
        return set()
    stmt = select(spec.model.import_row).where(spec.model.import_id == import_id,
                                               spec.model.import_row.between(first, last))
    return set(db.session.scalars(stmt))


_MARK_KEY = "trellis_import_row_mark"


@contextmanager
def _marking_created_records(spec: ImportSpec, import_id: int, number: int):
    """The record the kind's service creates inside the block carries the import's id
    and the row's number (stamped before its INSERT, so no second write)."""
    if spec.model is None:
        yield
        return
    db.session.info[_MARK_KEY] = (spec.model, import_id, number)
    try:
        yield
    finally:
        db.session.info.pop(_MARK_KEY, None)


def _stamp_import_row(session, flush_context, instances) -> None:
    mark = session.info.get(_MARK_KEY)
    if mark is None:
        return
    model, import_id, number = mark
    for obj in session.new:
        if isinstance(obj, model) and isinstance(obj, ImportedRowMixin) and obj.import_id is None:
            obj.import_id, obj.import_row = import_id, number


def install_import_hooks() -> None:
    if not event.contains(Session, "before_flush", _stamp_import_row):
        event.listen(Session, "before_flush", _stamp_import_row)


def _import_row(upload: ImportJob, spec: ImportSpec, actor: Actor, reach: Actor, number: int,
                headers: list[str], row: list[str]) -> None:
    overlong = _overlong_cells(headers, row, upload.mapping)
    if overlong:
        _record_row_error(upload, number, overlong)
        return
    values = spec.as_data(_mapped(headers, row, upload.mapping))
    savepoint = db.session.begin_nested()
    try:
        match = values.get(spec.match_field)
        existing = spec.find(actor, match) if match else None
        if existing is None and match and actor.abilities is not None and spec.find(reach, match) is not None:
            # The user's role sees a record this row matches but their credential does not.
            raise Forbidden(_may_not("update", spec))
        if existing is not None and upload.mode == "skip":
            upload.skipped_count += 1
        elif existing is not None:
            _as_row_refusal(lambda: spec.update(actor, existing, values), "update", spec)
            upload.updated_count += 1
        else:
            with _marking_created_records(spec, upload.id, number):
                _as_row_refusal(lambda: spec.create(actor, values), "create", spec)
            upload.created_count += 1
        savepoint.commit()
    except DomainError as exc:
        savepoint.rollback()
        _record_row_error(upload, number, getattr(exc, "errors", None) or {"row": [exc.message]})


def _may_not(action: str, spec: ImportSpec) -> str:
    noun = spec.kind.removesuffix("s")  # "contacts" -> "contact"
    if action == "update":
        return f"You may not update the {noun} this row matches."
    return f"You may not {action} a {noun}."


def _as_row_refusal(write: Callable, action: str, spec: ImportSpec):
    """The service's write; its bare 403 ("Unauthorized") becomes a row error that says
    what was refused (a 403 with a message of its own keeps it)."""
    try:
        return write()
    except Forbidden as exc:
        if exc.message != Forbidden.default_message:
            raise
        raise Forbidden(_may_not(action, spec)) from exc


def _record_row_error(upload: ImportJob, number: int, errors: dict) -> None:
    upload.error_count += 1
    if len(upload.errors) < MAX_REPORTED_ERRORS:
        upload.errors = [*upload.errors, {"row": number, "errors": errors}]


def _finish(upload: ImportJob, failure: str | None = None) -> None:
    upload.status = "failed" if failure else "done"
    upload.failure = failure
    upload.finished_at = utcnow()
    upload.lease_token = None
    db.session.flush()


def recent_imports(actor: Actor, limit: int = 10) -> list[ImportJob]:
    require(actor, "crm.import")
    stmt = (select(ImportJob).where(ImportJob.created_by_id == actor.user.id)
            .order_by(ImportJob.created_at.desc(), ImportJob.id.desc()).limit(limit))
    return list(db.session.scalars(stmt))


def discard_import(actor: Actor, import_id: int) -> None:
    """Drop an upload that was never started (a started import is kept as a record)."""
    upload = get_import(actor, import_id)
    if upload.status != "mapping":
        raise Conflict("This import has already started.")
    db.session.delete(upload)
    db.session.flush()


def import_file(actor: Actor, kind: str, filename: str, raw: bytes, mapping: dict | None, mode: str) -> ImportJob:
    """Upload and start in one step (the API): the mapping given, or the one guessed from
    the column names."""
    upload = start_import(actor, kind, filename, raw)
    return queue_import(actor, upload.id, upload.mapping if mapping is None else mapping, mode)
