"""Contact rules and writes: CRUD under the ownership rules, create-or-update keyed by
e-mail (seed 003 `create_customer`), statuses, tags, bulk changes.

Every read and every write by id goes through `access.find_visible`, so a contact the
actor may not see (another owner's, another business's) is a 404 everywhere.
"""
from dataclasses import dataclass, field

from marshmallow import fields as ma_fields
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from app.core.concurrency import check_version
from app.core.converters import MAX_ROW_ID
from app.core.errors import Conflict, NotFound, ValidationFailed
from app.core.events import record_event
from app.core.listing import Filter, ListParams, ListSpec, fetch_page, in_chunks, iter_rows, matching_ids
from app.core.permissions import Actor, require
from app.core.sqlite import write_from_here
from app.extensions import db
from app.pipelines import access, records
from app.pipelines.common import custom_field_definitions
from app.pipelines.models import DEFAULT_CONTACT_STATUSES, Account, Contact, ContactStatus, Tag, contact_tags
from app.pipelines.search import search_for

TEXT_LIMITS = {
    "prefix": 20, "first_name": 120, "last_name": 120, "suffix": 20, "email": 191,
    "home_phone": 40, "work_phone": 40, "mobile_phone": 40,
    "addr1": 200, "addr2": 200, "city": 100, "county": 100, "postcode": 20, "country": 100,
    "secaddr_addr1": 200, "secaddr_addr2": 200, "secaddr_city": 100, "secaddr_county": 100,
    "secaddr_postcode": 20, "secaddr_country": 100, "source": 100, "notes": 10000,
}
PHONE_FIELDS = ("home_phone", "work_phone", "mobile_phone")
OTHER_FIELDS = ("status", "do_not_contact", "account_id", "owner_id", "tags", "custom_fields")
FIELDS = tuple(TEXT_LIMITS) + OTHER_FIELDS
TAG_MAX, TAGS_MAX, STATUS_MAX = 60, 50, 40
BULK_MAX = 500  # ids read at once
MATCHING_MAX = 10_000  # contacts one "all matching" bulk action may touch

_FULL_NAME = func.coalesce(Contact.first_name, "") + " " + func.coalesce(Contact.last_name, "")

CONTACT_LIST = ListSpec(
    name="Contact",
    export_permission="crm.export",
    sorts={"name": Contact.last_name, "first_name": Contact.first_name, "last_name": Contact.last_name,
           "email": Contact.email, "status": Contact.status, "created_at": Contact.created_at,
           "updated_at": Contact.updated_at},
    default_sort="name",
    search=(_FULL_NAME, Contact.email, Contact.mobile_phone, Contact.work_phone, Contact.home_phone),
    search_with=search_for("contacts"),  # full-text index; `search` documents the fields
    filters={
        "status": Filter(Contact.status, description="The contact status (Lead, Customer, ...)."),
        "owner_id": Filter(Contact.owner_id, kind="int", description="The owning user's id."),
        "owner": Filter(Contact.owner_id, kind="int", description="Seed 003 alias of owner_id."),
        "assign": Filter(Contact.owner_id, kind="int", description="Seed 003 alias of owner_id."),
        "account_id": Filter(Contact.account_id, kind="int", description="The account's id."),
        "email": Filter(Contact.email, description="Exact e-mail address."),
        "do_not_contact": Filter(Contact.do_not_contact, kind="bool", description="1/0 or true/false."),
    },
)


@dataclass
class ContactListParams(ListParams):
    """The list conventions plus tags, `owned` and custom-field filters."""

    tags: list = field(default_factory=list)
    owned: bool = False
    cf: dict = field(default_factory=dict)

    def query_args(self, **overrides) -> dict:
        out = super().query_args()
        out["tag"] = ",".join(self.tags)
        out["owned"] = "1" if self.owned else ""
        out.update({f"cf[{k}]": v for k, v in self.cf.items()})
        out.update(overrides)
        return {k: v for k, v in out.items() if v not in (None, "")}


def cf_filters_from(args) -> dict:
    """`cf[key]=value` and `filter[cf.key]=value` pairs from a query string mapping."""
    out = {}
    for name in list(args.keys()):
        for prefix, suffix in (("cf[", "]"), ("filter[cf.", "]")):
            if name.startswith(prefix) and name.endswith(suffix) and len(name) > len(prefix) + len(suffix):
                value = args.get(name)
                if isinstance(value, str) and value.strip():
                    out[name[len(prefix):-len(suffix)]] = value.strip()
    return out


class ContactListArgs(CONTACT_LIST.args_schema()):
    tag = ma_fields.String(metadata={"description": "Contacts with any of these tags; names separated by commas."})
    filter__tag = ma_fields.String(data_key="filter[tag]", metadata={"description": "Same as tag."})
    owned = ma_fields.Boolean(metadata={"description": "1: only the contacts you own (seed 003)."})

    def load(self, data, **kwargs):
        if hasattr(data, "to_dict"):
            data = data.to_dict()
        custom = cf_filters_from(data)
        params = super().load({k: v for k, v in data.items() if not k.startswith(("cf[", "filter[cf."))}, **kwargs)
        params.cf = custom
        return params

    def _to_params(self, raw: dict) -> ContactListParams:
        base = super()._to_params(raw)
        tags = [t.strip() for t in (raw.get("filter__tag") or raw.get("tag") or "").split(",") if t.strip()]
        return ContactListParams(**vars(base), tags=tags, owned=bool(raw.get("owned")))


CONTACT_LIST._schema = ContactListArgs  # the spec's parse() and the API share the extras


# --- statuses ------------------------------------------------------------------------

def statuses() -> list[ContactStatus]:
    """The business's contact statuses in order; Lead and Customer are made on first use."""
    query = select(ContactStatus).order_by(ContactStatus.position, ContactStatus.id)
    rows = list(db.session.scalars(query))
    if not rows:
        write_from_here()  # often a page view: write in a transaction that holds the lock
        rows = list(db.session.scalars(query))
    if not rows:
        rows = [ContactStatus(name=name, position=n, is_customer=name == "Customer")
                for n, name in enumerate(DEFAULT_CONTACT_STATUSES)]
        db.session.add_all(rows)
        db.session.flush()
    return rows


def create_status(actor: Actor, name: str, is_customer: bool = False) -> ContactStatus:
    require(actor, "crm.settings")
    existing = statuses()
    name = (name or "").strip()
    if not name:
        raise ValidationFailed({"name": ["The name field is required."]})
    if len(name) > STATUS_MAX:
        raise ValidationFailed({"name": [f"The name may not be greater than {STATUS_MAX} characters."]})
    if any(s.name.lower() == name.lower() for s in existing):
        raise ValidationFailed({"name": ["The name has already been taken."]})
    status = ContactStatus(name=name, is_customer=bool(is_customer),
                           position=max(s.position for s in existing) + 1)
    db.session.add(status)
    db.session.flush()
    return status


def delete_status(actor: Actor, status_id: int) -> None:
    """A status still in use stays: contacts would be left with a status nobody offers."""
    require(actor, "crm.settings")
    status = db.session.get(ContactStatus, status_id)
    if status is None:
        raise NotFound()
    used = db.session.scalar(select(func.count()).select_from(Contact).where(Contact.status == status.name))
    if used:
        raise Conflict(f"The status \u201c{status.name}\u201d is used by {used} contact(s); change them first.")
    if len(statuses()) <= 1:
        raise Conflict("A business needs at least one contact status.")
    db.session.delete(status)
    db.session.flush()


def _status_name(value, errors: dict) -> str | None:
    if not isinstance(value, str):
        errors["status"] = ["The status must be a string."]
        return None
    for status in statuses():
        if status.name.lower() == value.strip().lower():
            return status.name
    errors["status"] = ["The selected status is invalid."]
    return None


# --- tags ----------------------------------------------------------------------------

def _tag_names(value, errors: dict) -> list[str]:
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        errors["tags"] = ["The tags must be a list of names."]
        return []
    names: list[str] = []
    for raw in value:
        name = " ".join(raw.split())
        if len(name) > TAG_MAX:
            errors["tags"] = [f"Each tag may not be greater than {TAG_MAX} characters."]
            return []
        if name and name.lower() not in {n.lower() for n in names}:
            names.append(name)
    if len(names) > TAGS_MAX:
        errors["tags"] = [f"A contact may not have more than {TAGS_MAX} tags."]
    return names


def _tags(names: list[str]) -> list[Tag]:
    """Tag rows for `names`, created on the fly; an existing tag matches ignoring case."""
    if not names:
        return []
    lowered = [n.lower() for n in names]
    existing = {t.name.lower(): t for t in db.session.scalars(select(Tag).where(func.lower(Tag.name).in_(lowered)))}
    out = []
    for name in names:
        tag = existing.get(name.lower())
        if tag is None:
            tag = existing[name.lower()] = Tag(name=name)
            db.session.add(tag)
        out.append(tag)
    return out


def tag_names_in_use() -> list[str]:
    return list(db.session.scalars(select(Tag.name).order_by(Tag.name)))


# --- reads ---------------------------------------------------------------------------

def _loaded():
    return (joinedload(Contact.owner), joinedload(Contact.account), selectinload(Contact.tags))


def _visible_contacts(actor: Actor, params: ListParams | None = None, eager: bool = True):
    stmt = access.visible(select(Contact).options(*(_loaded() if eager else ())), Contact, actor, "contacts")
    if getattr(params, "owned", False):
        stmt = stmt.where(Contact.owner_id == actor.user.id)
    if getattr(params, "tags", None):
        tagged = (select(contact_tags.c.contact_id).join(Tag, Tag.id == contact_tags.c.tag_id)
                  .where(func.lower(Tag.name).in_([t.lower() for t in params.tags])))
        stmt = stmt.where(Contact.id.in_(tagged))
    for key, value in (getattr(params, "cf", None) or {}).items():
        stmt = stmt.where(custom_field_condition(Contact.custom_fields, "contact", key, value))
    return stmt


def custom_field_condition(column, entity: str, key: str, value: str):
    """`column[key] == value`, typed by the field's definition; an unknown key is a 422."""
    definition = next((d for d in custom_field_definitions(entity) if d.key == key), None)
    name = f"cf[{key}]"
    if definition is None:
        raise ValidationFailed({name: [f"There is no {entity} field named {key}."]})
    element = column[key]
    if definition.type == "number":
        try:
            return element.as_float() == float(value)
        except ValueError:
            raise ValidationFailed({name: [f"The {name} filter must be a number."]}) from None
    if definition.type == "checkbox":
        word = value.lower()
        if word not in records.TRUE_WORDS | records.FALSE_WORDS or not word:
            raise ValidationFailed({name: [f"The {name} filter must be one of 1, 0, true, false."]})
        return element.as_boolean() == (word in records.TRUE_WORDS)
    return element.as_string() == value


def list_contacts(actor: Actor, params: ListParams):
    require(actor, "contacts.view")
    return fetch_page(_visible_contacts(actor, params), CONTACT_LIST, params)


def all_contacts(actor: Actor, params: ListParams):
    """Every matching contact, for CSV. Checks and builds the query now, streams later."""
    require(actor, "contacts.view")
    stmt = _visible_contacts(actor, params, eager=False)
    return _in_batches(stmt, params)


def _in_batches(stmt, params: ListParams, size: int = 500):
    # yield_per cannot run with eagerly loaded collections (tags): the ids stream in order,
    # and each batch of them is loaded with its tags (memory stays at one batch, however
    # many contacts there are: an export job may write a million).
    chunk: list[int] = []
    for contact in iter_rows(stmt, CONTACT_LIST, params, batch=size):
        chunk.append(contact.id)
        if len(chunk) == size:
            yield from _loaded_in_order(chunk)
            chunk = []
    if chunk:
        yield from _loaded_in_order(chunk)


def _loaded_in_order(ids: list[int]):
    rows = {c.id: c for c in db.session.scalars(select(Contact).where(Contact.id.in_(ids)).options(*_loaded()))}
    return [rows[i] for i in ids if i in rows]


def selected_contacts(actor: Actor, ids: list[int]) -> list[Contact]:
    """The contacts among `ids` the actor may see, for bulk actions (others are skipped)."""
    require(actor, "contacts.view")
    ids = [i for i in ids if isinstance(i, int) and 1 <= i <= MAX_ROW_ID][:BULK_MAX]
    if not ids:
        return []
    stmt = _visible_contacts(actor).where(Contact.id.in_(ids)).order_by(Contact.id)
    return list(db.session.scalars(stmt))


def matching_contact_ids(actor: Actor, params: ListParams) -> list[int]:
    """Every contact the list shows for `params`, all pages ("select all N matching"),
    under the same visibility rules as the list itself."""
    require(actor, "contacts.view")
    return matching_ids(_visible_contacts(actor, params, eager=False), CONTACT_LIST, params, MATCHING_MAX)


def get_contact(actor: Actor, contact_id: int) -> Contact:
    require(actor, "contacts.view")
    return access.find_visible(Contact, contact_id, actor, "contacts", options=_loaded())


def _reload(contact: Contact) -> Contact:
    stmt = select(Contact).where(Contact.id == contact.id).options(*_loaded())
    return db.session.scalars(stmt.execution_options(populate_existing=True)).one()


def contacts_of_account(actor: Actor, account_id: int) -> list[Contact]:
    if not actor.can("contacts.view"):
        return []
    stmt = _visible_contacts(actor).where(Contact.account_id == account_id)
    return list(db.session.scalars(stmt.order_by(Contact.last_name, Contact.first_name, Contact.id).limit(100)))


# --- writes --------------------------------------------------------------------------

def _clean(actor: Actor, data: dict, contact: Contact | None, replace: bool = False) -> tuple[dict, list | None]:
    """Validated column values, and the tag names (None when tags were not sent)."""
    values = records.strip_values(data, FIELDS)
    errors: dict[str, list[str]] = {}
    creating = contact is None
    records.check_lengths({k: v for k, v in values.items() if k in TEXT_LIMITS}, TEXT_LIMITS, errors)
    if creating or replace or any(k in values for k in ("first_name", "last_name", "email")):
        merged = {k: values.get(k, None if creating or replace else getattr(contact, k))
                  for k in ("first_name", "last_name", "email")}
        if not any(merged.values()):
            errors.setdefault("first_name", ["The first name field is required when last name and email are"
                                             " not present."])
    records.clean_email(values, errors)
    records.clean_phones(values, PHONE_FIELDS, records.business_region(actor))
    if values.get("status") is not None:
        values["status"] = _status_name(values["status"], errors)
    elif creating or "status" in values:
        values["status"] = statuses()[0].name
    if "do_not_contact" in values:
        values["do_not_contact"] = records.as_bool(values["do_not_contact"], "do_not_contact", errors)
    if "account_id" in values:
        values["account_id"] = records.as_id(values["account_id"], "account_id", errors)
        if values["account_id"] is not None and "account_id" not in errors and not _account_visible(
                actor, values["account_id"]):
            errors["account_id"] = ["The selected account id is invalid."]
    if creating and "owner_id" not in values:
        values["owner_id"] = actor.user.id
    records.clean_owner(values, errors)
    tags = _tag_names(values.pop("tags") or [], errors) if "tags" in values else ([] if replace else None)
    current = None if (creating or replace) else contact.custom_fields
    records.clean_custom("contact", values, current, errors, creating or replace)
    if errors:
        raise ValidationFailed(errors)
    return values, tags


def _account_visible(actor: Actor, account_id: int) -> bool:
    stmt = access.visible(select(Account.id).where(Account.id == account_id), Account, actor, "accounts")
    return db.session.scalar(stmt) is not None


def _payload(contact: Contact, **extra) -> dict:
    return {"id": contact.id, "name": contact.name, "email": contact.email, "status": contact.status,
            "owner_id": contact.owner_id, **extra}


def create_contact(actor: Actor, data: dict) -> Contact:
    require(actor, "contacts.create")
    values, tags = _clean(actor, data, None)
    contact = Contact(**values)
    contact.tags = _tags(tags or [])
    db.session.add(contact)
    db.session.flush()
    record_event("contact.created", _payload(contact))
    return _reload(contact)


def update_contact(actor: Actor, contact_id: int, data: dict, expected_version: int | None = None,
                   replace: bool = False) -> Contact:
    """PATCH by default: the fields sent change. `replace` (PUT): the rest is emptied."""
    require(actor, "contacts.update")
    contact = get_contact(actor, contact_id)
    check_version(contact, expected_version)
    if replace:
        data = {**dict.fromkeys(f for f in FIELDS if f not in ("owner_id", "status")), **data}
    return _apply(contact, *_clean(actor, data, contact, replace))


def _apply(contact: Contact, values: dict, tags: list | None) -> Contact:
    changes = sorted(k for k, v in values.items() if getattr(contact, k) != v)
    for key, value in values.items():
        setattr(contact, key, value)
    if tags is not None and [t.lower() for t in tags] != [t.name.lower() for t in contact.tags]:
        contact.tags = _tags(tags)
        changes.append("tags")
    if changes:
        db.session.flush()
        record_event("contact.updated", _payload(contact, changes=changes))
    return _reload(contact)


def upsert_contact(actor: Actor, data: dict) -> tuple[Contact, bool]:
    """Seed 003 `create_customer`: the e-mail is the key. A contact with that e-mail is
    updated with the fields sent (the oldest, should there be several); otherwise one is
    created. Returns (contact, created)."""
    errors: dict = {}
    probe = records.strip_values({"email": data.get("email")}, ("email",))
    if not probe.get("email"):
        raise ValidationFailed({"email": ["The email field is required."]})
    records.clean_email(probe, errors)
    if errors:
        raise ValidationFailed(errors)
    same_email = select(Contact.id).where(func.lower(Contact.email) == probe["email"].lower()).order_by(Contact.id)
    existing_id = db.session.scalar(access.visible(same_email, Contact, actor, "contacts"))
    if existing_id is None:
        if db.session.scalar(same_email) is not None:
            # Someone else's contact: creating a twin would split the customer in two.
            raise Conflict("A contact with this email exists, but it is not one you may see.")
        return create_contact(actor, data), True
    return update_contact(actor, existing_id, data), False


def delete_contact(actor: Actor, contact_id: int, expected_version: int | None = None) -> None:
    require(actor, "contacts.delete")
    contact = get_contact(actor, contact_id)
    check_version(contact, expected_version)
    payload = {"id": contact.id, "name": contact.name, "email": contact.email}
    db.session.delete(contact)
    db.session.flush()
    record_event("contact.deleted", payload)


def bulk_update(actor: Actor, ids: list[int], data: dict) -> int:
    """Owner or status of several contacts at once; all or nothing. Returns how many."""
    require(actor, "contacts.update")
    count = 0
    for chunk in in_chunks(ids, BULK_MAX):
        for contact in selected_contacts(actor, chunk):
            values, tags = _clean(actor, data, contact)
            _apply(contact, values, tags)
            count += 1
    return count


def bulk_delete(actor: Actor, ids: list[int]) -> int:
    require(actor, "contacts.delete")
    count = 0
    for chunk in in_chunks(ids, BULK_MAX):
        for contact in selected_contacts(actor, chunk):
            delete_contact(actor, contact.id)
            count += 1
    return count
