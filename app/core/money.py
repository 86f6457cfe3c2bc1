"""Money shown to people: Babel formats it for the currency (symbol, decimals)."""
from decimal import ROUND_HALF_UP, Decimal

from babel.numbers import format_currency

CENT = Decimal("0.01")


def round_money(value: Decimal) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def format_money(value, currency: str, decimal_separator: str = ".") -> str:
    """`1250.5, "EUR"` -> "€1,250.50"; with a decimal comma -> "€1.250,50"."""
    locale = "de_DE" if decimal_separator == "," else "en_US"
    return format_currency(Decimal(value or 0), currency or "USD", locale=locale)


def money_string(value) -> str:
    """The JSON form of an amount: a string with two decimals ("1250.00")."""
    return f"{round_money(value or 0):.2f}"
