"""schemathesis against our own OpenAPI document: no 5xx, and every answer as documented.

Each operation gets generated requests, valid and invalid, sent through WSGI with a real
token of a business that has locations (and a second business whose rows must stay
invisible), so reads find rows and writes change them.

Why not `@schema.parametrize()`: with the app built by a fixture, schemathesis 4 needs
`schemathesis.pytest.from_fixture`, which sets `Item._nodeid`, gone in pytest 9. Plain
Hypothesis over each operation's strategies runs the same checks on generated cases.

SCHEMATHESIS_EXAMPLES=300 digs deeper (minutes, not seconds); run it on PostgreSQL too,
which refuses inputs SQLite takes.
"""
import os
import re

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import select

from app.core.tenancy import tenant_scope
from app.extensions import db
from app.team.services import ensure_permissions
from tests.api.conftest import add_locations
from tests.api.test_commission_agents import add_agents
from tests.conftest import make_token, make_user

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES_PER_OPERATION = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "25"))


class Credential:
    """A token of the Acme owner, issued again after a generated DELETE may have revoked it."""

    def __init__(self, app, user_id: int):
        self.app, self.user_id = app, user_id
        self.renew()

    def renew(self) -> None:
        self.token = make_token(self.app, self.user_id, name="schemathesis")

    @property
    def headers(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture
def seeded(app, acme, globex, monkeypatch):
    """Acme (whose owner the token is) and Globex, with locations and tokens.

    Returns the credential and, per path parameter, ids worth asking for: Acme's rows,
    which exist, and Globex's, which must answer 404 all the same.
    """
    # Hundreds of requests a minute from one token: lift the limits, not the checks.
    monkeypatch.setitem(app.config, "API_RATE_LIMITS", {"free": 100_000, "pro": 100_000})
    monkeypatch.setitem(app.config, "PUBLIC_RATE_LIMIT", "100000/minute")
    monkeypatch.setitem(app.config, "LEAD_CAPTURE_RATE_LIMIT", "100000/minute")
    monkeypatch.setitem(app.config, "LEAD_WEBHOOK_RATE_LIMIT", "100000/minute")
    acme_locations = add_locations(app, acme, *(
        {"name": f"Acme {n}", "code": f"A{n}", "city": "Bath" if n % 2 else "Bristol"} for n in range(1, 8)))
    globex_locations = add_locations(app, globex, {"name": "Globex HQ", "code": "G1"})
    spare_token = make_token(app, acme.owner_id, name="spare")
    globex_token = make_token(app, globex.owner_id, name="globex")
    credential = Credential(app, acme.owner_id)
    known_ids = {
        "location_id": acme_locations + globex_locations,
        "agent_id": _agent_ids(app, acme) + _agent_ids(app, globex),
        "role_id": _role_ids(app, acme) + _role_ids(app, globex),
        "user_id": _user_ids(app, acme) + _user_ids(app, globex),
        "token_id": [int(t.split("|")[0]) for t in (spare_token, globex_token, credential.token)],
        "activity_id": _activity_ids(app, acme) + _activity_ids(app, globex),
        "entry_id": _audit_entry_ids(app),
        "import_id": _import_ids(app, acme) + _import_ids(app, globex),
        "export_id": _export_ids(app, acme) + _export_ids(app, globex),
        **_crm_ids(app, acme, globex),
        **_lead_ids(app, acme, globex),
        **_sales_ids(app, acme, globex),
    }
    return credential, known_ids


def _import_ids(app, tenant) -> list[int]:
    """A finished CSV import of the tenant."""
    from app.pipelines.models import ImportJob

    with app.app_context(), tenant_scope(tenant.business_id):
        job = ImportJob(kind="contacts", filename="people.csv", content="email\r\na@example.com\r\n",
                        status="done", mapping={"email": "email"}, total_rows=1, processed_rows=1, created_count=1)
        db.session.add(job)
        db.session.commit()
        return [job.id]


def _export_ids(app, tenant) -> list[int]:
    """A finished export of the tenant's owner (with its file) and a failed one."""
    from pathlib import Path

    from app.pipelines.models import ExportJob

    path = Path(app.config["EXPORT_DIR"]) / str(tenant.business_id) / "schemathesis.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\ufeffid\r\n1\r\n", encoding="utf-8")
    with app.app_context(), tenant_scope(tenant.business_id):
        done = ExportJob(kind="contacts", params={}, status="completed", rows_total=1, rows_done=1,
                         file_path=str(path), created_by_id=tenant.owner_id)
        failed = ExportJob(kind="deals", params={}, status="failed", error="The export failed.",
                           created_by_id=tenant.owner_id)
        db.session.add_all([done, failed])
        db.session.commit()
        return [done.id, failed.id]


def _role_ids(app, tenant) -> list[int]:
    """The tenant's default roles (locked but Cashier) plus two of its own, one held by a user."""
    from app.team.models import Role

    make_user(app, tenant, f"staff@{tenant.business_id}.example", permissions=["locations.view"], role_name="Staff")
    with app.app_context(), tenant_scope(tenant.business_id):
        db.session.add(Role(name=f"Spare#{tenant.business_id}", permissions=ensure_permissions(["roles.view"])))
        db.session.commit()
        return list(db.session.scalars(select(Role.id).order_by(Role.id)))


def _sales_ids(app, *tenants) -> dict:
    """Pipelines, stages and deals of both businesses (each has its default pipeline)."""
    from app.core.permissions import actor_for
    from app.pipelines import deals, pipelines
    from app.team.models import User

    ids = {"pipeline_id": [], "stage_id": [], "deal_id": []}
    for tenant in tenants:
        with app.app_context(), tenant_scope(tenant.business_id):
            actor = actor_for(db.session.get(User, tenant.owner_id))
            pipeline = pipelines.default_pipeline()
            stages = {stage.kind: stage for stage in reversed(pipeline.stages)}
            made = [deals.create_deal(actor, {"title": f"Deal {n}", "value": str(n * 100)}) for n in range(3)]
            made.append(deals.create_deal(actor, {"title": "Won", "stage_id": stages["won"].id}))
            ids["pipeline_id"].append(pipeline.id)
            ids["stage_id"] += [stage.id for stage in pipeline.stages]
            ids["deal_id"] += [deal.id for deal in made]
            db.session.commit()
    return ids


def _audit_entry_ids(app) -> list[int]:
    """Entries of both businesses (sign-up and the rows above left some)."""
    from app.core.audit import AuditEntry

    with app.app_context():
        return list(db.session.scalars(select(AuditEntry.id).execution_options(all_tenants=True)))


def _agent_ids(app, tenant) -> list[int]:
    """Commission agents: one active, one inactive, one soft-deleted (a 404 like Globex's)."""
    from app.core.models import utcnow

    return add_agents(app, tenant, {"first_name": "Agent", "email": "agent@example.com", "cmmsn_percent": 5},
                      {"first_name": "Idle", "status": "inactive", "cmmsn_percent": None},
                      {"first_name": "Gone", "cmmsn_percent": 1, "deleted_at": utcnow()})


def _user_ids(app, tenant) -> list[int]:
    """Staff users: the owner (the last admin), one with login, one without, one deleted."""
    from app.core.models import utcnow
    from app.team.models import User

    with app.app_context(), tenant_scope(tenant.business_id):
        users = [User(first_name="Login", username=f"login{tenant.business_id}", allow_login=True, status="active"),
                 User(first_name="Quiet", allow_login=False, status="inactive"),
                 User(first_name="Gone", allow_login=False, status="active", deleted_at=utcnow())]
        db.session.add_all(users)
        db.session.commit()
        return [tenant.owner_id] + [user.id for user in users]


def _activity_ids(app, tenant) -> list[int]:
    """Activities on a contact and a deal of the tenant, and one on no record."""
    from tests.pipelines.activity_rows import add_activity, records

    crm = records(app, tenant, owner_id=tenant.owner_id)
    return [add_activity(app, tenant, owner_id=tenant.owner_id, activityable_type="contact",
                         activityable_id=crm["contact"]),
            add_activity(app, tenant, type="task", owner_id=tenant.owner_id, activityable_type="deal",
                         activityable_id=crm["deal"]),
            add_activity(app, tenant, type="note", subject="Loose note", owner_id=tenant.owner_id)]


def _crm_ids(app, acme, globex) -> dict:
    """Contacts, accounts and custom fields of both businesses (Globex's must be 404s)."""
    from tests.pipelines.factories import add_accounts, add_contacts, add_custom_fields

    ids: dict[str, list[int]] = {"contact_id": [], "account_id": [], "field_id": []}
    for tenant in (acme, globex):
        ids["field_id"] += add_custom_fields(app, tenant, {"key": "tier", "label": "Tier", "type": "choice",
                                                           "options": ["Gold", "Silver"]},
                                             {"entity": "account", "key": "size", "label": "Size", "type": "number"})
        ids["account_id"] += add_accounts(app, tenant, {"name": f"Account of {tenant.name}"})
        ids["contact_id"] += add_contacts(app, tenant, {"first_name": "Ann", "email": f"ann@{tenant.business_id}.example",
                                                        "tags": ["vip"], "custom_fields": {"tier": "Gold"}},
                                          {"first_name": "Ben", "owner_id": None})
    return ids


def _lead_ids(app, acme, globex) -> dict:
    """Leads (one converted) and capture forms (one inactive) of both businesses."""
    from tests.leads_support import add_form, add_leads, add_pipeline

    add_pipeline(app, acme)
    leads = add_leads(app, acme, {"first_name": "Ann", "email": "ann@example.com", "company_name": "Lee Ltd"},
                      {"first_name": "Bob", "status": "converted"})
    leads += add_leads(app, globex, {"first_name": "Gil", "owner_id": globex.owner_id})
    forms = [add_form(app, acme, name="Web"), add_form(app, acme, name="Old", is_active=False),
             add_form(app, globex, name="G")]
    return {"lead_id": leads, "form_id": [f[0] for f in forms], "key": [f[1] for f in forms]}


def operations(app) -> list:
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    return [result.ok() for result in schema.get_all_operations()]


def generated_cases(operation, known_ids: dict):
    """Valid and invalid requests, plus valid ones aimed at rows that exist.

    Random ids almost never hit a row, so without the third kind GET, PUT and DELETE of
    an existing row would hardly be tried.
    """
    strategies = [operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE)]
    names = re.findall(r"{(\w+)}", operation.path)
    if names:
        ids = st.fixed_dictionaries({name: st.sampled_from(known_ids[name]) for name in names})
        strategies.append(ids.flatmap(lambda chosen: operation.as_strategy(path_parameters=chosen)))
    return st.one_of(strategies)


def test_every_operation_is_fuzzed(app):
    labels = {operation.label for operation in operations(app)}
    assert {"POST /api/v1/tokens", "GET /api/v1/me", "GET /api/v1/locations", "POST /api/v1/locations",
            "PATCH /api/v1/locations/{location_id}", "DELETE /api/v1/me/tokens/{token_id}",
            "GET /api/v1/activities", "POST /api/v1/activities", "PUT /api/v1/activities/{activity_id}",
            "PATCH /api/v1/activities/{activity_id}", "DELETE /api/v1/activities/{activity_id}",
            "GET /api/v1/search",
            "GET /api/v1/roles", "POST /api/v1/roles", "PUT /api/v1/roles/{role_id}",
            "DELETE /api/v1/roles/{role_id}", "GET /api/v1/commission-agents", "POST /api/v1/commission-agents",
            "PATCH /api/v1/commission-agents/{agent_id}", "DELETE /api/v1/commission-agents/{agent_id}",
            "GET /api/v1/business", "PATCH /api/v1/business", "GET /api/v1/audit-log",
            "GET /api/v1/audit-log/{entry_id}",
            "GET /api/v1/users", "POST /api/v1/users", "GET /api/v1/users/{user_id}", "PUT /api/v1/users/{user_id}",
            "PATCH /api/v1/users/{user_id}", "DELETE /api/v1/users/{user_id}",
            "POST /api/v1/users/{user_id}/password-reset",
            "GET /api/v1/contacts", "POST /api/v1/contacts/upsert", "PUT /api/v1/contacts/{contact_id}",
            "DELETE /api/v1/accounts/{account_id}", "PATCH /api/v1/custom-fields/{field_id}",

            "GET /api/v1/pipelines", "PUT /api/v1/pipelines/{pipeline_id}",
            "DELETE /api/v1/pipelines/{pipeline_id}/stages/{stage_id}", "GET /api/v1/deals", "POST /api/v1/deals",
            "PATCH /api/v1/deals/{deal_id}", "POST /api/v1/deals/{deal_id}/move-stage"} <= labels


def test_api_answers_as_documented(app, seeded):
    credential, known_ids = seeded
    for operation in operations(app):

        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=generated_cases(operation, known_ids))
        def answers_as_documented(case):
            response = case.call_and_validate(headers=credential.headers, checks=CHECKS)
            if case.method == "DELETE" and case.path.startswith("/api/v1/me/tokens") and response.status_code == 204:
                credential.renew()  # it may have revoked the very token it was sent with

        answers_as_documented()
