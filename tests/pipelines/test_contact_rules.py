"""Small rules of the contacts and accounts services and screens."""
from types import SimpleNamespace

import pytest

from app.pipelines.accounts import normalize_domain
from app.pipelines.custom_fields import slugify_key
from app.pipelines.record_web import errors_by_input, pretty_phone, safe_next
from app.pipelines.records import business_region


def _actor(currency: str, timezone: str = "UTC"):
    return SimpleNamespace(user=SimpleNamespace(business=SimpleNamespace(currency=currency, timezone=timezone)))


@pytest.mark.parametrize("currency, timezone, region", [
    ("GBP", "Europe/London", "GB"), ("USD", "UTC", "US"), ("EUR", "Europe/Berlin", "DE"),
    ("EUR", "UTC", None), ("XYZ", "UTC", None), ("GBP", "UTC", "GB"),
])
def test_phone_region_of_the_business(currency, timezone, region):
    assert business_region(_actor(currency, timezone)) == region


@pytest.mark.parametrize("typed, domain", [
    ("https://www.Acme.com/about?x=1", "acme.com"), ("acme.co.uk", "acme.co.uk"), ("HTTP://shop.acme.io#top", "shop.acme.io"),
])
def test_domains(typed, domain):
    assert normalize_domain(typed) == domain


def test_keys_from_labels():
    assert slugify_key("Date of birth") == "date_of_birth"
    assert slugify_key("2nd phone!") == "f_2nd_phone"
    assert slugify_key("Größe") == "gr_e"


def test_screen_helpers():
    assert pretty_phone("+441174960123") == "+44 117 496 0123"
    assert pretty_phone("0117 496 0000") == "0117 496 0000"
    assert errors_by_input({"custom_fields.tier": ["a"], "tags.0": ["b"], "email": ["c"]}) == {
        "cf.tier": ["a"], "tags": ["b"], "email": ["c"]}
    assert safe_next("/pipelines/contacts/?page=2", "/pipelines/contacts", "/x") == "/pipelines/contacts/?page=2"
    for evil in ("https://evil.example/pipelines/contacts", "//evil.example/pipelines/contacts", "/login",
                 "/pipelines/contacts\\@evil"):
        assert safe_next(evil, "/pipelines/contacts", "/x") == "/x"
