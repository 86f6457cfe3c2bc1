"""/api/v1/imports: CSV imports of contacts (and, as they land, leads and deals), run by the worker."""
from flask import url_for
from marshmallow import Schema, ValidationError, fields, validate, validates

from app.api.base import Blueprint, accepts_multipart, current_actor
from app.api.schemas import UtcDateTime, envelope
from app.core.errors import ValidationFailed
from app.core.json_input import loads_json
from app.pipelines import imports as services

blp = Blueprint("api_imports", __name__, url_prefix="/imports",
                description="CSV imports: upload a file; the worker imports it row by row and reports per-row errors."
                            " The worker acts with the token's abilities: a row matching a record the token"
                            " may not see or update is that row's error, and the record is left as it was.")


class ImportArgs(Schema):
    kind = fields.String(required=True, metadata={"description": "What the file holds: contacts, leads or deals."})
    mode = fields.String(load_default="update", validate=validate.OneOf(services.MODES),
                         metadata={"description": "Rows whose e-mail matches a record: update it (default) or skip."})
    mapping = fields.String(metadata={"description": "JSON object {\"CSV column\": \"field\"}. Left out: columns"
                                                     " named like a field (email, first_name, ...) are imported."})

    @validates("mapping")
    def _json_object(self, value, **kwargs):
        try:
            parsed = loads_json(value)
        except ValueError:  # not JSON, or nested deeper than a mapping can be
            raise ValidationError("The mapping must be a JSON object.") from None
        if not isinstance(parsed, dict) or not all(isinstance(v, str) for v in parsed.values()):
            raise ValidationError("The mapping must be a JSON object of column names to field names.")


class ImportFileArgs(Schema):
    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary",
                                               "description": "The CSV file (UTF-8 or Windows-1252; , ; or tab)."})


class RowErrorSchema(Schema):
    row = fields.Integer(required=True, metadata={"description": "The row number as a spreadsheet shows it"
                                                                 " (the header is row 1)."})
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()), required=True)


class ImportSchema(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    filename = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": ["mapping", "queued", "running", "done", "failed"]})
    mode = fields.String(required=True)
    mapping = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    total_rows = fields.Integer(required=True)
    processed_rows = fields.Integer(required=True)
    percent = fields.Integer(required=True)
    created_count = fields.Integer(required=True)
    updated_count = fields.Integer(required=True)
    skipped_count = fields.Integer(required=True)
    error_count = fields.Integer(required=True)
    errors = fields.List(fields.Nested(RowErrorSchema), required=True,
                         metadata={"description": "The rows that were not imported (the first 500)."})
    failure = fields.String(allow_none=True, required=True)
    created_at = UtcDateTime(required=True)
    finished_at = UtcDateTime(allow_none=True, required=True)


@blp.post("")
@accepts_multipart
@blp.arguments(ImportArgs, location="form")
@blp.arguments(ImportFileArgs, location="files")
@blp.response(202, envelope(ImportSchema))
@blp.forbidden_unless_permitted
def create_import(args, files):
    """Upload a CSV file and start importing it (multipart/form-data). Answers 202 at once; poll the
    import's URL until `status` is done. Needs `crm.import` and the kind's create permission."""
    upload = files["file"]
    if not hasattr(upload, "read"):
        raise ValidationFailed({"file": ["Choose a CSV file to import."]})
    mapping = loads_json(args["mapping"]) if "mapping" in args else None
    job = services.import_file(current_actor(), args["kind"], upload.filename or "", upload.read(), mapping,
                               args["mode"])
    return {"data": job}, 202, {"Location": url_for("api_imports.get_import", import_id=job.id)}


@blp.get("/<id:import_id>")
@blp.response(200, envelope(ImportSchema))
@blp.forbidden_unless_permitted
def get_import(import_id):
    """An import's progress, counts and per-row errors. Needs `crm.import`."""
    return {"data": services.get_import(current_actor(), import_id)}
