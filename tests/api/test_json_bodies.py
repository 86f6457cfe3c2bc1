"""JSON bodies the parser cannot take: nested 100,000 deep was a 500 (RecursionError);
now a 400 with the one error shape, before any parser or schema reads the body."""
import io

import pytest

from app.core.json_input import MAX_JSON_DEPTH, JsonTooDeep, json_depth, loads_json
from tests.conftest import make_token

TOO_DEEP = {"message": "The JSON body is nested too deeply."}
NOT_JSON = {"message": "The request body is not valid JSON."}
LEVELS = 100_000
DEEP_BODIES = {
    "arrays": "[" * LEVELS + "]" * LEVELS,
    "objects": '{"a":' * LEVELS + "1" + "}" * LEVELS,
    "unclosed": "[" * LEVELS,
    "in a field": '{"title": "T", "custom_fields": {"x": ' + "[" * LEVELS + "]" * LEVELS + "}}",
}


@pytest.mark.parametrize("body", DEEP_BODIES.values(), ids=DEEP_BODIES.keys())
def test_a_deeply_nested_body_is_400(api, body):
    for method, url in (("post", "/api/v1/deals"), ("post", "/api/v1/contacts"), ("put", "/api/v1/me")):
        response = getattr(api, method)(url, data=body, content_type="application/json")
        assert (response.status_code, response.get_json()) == (400, TOO_DEEP), url


def test_public_and_unauthenticated_endpoints_too(client):
    for url in ("/api/v1/public/leads", "/api/v1/deals", "/api/v1/tokens"):
        response = client.post(url, data=DEEP_BODIES["arrays"], content_type="application/json")
        assert (response.status_code, response.get_json()) == (400, TOO_DEEP), url


def test_a_screen_posted_a_deep_json_body_is_a_400_page(owner_browser):
    response = owner_browser.post("/pipelines/deals/new", data=DEEP_BODIES["objects"], content_type="application/json")
    assert response.status_code == 400 and response.mimetype == "text/html"


def test_the_limit_is_64_levels(api):
    def nested(levels: int) -> str:  # custom_fields is level 2 of the body
        return '{"title": "T", "custom_fields": {"x": ' + "[" * (levels - 2) + "]" * (levels - 2) + "}}"

    assert api.post("/api/v1/deals", data=nested(MAX_JSON_DEPTH), content_type="application/json").status_code == 422
    response = api.post("/api/v1/deals", data=nested(MAX_JSON_DEPTH + 1), content_type="application/json")
    assert (response.status_code, response.get_json()) == (400, TOO_DEEP)


@pytest.mark.parametrize("body", ['{"title": ', "not json", '{"title": "T",}', b'{"title": "\xff"}', "[" * 70])
def test_invalid_json_is_400_with_the_one_shape(api, body):
    response = api.post("/api/v1/deals", data=body, content_type="application/json")
    assert (response.status_code, response.get_json()) == (400, NOT_JSON)


def test_a_deep_mapping_field_in_an_import_is_422(app, acme):
    token = make_token(app, acme.owner_id)
    response = app.test_client().post(
        "/api/v1/imports", headers={"Authorization": f"Bearer {token}"}, content_type="multipart/form-data",
        data={"kind": "contacts", "file": (io.BytesIO(b"email\r\na@example.com\r\n"), "people.csv"),
              "mapping": "[" * LEVELS + "]" * LEVELS})
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"mapping": ["The mapping must be a JSON object."]}


def test_depth_is_measured_without_recursion():
    value = []
    for _ in range(LEVELS):
        value = [value]
    assert json_depth(value) == MAX_JSON_DEPTH + 1  # counting stops past the limit
    assert json_depth({"a": [1, {"b": []}]}) == 4 and json_depth("text") == 0
    assert loads_json('{"a": [1, 2]}') == {"a": [1, 2]}
    with pytest.raises(JsonTooDeep):
        loads_json("[" * 65 + "]" * 65)


LONG_NUMBER = "9" * 5000  # Python converts at most 4,300 digits to an int (sys.get_int_max_str_digits)


def test_an_integer_too_long_to_convert_is_400_without_signing_in(client):
    for url, body in (("/api/v1/tokens", '{"email": "a@b.c", "password": "x", "device_name": %s}'),
                      ("/api/v1/public/leads/nokey", '{"email": "a@b.c", "first_name": %s}')):
        response = client.post(url, data=body % LONG_NUMBER, content_type="application/json")
        assert (response.status_code, response.get_json()) == (400, NOT_JSON), url  # was a 500


def test_an_integer_too_long_to_convert_is_400_signed_in(api):
    response = api.post("/api/v1/contacts", data=f'{{"first_name": "A", "owner_id": {LONG_NUMBER}}}',
                        content_type="application/json")
    assert (response.status_code, response.get_json()) == (400, NOT_JSON)


def test_long_digit_runs_that_parse_are_left_alone(api):
    """Long numbers as strings, or a float, are valid JSON: the hook lets them through."""
    body = f'{{"first_name": "A", "notes": "{LONG_NUMBER}", "x": 1.{LONG_NUMBER}}}'
    assert api.post("/api/v1/contacts", data=body, content_type="application/json").status_code != 400


def test_flask_get_json_never_sees_a_body_it_cannot_load(app):
    """Screens and hooks that call request.get_json() are covered by the same request hook."""
    from werkzeug.exceptions import BadRequest

    for body in (f'{{"n": {LONG_NUMBER}}}', "[" * LEVELS):
        with (app.test_request_context("/pipelines/deals/new", method="POST", data=body,
                                       content_type="application/json"), pytest.raises(BadRequest)):
            app.preprocess_request()  # before any view could call request.get_json()
