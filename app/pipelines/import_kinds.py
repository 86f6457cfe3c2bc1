"""What CSV import and export know of each kind: contacts (leads and deals join as they land).

Export columns are the API's CSV columns, so a file exported here or from
`GET /api/v1/contacts?format=csv` imports back into the same records.
"""
from sqlalchemy import func, select

from app.api import contacts as contacts_api
from app.extensions import db
from app.pipelines import access, contacts
from app.pipelines.imports import ImportSpec, register_importer
from app.pipelines.models import Contact

# Read-only columns of the export: an import matches or shows them but never writes them.
_CONTACT_READ_ONLY = {"id", "account_name", "owner_name", "created_at", "updated_at"}


def _contact_fields() -> list[str]:
    return [c for c in contacts_api.csv_columns() if c not in _CONTACT_READ_ONLY]


def _contact_by_email(actor, email: str):
    stmt = select(Contact).where(func.lower(Contact.email) == email.strip().lower()).order_by(Contact.id).limit(1)
    return db.session.scalar(access.visible(stmt, Contact, actor, "contacts"))


def _contact_rows(actor):
    params = contacts.CONTACT_LIST.parse({})
    return (contacts_api.csv_row(c) for c in contacts.all_contacts(actor, params))


register_importer(ImportSpec(
    kind="contacts",
    label="Contacts",
    fields=_contact_fields,
    export_columns=contacts_api.csv_columns,
    find=_contact_by_email,
    create=lambda actor, data: contacts.create_contact(actor, data),
    update=lambda actor, record, data: contacts.update_contact(actor, record.id, data),
    export_rows=_contact_rows,
    create_permission="contacts.create",
    aliases={"e_mail": "email", "email_address": "email", "fname": "first_name", "firstname": "first_name",
             "given_name": "first_name", "lname": "last_name", "lastname": "last_name", "surname": "last_name",
             "family_name": "last_name", "phone": "mobile_phone", "mobile": "mobile_phone", "mobtel": "mobile_phone",
             "hometel": "home_phone", "worktel": "work_phone", "address": "addr1", "address_1": "addr1",
             "address_2": "addr2", "zip": "postcode", "postal_code": "postcode", "state": "county"},
))


