"""Commission agents screens: list with live search, create/edit with inline errors, delete."""
from decimal import Decimal

from flask import Blueprint, flash, redirect, request, url_for
from flask_login import login_required
from flask_wtf import FlaskForm
from wtforms import EmailField, StringField, TextAreaField

from app.core.csv_export import csv_response
from app.core.errors import ValidationFailed
from app.core.htmx import htmx_redirect, render_page
from app.core.money import format_money
from app.core.permissions import require
from app.core.web import apply_errors, browser_actor
from app.team import agents, commissions

bp = Blueprint("agents", __name__, url_prefix="/team/agents")


class AgentForm(FlaskForm):
    # No validators here: the service owns the rules and its messages go next to the fields.
    surname = StringField("Prefix", description="Mr, Ms, Dr, …")
    first_name = StringField("First name")
    last_name = StringField("Last name")
    email = EmailField("E-mail")
    # Named as the service reports its errors (contact_no), so they land on this field.
    contact_no = StringField("Contact number")
    address = TextAreaField("Address")
    cmmsn_percent = StringField("Commission %")

    def values(self) -> dict:
        return {name: field.data for name, field in self._fields.items() if name != "csrf_token"}


def format_percent(value: Decimal | None, separator: str = ".") -> str:
    """12.50 -> "12.5" (or "12,5"): how the business writes it, without padding zeros."""
    if value is None:
        return ""
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(".", separator)


# The service words its messages for the API's field names; people read these instead.
_HUMAN_LABELS = {"cmmsn percent": "commission percentage", "contact no": "contact number"}


def _in_plain_words(exc: ValidationFailed) -> ValidationFailed:
    def plain(message: str) -> str:
        for api_label, label in _HUMAN_LABELS.items():
            message = message.replace(api_label, label)
        return message

    return ValidationFailed({field: [plain(m) for m in messages] for field, messages in exc.errors.items()})


def _form(actor, agent=None) -> AgentForm:
    if agent is None or request.method == "POST":
        return AgentForm()
    separator = actor.user.business.decimal_separator
    return AgentForm(data={"surname": agent.surname, "first_name": agent.first_name, "last_name": agent.last_name,
                           "email": agent.email, "contact_no": agent.contact_number, "address": agent.address,
                           "cmmsn_percent": format_percent(agent.cmmsn_percent, separator)})


def _render_form(actor, form: AgentForm, agent, status: int):
    separator = actor.user.business.decimal_separator
    return render_page("team/agents/form.html", form=form, agent=agent, status=status,
                       percent_example="12,5" if separator == "," else "12.5")


@bp.route("/")
@login_required
def index():
    actor = browser_actor()
    params, error = agents.AGENT_LIST.parse_for_page(request.args)
    page = agents.list_agents(actor, params)
    return render_page("team/agents/index.html", block="results", page=page, params=params, error=error,
                       statuses=agents.STATUSES, separator=actor.user.business.decimal_separator,
                       format_percent=format_percent)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def create():
    actor = browser_actor()
    require(actor, "user.create")
    form = _form(actor)
    if form.validate_on_submit():
        try:
            agent = agents.create_agent(actor, form.values())
        except ValidationFailed as exc:
            apply_errors(form, _in_plain_words(exc))
        else:
            flash(f"Agent \u201c{agent.full_name}\u201d added.", "success")
            return redirect(url_for("agents.index"))
    return _render_form(actor, form, None, 422 if request.method == "POST" else 200)


@bp.route("/<id:agent_id>/edit", methods=["GET", "POST"])
@login_required
def edit(agent_id: int):
    actor = browser_actor()
    agent = agents.get_agent(actor, agent_id)
    require(actor, "user.update")
    form = _form(actor, agent)
    if form.validate_on_submit():
        try:
            agents.update_agent(actor, agent_id, form.values())
        except ValidationFailed as exc:
            apply_errors(form, _in_plain_words(exc))
        else:
            flash(f"Agent \u201c{agent.full_name}\u201d saved.", "success")
            return redirect(url_for("agents.index"))
    return _render_form(actor, form, agent, 422 if request.method == "POST" else 200)


@bp.route("/<id:agent_id>/delete", methods=["POST"])
@login_required
def delete(agent_id: int):
    actor = browser_actor()
    name = agents.get_agent(actor, agent_id).full_name
    agents.delete_agent(actor, agent_id)
    flash(f"Agent \u201c{name}\u201d deleted.", "success")
    return htmx_redirect(url_for("agents.index"))


@bp.route("/<id:agent_id>/statement")
@login_required
def statement(agent_id: int):
    actor = browser_actor()
    month = request.args.get("month") or None
    try:
        result = commissions.commission_statement(actor, agent_id, month)
    except ValidationFailed as exc:
        flash(exc.errors["month"][0], "warning")
        return redirect(url_for("agents.statement", agent_id=agent_id))
    if request.args.get("format") == "csv":
        return csv_response(commissions.STATEMENT_COLUMNS, list(commissions.statement_rows(result)),
                            f"commission-{agent_id}-{result.month_key}.csv")
    separator = actor.user.business.decimal_separator
    return render_page("team/agents/statement.html", statement=result, separator=separator,
                       format_percent=format_percent,
                       money=lambda value, currency: format_money(value, currency, separator))
