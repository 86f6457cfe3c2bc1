"""/api/v1/exports: CSV exports too large for one response, built by the worker into a file.

A list's `format=csv` streams up to EXPORT_STREAM_LIMIT rows (10,000 by default) in the
response. A larger one answers 202 with `Location: /api/v1/exports/{id}` and the job; the
client polls it until `status` is `completed`, then GETs `download_url`. A job that fails
says `failed` with its `error` and never has a file, so a cut export never looks complete.
The worker reads the rows with the abilities of the token that asked (the job keeps them),
so a job's file has exactly the rows that token's `format=csv` has.
"""
from flask import jsonify, request, send_file, url_for
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates

from app.api.base import Blueprint, current_actor, produces_csv
from app.api.schemas import UtcDateTime, envelope
from app.pipelines import exports as services
from app.pipelines.exports import CsvExport

blp = Blueprint("api_exports", __name__, url_prefix="/exports",
                description="CSV exports built by the worker: start one, poll its progress, download the file.")

STATUSES = ["queued", "running", "completed", "failed", "expired"]


class ExportSchema(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    layout = fields.String(required=True, metadata={"enum": list(services.LAYOUTS)})
    status = fields.String(required=True, metadata={"enum": STATUSES})
    rows_total = fields.Integer(required=True)
    rows_done = fields.Integer(required=True)
    percent = fields.Integer(required=True)
    error = fields.String(allow_none=True, required=True, metadata={"description": "Why a failed export failed."})
    download_url = fields.Method("_download_url", required=True, allow_none=True,
                                 metadata={"type": "string", "nullable": True,
                                           "description": "Where to GET the CSV once `status` is completed."})
    created_at = UtcDateTime(required=True)
    finished_at = UtcDateTime(allow_none=True, required=True)
    expires_at = UtcDateTime(allow_none=True, required=True, metadata={"description": "When the file is deleted."})

    def _download_url(self, export):
        if export.status != "completed":
            return None
        return url_for("api_exports.download_export", export_id=export.id, _external=True)


class ExportArgs(Schema):
    class Meta:
        unknown = EXCLUDE

    kind = fields.String(required=True, validate=validate.OneOf(
        ["contacts", "accounts", "leads", "deals", "activities"], error="The selected kind is invalid."),
        metadata={"description": "contacts, accounts, leads, deals or activities."})
    layout = fields.String(load_default="list", validate=validate.OneOf(
        services.LAYOUTS, error="The selected layout is invalid."),
        metadata={"description": "list: the columns of the list's format=csv (default); import: the columns"
                                 " an import reads back (contacts, leads, deals; every visible record)."})
    filters = fields.Dict(keys=fields.String(), load_default=dict, metadata={
        "description": "The list's query parameters, e.g. {\"status\": \"won\", \"q\": \"acme\", \"sort\": \"-value\"}"
                       "; a value is a string or a list of strings."})

    @validates("filters")
    def _strings(self, value, **kwargs):
        for item in value.values():
            items = item if isinstance(item, list) else [item]
            if not all(isinstance(v, str) and len(v) <= 200 for v in items):
                raise ValidationError("Each filter must be a string or a list of strings.")


def _job_answer(export):
    body = jsonify({"data": ExportSchema().dump(export)})
    body.status_code = 202
    body.headers["Location"] = url_for("api_exports.get_export", export_id=export.id)
    return body


def csv_or_job(kind: str):
    """A list's `format=csv`: the CSV streamed when small, else 202 and the export job."""
    from app.core.csv_export import csv_response

    result = services.export_now_or_later(current_actor(), kind, request.args)
    if isinstance(result, CsvExport):
        return csv_response(result.columns, result.rows, result.filename)
    return _job_answer(result)


LOCATION_HEADER = {"Location": {"description": "The export job's URL (poll it).", "schema": {"type": "string"}}}


def documents_export_job(blp_):
    """Document a list's 202 answer (its format=csv was too large to stream)."""
    return blp_.alt_response(202, schema=envelope(ExportSchema), headers=LOCATION_HEADER, description=(
        "format=csv with more rows than the server streams (10,000 by default): an export job was"
        " started; poll `Location` until it completes, then download the file."))


@blp.post("")
@blp.arguments(ExportArgs)
@blp.response(202, envelope(ExportSchema), headers=LOCATION_HEADER)
@blp.forbidden_unless_permitted
def create_export(args):
    """Start a CSV export of a list, however large. Answers 202 with `Location`; poll it. Needs
    `crm.export` and the list's view permission. The rows are the ones you may see when it runs."""
    export = services.start_export(current_actor(), args["kind"], args["filters"], args["layout"])
    return {"data": export}, 202, {"Location": url_for("api_exports.get_export", export_id=export.id)}


@blp.get("/<id:export_id>")
@blp.response(200, envelope(ExportSchema))
@blp.forbidden_unless_permitted
def get_export(export_id):
    """An export's status and progress. Only the person who started it sees it (others: 404).
    Needs `crm.export`."""
    return {"data": services.get_export(current_actor(), export_id)}


@blp.get("/<id:export_id>/download")
@produces_csv
@blp.response(200, description="The CSV file (UTF-8 with a BOM).", content_type="text/csv")
@blp.doc(responses={"200": {"description": "The CSV file (UTF-8 with a BOM).", "content": {
    "text/csv": {"schema": {"type": "string", "description": "UTF-8 CSV with a BOM."}}}}})
@blp.alt_response(409, response="CONFLICT", description="The export is not finished, failed, or expired.")
@blp.forbidden_unless_permitted
def download_export(export_id):
    """The finished export's file. 409 while it runs, after it failed, or once the file expired."""
    export, path = services.export_file(current_actor(), export_id)
    return send_file(path, mimetype="text/csv", as_attachment=True, download_name=export.filename,
                     max_age=0, conditional=False, etag=False)
