"""/api/v1/contacts: people (seed 000 CRM contacts, seed 003 customers)."""
from flask import url_for
from marshmallow import Schema, fields, post_load

from app.api.base import Blueprint, current_actor, if_match_version, list_answer, object_answer
from app.api.exports import csv_or_job, documents_export_job
from app.api.schemas import ApiSchema, FormatArgs, UtcDateTime, envelope, length, list_envelope
from app.core.csv_export import csv_response
from app.core.exports import require_export
from app.pipelines import contacts as services
from app.pipelines.common import custom_field_definitions
from app.pipelines.contacts import CONTACT_LIST, TEXT_LIMITS

blp = Blueprint("api_contacts", __name__, url_prefix="/contacts",
                description="Contacts: people, \u201ccustomers\u201d when their status says so.")

ADDRESS = ("addr1", "addr2", "city", "county", "postcode", "country")
SECONDARY = tuple(f"secaddr_{f}" for f in ADDRESS)


class RefSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)


class OwnerRefSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True, attribute="full_name")


def _text_out():
    return fields.String(allow_none=True, required=True)


class ContactSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True, metadata={"description": "First and last name (or the e-mail)."})
    prefix = _text_out()
    first_name = _text_out()
    last_name = _text_out()
    suffix = _text_out()
    email = _text_out()
    home_phone = _text_out()
    work_phone = _text_out()
    mobile_phone = _text_out()
    addr1 = _text_out()
    addr2 = _text_out()
    city = _text_out()
    county = _text_out()
    postcode = _text_out()
    country = _text_out()
    secaddr_addr1 = _text_out()
    secaddr_addr2 = _text_out()
    secaddr_city = _text_out()
    secaddr_county = _text_out()
    secaddr_postcode = _text_out()
    secaddr_country = _text_out()
    status = fields.String(required=True)
    source = _text_out()
    notes = _text_out()
    do_not_contact = fields.Boolean(required=True)
    tags = fields.Method("tag_names", required=True, metadata={"type": "array", "items": {"type": "string"}})
    account_id = fields.Integer(allow_none=True, required=True)
    account = fields.Nested(RefSchema, allow_none=True, required=True)
    owner_id = fields.Integer(allow_none=True, required=True)
    owner = fields.Nested(OwnerRefSchema, allow_none=True, required=True)
    custom_fields = fields.Dict(keys=fields.String(), required=True,
                                metadata={"description": "Values of the business's contact custom fields by key."})
    created_at = UtcDateTime(required=True)
    updated_at = UtcDateTime(required=True)

    def tag_names(self, contact) -> list[str]:
        return sorted((tag.name for tag in contact.tags), key=str.lower)


def _text(name: str):
    return fields.String(allow_none=True, validate=length(TEXT_LIMITS[name]))


class ContactPatchSchema(ApiSchema):
    """PATCH: the fields sent change; the others keep their values."""

    prefix = _text("prefix")
    first_name = _text("first_name")
    last_name = _text("last_name")
    suffix = _text("suffix")
    email = fields.String(allow_none=True, validate=length(191), metadata={"description": "An e-mail address."})
    home_phone = _text("home_phone")
    work_phone = _text("work_phone")
    mobile_phone = _text("mobile_phone")
    addr1 = _text("addr1")
    addr2 = _text("addr2")
    city = _text("city")
    county = _text("county")
    postcode = _text("postcode")
    country = _text("country")
    secaddr_addr1 = _text("secaddr_addr1")
    secaddr_addr2 = _text("secaddr_addr2")
    secaddr_city = _text("secaddr_city")
    secaddr_county = _text("secaddr_county")
    secaddr_postcode = _text("secaddr_postcode")
    secaddr_country = _text("secaddr_country")
    status = fields.String(allow_none=True, validate=length(40),
                           metadata={"description": "One of the business's contact statuses (Lead, Customer, ...);"
                                                    " the first one when left out on create."})
    source = _text("source")
    notes = _text("notes")
    do_not_contact = fields.Boolean()
    tags = fields.List(fields.String(), allow_none=True,
                       metadata={"description": "Tag names; unknown ones are created. Replaces the contact's tags."})
    account_id = fields.Integer(allow_none=True, metadata={"description": "An account you can see."})
    owner_id = fields.Integer(allow_none=True, metadata={"description": "A staff user; you when left out on create."})
    custom_fields = fields.Dict(keys=fields.String(), allow_none=True,
                                metadata={"description": "{key: value} of the contact custom fields"
                                                         " (GET /api/v1/custom-fields?entity=contact)."
                                                         " null or \"\" removes a value."})


class ContactWriteSchema(ContactPatchSchema):
    """POST and PUT: a first name, last name or e-mail is required. On PUT the fields left
    out are emptied, except owner_id and status, which keep their values."""


class ContactUpsertSchema(ContactPatchSchema):
    """Seed 003 create_customer: `email` is the key. Its field names are accepted too."""

    email = fields.String(required=True, validate=length(191, minimum=1))
    fname = fields.String(allow_none=True, validate=length(120), metadata={"description": "Alias of first_name."})
    lname = fields.String(allow_none=True, validate=length(120), metadata={"description": "Alias of last_name."})
    hometel = fields.String(allow_none=True, validate=length(40), metadata={"description": "Alias of home_phone."})
    worktel = fields.String(allow_none=True, validate=length(40), metadata={"description": "Alias of work_phone."})
    mobtel = fields.String(allow_none=True, validate=length(40), metadata={"description": "Alias of mobile_phone."})
    assign = fields.Integer(allow_none=True, metadata={"description": "Alias of owner_id."})

    @post_load
    def seed_003_names(self, data, **kwargs):
        aliases = {"fname": "first_name", "lname": "last_name", "hometel": "home_phone",
                   "worktel": "work_phone", "mobtel": "mobile_phone", "assign": "owner_id"}
        for alias, name in aliases.items():
            if alias in data:
                value = data.pop(alias)
                data.setdefault(name, value)
        return data


def csv_columns() -> list[str]:
    return (["id", "prefix", "first_name", "last_name", "suffix", "email", "home_phone", "work_phone",
             "mobile_phone", *ADDRESS, *SECONDARY, "status", "source", "notes", "do_not_contact", "tags",
             "account_id", "account_name", "owner_id", "owner_name", "created_at", "updated_at"]
            + [f"cf_{d.key}" for d in custom_field_definitions("contact")])


def csv_row(contact, schema=ContactSchema()) -> dict:
    row = schema.dump(contact)
    row["tags"] = ", ".join(row["tags"])
    row["account_name"] = (row.pop("account") or {}).get("name")
    row["owner_name"] = (row.pop("owner") or {}).get("name")
    for key, value in (row.pop("custom_fields") or {}).items():
        row[f"cf_{key}"] = value
    return row




@blp.get("")
@blp.arguments(CONTACT_LIST.args_schema(), location="query", as_kwargs=False)
@blp.response(200, list_envelope(ContactSchema))
@documents_export_job(blp)
@blp.forbidden_unless_permitted
def list_contacts(params):
    """List contacts you may see. Needs `contacts.view` (own contacts) or `contacts.view_all`.

Besides the list conventions: `status`, `owner_id` (seed 003 `owner` and `assign` are
aliases), `owned=1` (yours), `account_id`, `tag` (names, comma separated), `email`,
`do_not_contact`, and custom fields as `cf[<key>]=<value>` or `filter[cf.<key>]=<value>`.
`format=csv` streams every row, custom fields as `cf_<key>` columns; it needs `crm.export`, and
more than 10,000 rows answer 202 with an export job (see /exports)."""
    actor = current_actor()
    if params.format == "csv":
        return csv_or_job("contacts")
    return list_answer(params, ContactSchema, lambda: services.list_contacts(actor, params), None, "contacts")


@blp.post("")
@blp.idempotent
@blp.arguments(ContactWriteSchema)
@blp.response(201, envelope(ContactSchema))
@blp.forbidden_unless_permitted
def create_contact(data):
    """Create a contact. Needs `contacts.create`."""
    contact = services.create_contact(current_actor(), data)
    body, status, headers = object_answer(contact, ContactSchema, status=201)
    return body, status, dict(headers, Location=url_for("api_contacts.get_contact", contact_id=contact.id))


@blp.post("/upsert")
@blp.idempotent
@blp.arguments(ContactUpsertSchema)
@blp.response(200, envelope(ContactSchema), description="An existing contact with this e-mail was updated.")
@blp.alt_response(201, schema=envelope(ContactSchema), description="No contact had this e-mail: one was created.")
@blp.forbidden_unless_permitted
def upsert_contact(data):
    """Create or update a contact keyed by e-mail (seed 003 create_customer).

    A contact you can see with this e-mail (ignoring case) gets the fields sent; otherwise a
    new contact is created (201 + Location). If the only match is a contact you may not see,
    the answer is 409. Needs `contacts.update` to update, `contacts.create` to create.
    """
    contact, created = services.upsert_contact(current_actor(), data)
    body, status, headers = object_answer(contact, ContactSchema, status=201 if created else 200)
    if created:
        headers = dict(headers, Location=url_for("api_contacts.get_contact", contact_id=contact.id))
    return body, status, headers


@blp.get("/<id:contact_id>")
@blp.arguments(FormatArgs, location="query")
@blp.response(200, envelope(ContactSchema))
@blp.forbidden_unless_permitted
def get_contact(args, contact_id):
    """One contact (`format=csv` for one row, which also needs `crm.export`). Needs `contacts.view`."""
    contact = services.get_contact(current_actor(), contact_id)
    if args["format"] == "csv":
        require_export(current_actor(), CONTACT_LIST)  # one row needs what the list's CSV needs
        # Dumped now: the session is committed (and the row expired) before a stream runs.
        return csv_response(csv_columns(), [csv_row(contact)], f"contact-{contact_id}.csv")
    return object_answer(contact, ContactSchema)


@blp.put("/<id:contact_id>")
@blp.idempotent
@blp.arguments(ContactWriteSchema)
@blp.response(200, envelope(ContactSchema))
@blp.forbidden_unless_permitted
@blp.versioned
def replace_contact(data, contact_id):
    """Replace a contact: fields left out are emptied, except owner_id and status. Needs `contacts.update`."""
    contact = services.update_contact(current_actor(), contact_id, data, if_match_version(), replace=True)
    return object_answer(contact, ContactSchema)


@blp.patch("/<id:contact_id>")
@blp.idempotent
@blp.arguments(ContactPatchSchema)
@blp.response(200, envelope(ContactSchema))
@blp.forbidden_unless_permitted
@blp.versioned
def update_contact(data, contact_id):
    """Change some fields of a contact; the others keep their values. Needs `contacts.update`."""
    contact = services.update_contact(current_actor(), contact_id, data, if_match_version())
    return object_answer(contact, ContactSchema)


@blp.delete("/<id:contact_id>")
@blp.response(204)
@blp.forbidden_unless_permitted
@blp.versioned
def delete_contact(contact_id):
    """Delete a contact; its deals stay, without a contact. Needs `contacts.delete`."""
    services.delete_contact(current_actor(), contact_id, if_match_version())

