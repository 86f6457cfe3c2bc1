"""parse_money: the one reader of amounts (forms, API, CSV), in the business's number format."""
from decimal import Decimal

import pytest

from app.core.money import AmountError, parse_money

DOT_EXAMPLE = "The value must be an amount like 1,234.56."
COMMA_EXAMPLE = "The value must be an amount like 1.234,56."


@pytest.mark.parametrize("text, separator, expected", [
    ("1,234.56", ".", "1234.56"),
    ("1234.56", ".", "1234.56"),
    ("1.234,56", ",", "1234.56"),
    ("1234,56", ",", "1234.56"),
    ("1.234", ",", "1234.00"),      # grouping, as the business writes it
    ("1234.56", ",", "1234.56"),    # the plain form our exports write, in either format
    ("1.25", ",", "1.25"),          # not a grouping: only the plain reading is left
    (" 12 ", ".", "12.00"),
    ("$1,234.56", ".", "1234.56"),
    ("1.234,56 €", ",", "1234.56"),
    ("USD 99", ".", "99.00"),
    ("-0", ".", "0.00"),
    (".5", ".", "0.50"),
    ("1,000,000", ".", "1000000.00"),
    ("999,999,999,999.99", ".", "999999999999.99"),
])
def test_reads_amounts_as_the_business_writes_them(text, separator, expected):
    currency = "EUR" if separator == "," else "USD"
    assert parse_money(text, separator, currency=currency) == Decimal(expected)
    assert str(parse_money(text, separator, currency=currency)) == expected


@pytest.mark.parametrize("text", ["1e9", "1E9", "1.5k", "0x10", "12abc", "NaN", "Infinity", "-Infinity", "1_000",
                                  "\uff11\uff12", "\u0661\u0662", "12 34", "--5", "1,2,3.4", "1.234,56", "1234,56",
                                  "5 EUR", "abc", "+", ",", "1.2.3", "1,23"])
def test_refuses_what_it_cannot_read_exactly_with_a_dot(text):
    with pytest.raises(AmountError) as refused:
        parse_money(text, ".", currency="USD")
    assert str(refused.value) == DOT_EXAMPLE


@pytest.mark.parametrize("text", ["1e9", "1.5k", "0x10", "12abc", "1,234.56", "1.2.3,4", "1.23,4"])
def test_refuses_what_it_cannot_read_exactly_with_a_comma(text):
    with pytest.raises(AmountError) as refused:
        parse_money(text, ",", currency="EUR")
    assert str(refused.value) == COMMA_EXAMPLE


@pytest.mark.parametrize("raw, expected", [
    (1e9, "1000000000.00"), (12, "12.00"), (12.5, "12.50"), (0.1, "0.10"), (Decimal("7.10"), "7.10"),
])
def test_json_numbers_are_taken_when_exact(raw, expected):
    assert str(parse_money(raw, ".")) == expected


@pytest.mark.parametrize("raw, message", [
    ("-5", "The value must be at least 0."),
    (-5, "The value must be at least 0."),
    ("1.005", "The value may have at most 2 decimal places."),
    ("1,234.567", "The value may have at most 2 decimal places."),
    (0.1 + 0.2, "The value may have at most 2 decimal places."),   # 0.30000000000000004: not rounded
    ("1000000000000", "The value may not be greater than 999999999999.99."),
    (1e300, "The value may not be greater than 999999999999.99."),
    (float("nan"), DOT_EXAMPLE),
    (float("inf"), DOT_EXAMPLE),
    (True, DOT_EXAMPLE),
    ([1], DOT_EXAMPLE),
])
def test_range_places_and_types(raw, message):
    with pytest.raises(AmountError) as refused:
        parse_money(raw, ".", currency="USD")
    assert str(refused.value) == message


def test_the_currency_decides_the_decimals():
    assert parse_money("1,250", ".", currency="JPY") == Decimal("1250")
    assert parse_money("1250.00", ".", currency="JPY") == Decimal("1250")
    with pytest.raises(AmountError, match=r"^The value may not have decimal places in JPY\.$"):
        parse_money("1250.50", ".", currency="JPY")


def test_blank_is_none_and_the_label_and_minimum_are_the_callers():
    assert parse_money(None) is None and parse_money("  ") is None
    assert parse_money("-5", minimum=None) == Decimal("-5.00")
    with pytest.raises(AmountError, match=r"^The value may not be less than -999999999999\.99\.$"):
        parse_money("-1000000000000", minimum=None)
    with pytest.raises(AmountError, match=r"^The deal value must be an amount like 1,234\.56\.$"):
        parse_money("1e9", label="deal value")
