"""Money in and out. Babel formats it for the currency (symbol, decimals) and reads what
people type in the business's number format; `parse_money` is the one reader of amounts
for forms, the API and CSV imports.
"""
import re
from contextlib import suppress
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from babel import numbers
from babel.numbers import NumberFormatError, UnknownCurrencyError, format_currency, format_decimal

CENT = Decimal("0.01")
MONEY_PLACES = 2  # every money column is NUMERIC(14, 2)
MONEY_MAX = Decimal("999999999999.99")
# Signs, ASCII digits and the two separators, nothing else: Babel (and Decimal) would also
# take exponents ("1e9"), "NaN", "Infinity", "1_000" and non-ASCII digits.
_NUMBER = re.compile(r"[+-]?[0-9.,]*[0-9][0-9.,]*", re.ASCII)
_PLAIN = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?", re.ASCII)  # what our API and CSV exports write
_SPACES = " \t\u00a0\u202f"


def number_locale(decimal_separator: str) -> str:
    """The business's number format ("." or ",") as the Babel locale that writes it."""
    return "de_DE" if decimal_separator == "," else "en_US"


def round_money(value: Decimal) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def format_money(value, currency: str, decimal_separator: str = ".") -> str:
    """`1250.5, "EUR"` -> "€1,250.50"; with a decimal comma -> "€1.250,50"."""
    return format_currency(Decimal(value or 0), currency or "USD", locale=number_locale(decimal_separator))


def money_string(value) -> str:
    """The JSON form of an amount: a string with two decimals ("1250.00")."""
    return f"{round_money(value or 0):.2f}"


class AmountError(ValueError):
    """An amount that cannot be read exactly; str() is the message to show at the field."""


def amount_example(decimal_separator: str = ".") -> str:
    return format_decimal(Decimal("1234.56"), locale=number_locale(decimal_separator))


def parse_money(raw, decimal_separator: str = ".", *, currency: str | None = None, label: str = "value",
                minimum: Decimal | None = Decimal(0)) -> Decimal | None:
    """An amount exactly as written, as a Decimal with 2 places; None for None or blank text.

    Text is read in the business's number format through Babel, strictly: "1,234.56" with
    ".", "1.234,56" with "," (grouping in the wrong places is refused, not guessed), and
    the plain "1234.56" our exports write is read in either format. The currency's symbol
    or code may stand before or after the number ("€1.234,56", "1234.56 EUR"). JSON
    numbers are taken when they are exact (1e9 is 1000000000). Refused, never rounded or
    cut short: exponents in text, suffixes ("1.5k"), hex, trailing letters, NaN/Infinity,
    more decimals than the currency has (at most 2), less than `minimum`, more than the
    column holds. Raises AmountError with the message, e.g. "The value must be an amount
    like 1,234.56."
    """
    if raw is None or (isinstance(raw, str) and not raw.strip(_SPACES)):
        return None
    unreadable = AmountError(f"The {label} must be an amount like {amount_example(decimal_separator)}.")
    if isinstance(raw, bool) or not isinstance(raw, (str, int, float, Decimal)):
        raise unreadable
    if isinstance(raw, str):
        value = _read_text(raw, decimal_separator, currency)
    else:
        value = Decimal(repr(raw)) if isinstance(raw, float) else Decimal(raw)
    if value is None or not value.is_finite():
        raise unreadable
    return _checked(value, currency, label, minimum)


def _read_text(raw: str, decimal_separator: str, currency: str | None) -> Decimal | None:
    text = _without_currency(raw.strip(_SPACES), decimal_separator, currency)
    if not _NUMBER.fullmatch(text):
        return None
    try:
        return numbers.parse_decimal(text, locale=number_locale(decimal_separator), strict=True)
    except (NumberFormatError, InvalidOperation):
        pass
    return Decimal(text) if _PLAIN.fullmatch(text) else None


def _without_currency(text: str, decimal_separator: str, currency: str | None) -> str:
    """`text` without one leading or trailing symbol or code of `currency` ("-$5" is "-5")."""
    if not currency:
        return text
    marks = {currency.upper()}
    for locale in {number_locale(decimal_separator), "en_US"}:
        with suppress(UnknownCurrencyError):
            marks.add(numbers.get_currency_symbol(currency.upper(), locale))
    sign = text[0] if text[:1] in ("-", "+") else ""
    body = text[len(sign):]
    for mark in sorted(marks, key=len, reverse=True):
        if body.startswith(mark):
            return sign + body[len(mark):].strip(_SPACES)
        if body.endswith(mark):
            return sign + body[:-len(mark)].strip(_SPACES)
    return text


def currency_places(currency: str | None) -> int:
    """Decimals the currency has (JPY 0), never more than the column holds."""
    try:
        return min(MONEY_PLACES, numbers.get_currency_precision(currency.upper())) if currency else MONEY_PLACES
    except (UnknownCurrencyError, AttributeError):
        return MONEY_PLACES


def _checked(value: Decimal, currency: str | None, label: str, minimum: Decimal | None) -> Decimal:
    if minimum is not None and value < minimum:
        raise AmountError(f"The {label} must be at least {minimum}.")
    if value > MONEY_MAX:
        raise AmountError(f"The {label} may not be greater than {MONEY_MAX}.")
    if value < -MONEY_MAX:
        raise AmountError(f"The {label} may not be less than {-MONEY_MAX}.")
    places = currency_places(currency)
    if value != value.quantize(Decimal(1).scaleb(-places)):
        if places == 0:
            raise AmountError(f"The {label} may not have decimal places in {currency.upper()}.")
        raise AmountError(f"The {label} may have at most {places} decimal places.")
    if value == 0:
        value = Decimal(0)  # not -0
    return value.quantize(CENT)
