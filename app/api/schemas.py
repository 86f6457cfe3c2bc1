"""Envelopes and shared fields of the JSON API: `{data}`, `{data, meta, links}`, errors."""
from datetime import UTC
from functools import cache

from marshmallow import EXCLUDE, Schema, ValidationError, fields, pre_load, validate, validates_schema

from app.core.converters import MAX_ROW_ID
from app.core.models import isoformat


def _is_utf8(value) -> bool:
    try:
        for text in value if isinstance(value, list) else [value]:
            if isinstance(text, str):
                text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class ApiSchema(Schema):
    """Request bodies reject unknown fields (422 naming them); responses dump as given."""

    @pre_load
    def refuse_unpaired_surrogates(self, data, **kwargs):
        # JSON may spell one ("\ud800"); it is not UTF-8, so no database stores it (a 500).
        # NUL, the other such character, is refused app-wide (app.core.web).
        if hasattr(data, "items"):
            errors = {key: [f"The {str(key).replace('_', ' ')} may not contain unpaired surrogate characters."]
                      for key, value in data.items() if not _is_utf8(value)}
            if errors:
                raise ValidationError(errors)
        return data

    @validates_schema
    def refuse_numbers_no_column_holds(self, data, **kwargs):
        # Ids, positions, quotas: every whole number we store is a 32-bit column on
        # PostgreSQL, and SQLite stops at 64 bits. A larger one is a 422, never a 500.
        errors = {}
        for name, field in self.fields.items():
            value = data.get(field.attribute or name)
            is_number = isinstance(field, fields.Integer) and isinstance(value, int) and not isinstance(value, bool)
            if is_number and not -MAX_ROW_ID - 1 <= value <= MAX_ROW_ID:
                key = field.data_key or name
                errors[key] = [f"The selected {key.replace('_', ' ')} is invalid."]
        if errors:
            raise ValidationError(errors)


def length(maximum: int, minimum: int = 0) -> list:
    """Length validators. Two, not one Length(min, max), so that an empty value and a
    too-long one each get their own message ("... is required", "... greater than")."""
    bounds = [validate.Length(max=maximum)]
    return [validate.Length(min=minimum), *bounds] if minimum else bounds


class UtcDateTime(fields.DateTime):
    """Output only: ISO 8601 in UTC with a `Z`. Documented as a date-time string."""

    def __init__(self, **kwargs):
        super().__init__(dump_only=True, **kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        return isoformat(value)


class UtcAwareDateTime(fields.AwareDateTime):
    """Input: ISO 8601 with a time zone, handed on in UTC.

    SQLite keeps no offset, so 10:00+05:00 stored as given would read back as 10:00 UTC;
    and a date that leaves the calendar once moved to UTC (9999-12-31T23:00-14:00) is
    invalid input, not an OverflowError later.
    """

    def __init__(self, **kwargs):
        super().__init__(default_timezone=None, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        moment = super()._deserialize(value, attr, data, **kwargs)
        try:
            return moment.astimezone(UTC)
        except OverflowError as exc:
            raise self.make_error("invalid", input=value, obj_type=self.OBJ_TYPE) from exc


class ErrorSchema(Schema):
    message = fields.String(required=True, metadata={"description": "What went wrong, for a person."})
    errors = fields.Dict(
        keys=fields.String(), values=fields.List(fields.String()),
        metadata={"description": "Field errors: {field: [messages]} (422 only)."},
    )


class MetaSchema(Schema):
    current_page = fields.Integer(required=True)
    last_page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    total = fields.Integer(required=True)
    # `from` is a Python keyword: read the "from" key, not an attribute named from_.
    from_ = fields.Integer(data_key="from", attribute="from", allow_none=True, required=True)
    to = fields.Integer(allow_none=True, required=True)


class LinksSchema(Schema):
    first = fields.String(required=True)
    last = fields.String(required=True)
    prev = fields.String(allow_none=True, required=True)
    next = fields.String(allow_none=True, required=True)


class FormatArgs(Schema):
    class Meta:
        unknown = EXCLUDE

    format = fields.String(load_default="json", validate=validate.OneOf(["json", "csv"]),
                           metadata={"description": "json (default) or csv: one row with a data_json column."})


class DeletedSchema(Schema):
    id = fields.Integer(required=True)


def _base_name(schema_cls) -> str:
    name = schema_cls.__name__
    return name[: -len("Schema")] if name.endswith("Schema") else name


@cache
def envelope(schema_cls) -> type:
    """`{"data": <schema>}`."""
    return type(f"{_base_name(schema_cls)}EnvelopeSchema", (Schema,),
                {"data": fields.Nested(schema_cls, required=True)})


@cache
def list_envelope(schema_cls) -> type:
    """`{"data": [<schema>], "meta": {...}, "links": {...}}`."""
    return type(f"{_base_name(schema_cls)}ListSchema", (Schema,), {
        "data": fields.List(fields.Nested(schema_cls), required=True),
        "meta": fields.Nested(MetaSchema, required=True),
        "links": fields.Nested(LinksSchema, required=True),
    })


@cache
def message_envelope(schema_cls) -> type:
    """`{"message": "Deleted", "data": <schema>}` as seed 002 answers writes."""
    return type(f"{_base_name(schema_cls)}MessageSchema", (Schema,), {
        "message": fields.String(required=True),
        "data": fields.Nested(schema_cls, required=True),
    })
