"""Commission statements: what an agent earned in a month (seed 002's commission agents).

A statement lists the deals attributed to the agent that were won in the month (in the
business's time zone), each with its commission at the agent's current percent. Each
line's amount is rounded to the cent and the total is the sum of the lines, so the
statement adds up on paper. Orders join the statement once the sales area exists.
"""
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.core.errors import ValidationFailed
from app.core.models import as_utc
from app.core.money import round_money
from app.core.permissions import Actor, require
from app.extensions import db
from app.pipelines.models import Deal
from app.team.agents import get_agent


@dataclass
class StatementLine:
    deal: Deal
    won_at: datetime
    value: Decimal
    currency: str
    commission: Decimal


@dataclass
class CurrencyTotal:
    currency: str
    value: Decimal = Decimal("0")
    commission: Decimal = Decimal("0")


@dataclass
class Statement:
    agent: object
    month: date
    percent: Decimal
    lines: list[StatementLine] = field(default_factory=list)
    totals: list[CurrencyTotal] = field(default_factory=list)

    @property
    def month_key(self) -> str:
        return self.month.strftime("%Y-%m")

    @property
    def previous_month(self) -> str:
        year, month = (self.month.year, self.month.month - 1) if self.month.month > 1 else (self.month.year - 1, 12)
        return f"{year:04d}-{month:02d}"

    @property
    def next_month(self) -> str:
        year, month = (self.month.year, self.month.month + 1) if self.month.month < 12 else (self.month.year + 1, 1)
        return f"{year:04d}-{month:02d}"


def parse_month(text: str | None, today: date) -> date:
    """"2026-11" -> 2026-11-01; blank -> this month; anything else is a 422."""
    if not text:
        return today.replace(day=1)
    try:
        year, month = (int(part) for part in text.split("-"))
        return date(year, month, 1)
    except ValueError:
        raise ValidationFailed({"month": ["The month must be written as YYYY-MM, e.g. 2026-11."]}) from None


def month_bounds(month: date, timezone: str) -> tuple[datetime, datetime]:
    """The month's first instant and the next month's, in UTC, for the business's zone."""
    zone = ZoneInfo(timezone or "UTC")
    following = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    start = datetime.combine(month, time.min, tzinfo=zone)
    end = datetime.combine(following, time.min, tzinfo=zone)
    return as_utc(start), as_utc(end)


def commission_statement(actor: Actor, agent_id: int, month_text: str | None) -> Statement:
    require(actor, "user.view")
    require(actor, "deals.view_all")  # it lists deals of every owner
    agent = get_agent(actor, agent_id)
    business = actor.user.business
    zone = ZoneInfo(business.timezone or "UTC")
    month = parse_month(month_text, datetime.now(zone).date())
    start, end = month_bounds(month, business.timezone)
    deals = db.session.scalars(
        select(Deal)
        .where(Deal.commission_agent_id == agent.id, Deal.status == "won",
               Deal.closed_at >= start, Deal.closed_at < end)
        .options(joinedload(Deal.contact), joinedload(Deal.account))
        .order_by(Deal.closed_at, Deal.id)
    )
    percent = Decimal(agent.cmmsn_percent or 0)
    statement = Statement(agent=agent, month=month, percent=percent)
    totals: dict[str, CurrencyTotal] = {}
    for deal in deals:
        commission = round_money(Decimal(deal.value) * percent / 100)
        statement.lines.append(StatementLine(deal, as_utc(deal.closed_at), Decimal(deal.value), deal.currency,
                                             commission))
        total = totals.setdefault(deal.currency, CurrencyTotal(deal.currency))
        total.value += Decimal(deal.value)
        total.commission += commission
    statement.totals = [totals[c] for c in sorted(totals)]
    return statement


def statement_rows(statement: Statement):
    """The statement as CSV rows (one per deal)."""
    for line in statement.lines:
        deal = line.deal
        yield {
            "month": statement.month_key,
            "deal_id": deal.id,
            "deal": deal.title,
            "contact": deal.contact.name if deal.contact else "",
            "account": deal.account.name if deal.account else "",
            "won_at": line.won_at.isoformat().replace("+00:00", "Z"),
            "currency": line.currency,
            "value": f"{line.value:.2f}",
            "percent": f"{statement.percent.normalize():f}",
            "commission": f"{line.commission:.2f}",
        }


STATEMENT_COLUMNS = ["month", "deal_id", "deal", "contact", "account", "won_at", "currency", "value", "percent",
                     "commission"]
