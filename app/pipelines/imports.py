"""CSV import and export of contacts, leads and deals.

Each kind registers an `ImportSpec`: the columns it exports (which are also the fields
an import can fill, so an export imports back as the same rows), how a row is matched
to an existing record (by e-mail), and the service functions that create and update.
An import is uploaded, mapped (CSV column -> field, with a preview), then run by a job
in batches: every row is written through the kind's service in its own savepoint, so a
bad row is reported with its number and never stops or half-writes the others.
"""
import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from huey import crontab
from sqlalchemy import select

from app.core.csv_export import FORMULA_PREFIXES
from app.core.errors import Conflict, DomainError, NotFound, ValidationFailed
from app.core.jobs import enqueue_after_commit, job, periodic_job
from app.core.models import utcnow
from app.core.permissions import Actor, actor_for, require
from app.extensions import db
from app.pipelines.models import ImportJob
from app.team.models import User

MODES = ("update", "skip")
BATCH_SIZE = 200
PREVIEW_ROWS = 5
MAX_REPORTED_ERRORS = 500


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
    text = decode_upload(raw)
    headers, rows = read_rows(text)
    if not headers:
        raise ValidationFailed({"file": ["The file is empty."]})
    if not rows:
        raise ValidationFailed({"file": ["The file has a header row but no data rows."]})
    if len(set(headers)) != len(headers):
        raise ValidationFailed({"file": ["Two columns of the file have the same name; rename one and try again."]})
    upload = ImportJob(kind=spec.kind, filename=(filename or "import.csv")[:255], content=text, status="mapping",
                       mapping=guess_mapping(spec, headers), total_rows=len(rows), created_by_id=actor.user.id)
    db.session.add(upload)
    db.session.flush()
    return upload


def get_import(actor: Actor, import_id: int) -> ImportJob:
    require(actor, "crm.import")
    upload = db.session.get(ImportJob, import_id)
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


@periodic_job(crontab(minute="*/5"))
def restart_stalled_imports() -> None:
    """Imports whose enqueue was lost, or whose worker died mid-file, start again
    (run_import resumes after the last committed batch)."""
    cutoff = utcnow() - timedelta(minutes=5)
    stalled = db.session.execute(
        select(ImportJob.id, ImportJob.business_id)
        .where(ImportJob.status.in_(("queued", "running")), ImportJob.updated_at < cutoff)
        .execution_options(all_tenants=True)
    ).all()
    for import_id, business_id in stalled:
        run_import(import_id, business_id=business_id)


@job(retries=2, retry_delay=30)
def run_import(import_id: int, business_id: int) -> None:
    """Import the rows not yet processed; safe to run again (it resumes where it stopped)."""
    upload = db.session.get(ImportJob, import_id)
    if upload is None or upload.status in ("done", "failed"):
        return
    user = db.session.get(User, upload.created_by_id) if upload.created_by_id else None
    if user is None:
        _finish(upload, failure="The person who started this import no longer exists.")
        return
    actor = actor_for(user)
    spec = importer(upload.kind)
    headers, rows = read_rows(upload.content)
    upload.status = "running"
    upload.total_rows = len(rows)
    db.session.commit()
    while upload.processed_rows < len(rows):
        start = upload.processed_rows
        for offset, row in enumerate(rows[start:start + BATCH_SIZE]):
            # Row numbers as a spreadsheet shows them: the header is row 1.
            _import_row(upload, spec, actor, start + offset + 2, _mapped(headers, row, upload.mapping))
        upload.processed_rows = min(len(rows), start + BATCH_SIZE)
        db.session.commit()  # progress is visible to the page polling it
    _finish(upload)


def _import_row(upload: ImportJob, spec: ImportSpec, actor: Actor, number: int, values: dict) -> None:
    values = spec.as_data(values)
    savepoint = db.session.begin_nested()
    try:
        match = values.get(spec.match_field)
        existing = spec.find(actor, match) if match else None
        if existing is not None and upload.mode == "skip":
            upload.skipped_count += 1
        elif existing is not None:
            spec.update(actor, existing, values)
            upload.updated_count += 1
        else:
            spec.create(actor, values)
            upload.created_count += 1
        savepoint.commit()
    except DomainError as exc:
        savepoint.rollback()
        upload.error_count += 1
        if len(upload.errors) < MAX_REPORTED_ERRORS:
            errors = getattr(exc, "errors", None) or {"row": [exc.message]}
            upload.errors = [*upload.errors, {"row": number, "errors": errors}]


def _finish(upload: ImportJob, failure: str | None = None) -> None:
    upload.status = "failed" if failure else "done"
    upload.failure = failure
    upload.finished_at = utcnow()
    db.session.flush()


def recent_imports(actor: Actor, limit: int = 10) -> list[ImportJob]:
    require(actor, "crm.import")
    stmt = select(ImportJob).order_by(ImportJob.created_at.desc(), ImportJob.id.desc()).limit(limit)
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
