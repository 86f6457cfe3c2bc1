"""Account (company) rules and writes, under the same ownership rules as contacts."""
import re
from dataclasses import dataclass, field

from marshmallow import fields as ma_fields
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.core.concurrency import check_version
from app.core.errors import ValidationFailed
from app.core.events import record_event
from app.core.listing import Filter, ListParams, ListSpec, fetch_page, in_chunks, iter_rows, matching_ids
from app.core.permissions import Actor, require
from app.extensions import db
from app.pipelines import access, records
from app.pipelines.contacts import cf_filters_from, custom_field_condition
from app.pipelines.models import Account
from app.pipelines.search import search_for

TEXT_LIMITS = {"name": 200, "domain": 191, "industry": 100, "phone": 40, "website": 191,
               "addr1": 200, "addr2": 200, "city": 100, "county": 100, "postcode": 20, "country": 100}
FIELDS = tuple(TEXT_LIMITS) + ("owner_id", "custom_fields")
DOMAIN = re.compile(r"(?=.{1,191}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")
BULK_MAX = 500  # ids read at once
MATCHING_MAX = 10_000  # accounts one "all matching" bulk action may touch

ACCOUNT_LIST = ListSpec(
    name="Account",
    export_permission="crm.export",
    sorts={"name": Account.name, "domain": Account.domain, "industry": Account.industry,
           "created_at": Account.created_at, "updated_at": Account.updated_at},
    default_sort="name",
    search=(Account.name, Account.domain, Account.phone, Account.city),
    search_with=search_for("accounts"),  # full-text index; `search` documents the fields
    filters={
        "owner_id": Filter(Account.owner_id, kind="int", description="The owning user's id."),
        "owner": Filter(Account.owner_id, kind="int", description="Seed 003 alias of owner_id."),
        "assign": Filter(Account.owner_id, kind="int", description="Seed 003 alias of owner_id."),
        "industry": Filter(Account.industry, description="Exact industry."),
        "domain": Filter(Account.domain, description="Exact domain, e.g. acme.com."),
    },
)


@dataclass
class AccountListParams(ListParams):
    owned: bool = False
    cf: dict = field(default_factory=dict)

    def query_args(self, **overrides) -> dict:
        out = super().query_args()
        out["owned"] = "1" if self.owned else ""
        out.update({f"cf[{k}]": v for k, v in self.cf.items()})
        out.update(overrides)
        return {k: v for k, v in out.items() if v not in (None, "")}


class AccountListArgs(ACCOUNT_LIST.args_schema()):
    owned = ma_fields.Boolean(metadata={"description": "1: only the accounts you own (seed 003)."})

    def load(self, data, **kwargs):
        if hasattr(data, "to_dict"):
            data = data.to_dict()
        custom = cf_filters_from(data)
        params = super().load({k: v for k, v in data.items() if not k.startswith(("cf[", "filter[cf."))}, **kwargs)
        params.cf = custom
        return params

    def _to_params(self, raw: dict) -> AccountListParams:
        return AccountListParams(**vars(super()._to_params(raw)), owned=bool(raw.get("owned")))


ACCOUNT_LIST._schema = AccountListArgs


def _loaded():
    return (joinedload(Account.owner),)


def _visible_accounts(actor: Actor, params: ListParams | None = None):
    stmt = access.visible(select(Account).options(*_loaded()), Account, actor, "accounts")
    if getattr(params, "owned", False):
        stmt = stmt.where(Account.owner_id == actor.user.id)
    for key, value in (getattr(params, "cf", None) or {}).items():
        stmt = stmt.where(custom_field_condition(Account.custom_fields, "account", key, value))
    return stmt


def list_accounts(actor: Actor, params: ListParams):
    require(actor, "accounts.view")
    return fetch_page(_visible_accounts(actor, params), ACCOUNT_LIST, params)


def all_accounts(actor: Actor, params: ListParams):
    require(actor, "accounts.view")
    return iter_rows(_visible_accounts(actor, params), ACCOUNT_LIST, params)


def account_choices(actor: Actor) -> list[Account]:
    """Accounts a contact may be linked to (for forms): the visible ones, by name."""
    if not actor.can("accounts.view"):
        return []
    stmt = access.visible(select(Account), Account, actor, "accounts").order_by(Account.name, Account.id)
    return list(db.session.scalars(stmt.limit(500)))


def get_account(actor: Actor, account_id: int) -> Account:
    require(actor, "accounts.view")
    return access.find_visible(Account, account_id, actor, "accounts", options=_loaded())


def selected_accounts(actor: Actor, ids: list[int]) -> list[Account]:
    require(actor, "accounts.view")
    ids = [i for i in ids if isinstance(i, int)][:BULK_MAX]
    if not ids:
        return []
    return list(db.session.scalars(_visible_accounts(actor).where(Account.id.in_(ids)).order_by(Account.id)))


def matching_account_ids(actor: Actor, params: ListParams) -> list[int]:
    """Every account the list shows for `params`, all pages ("select all N matching")."""
    require(actor, "accounts.view")
    return matching_ids(_visible_accounts(actor, params), ACCOUNT_LIST, params, MATCHING_MAX)


def _reload(account: Account) -> Account:
    stmt = select(Account).where(Account.id == account.id).options(*_loaded())
    return db.session.scalars(stmt.execution_options(populate_existing=True)).one()


def normalize_domain(value: str) -> str:
    """"https://www.Acme.com/about" -> "acme.com"."""
    value = re.sub(r"^[a-z][a-z0-9+.-]*://", "", value.strip().lower())
    value = value.split("/")[0].split("?")[0].split("#")[0]
    return value[4:] if value.startswith("www.") else value


def _clean(actor: Actor, data: dict, account: Account | None, replace: bool = False) -> dict:
    values = records.strip_values(data, FIELDS)
    errors: dict[str, list[str]] = {}
    creating = account is None
    records.check_lengths({k: v for k, v in values.items() if k in TEXT_LIMITS}, TEXT_LIMITS, errors)
    if (creating or replace or "name" in values) and not values.get("name"):
        errors["name"] = ["The name field is required."]
    if values.get("domain") and "domain" not in errors:
        values["domain"] = normalize_domain(values["domain"])
        if not DOMAIN.fullmatch(values["domain"]):
            errors["domain"] = ["The domain must be a domain name, such as acme.com."]
    if values.get("website") and "website" not in errors:
        if not re.match(r"https?://", values["website"], re.IGNORECASE):
            values["website"] = f"https://{values['website']}"
        if " " in values["website"] or "." not in values["website"]:
            errors["website"] = ["The website must be a valid URL."]
    records.clean_phones(values, ("phone",), records.business_region(actor))
    if creating and "owner_id" not in values:
        values["owner_id"] = actor.user.id
    records.clean_owner(values, errors)
    current = None if (creating or replace) else account.custom_fields
    records.clean_custom("account", values, current, errors, creating or replace)
    if errors:
        raise ValidationFailed(errors)
    return values


def _payload(account: Account, **extra) -> dict:
    return {"id": account.id, "name": account.name, "domain": account.domain, "owner_id": account.owner_id, **extra}


def create_account(actor: Actor, data: dict) -> Account:
    require(actor, "accounts.create")
    account = Account(**_clean(actor, data, None))
    db.session.add(account)
    db.session.flush()
    record_event("account.created", _payload(account))
    return _reload(account)


def update_account(actor: Actor, account_id: int, data: dict, expected_version: int | None = None,
                   replace: bool = False) -> Account:
    """PATCH by default; `replace` (PUT) empties the fields left out (the owner stays)."""
    require(actor, "accounts.update")
    account = get_account(actor, account_id)
    check_version(account, expected_version)
    if replace:
        data = {**dict.fromkeys(f for f in FIELDS if f != "owner_id"), **data}
    values = _clean(actor, data, account, replace)
    changes = sorted(k for k, v in values.items() if getattr(account, k) != v)
    for key, value in values.items():
        setattr(account, key, value)
    if changes:
        db.session.flush()
        record_event("account.updated", _payload(account, changes=changes))
    return _reload(account)


def delete_account(actor: Actor, account_id: int, expected_version: int | None = None) -> None:
    """Its contacts and deals stay, unlinked (the foreign keys are ON DELETE SET NULL)."""
    require(actor, "accounts.delete")
    account = get_account(actor, account_id)
    check_version(account, expected_version)
    payload = {"id": account.id, "name": account.name}
    db.session.delete(account)
    db.session.flush()
    record_event("account.deleted", payload)


def bulk_update(actor: Actor, ids: list[int], data: dict) -> int:
    require(actor, "accounts.update")
    count = 0
    for chunk in in_chunks(ids, BULK_MAX):
        for account in selected_accounts(actor, chunk):
            update_account(actor, account.id, data)
            count += 1
    return count


def bulk_delete(actor: Actor, ids: list[int]) -> int:
    require(actor, "accounts.delete")
    count = 0
    for chunk in in_chunks(ids, BULK_MAX):
        for account in selected_accounts(actor, chunk):
            delete_account(actor, account.id)
            count += 1
    return count
