"""HTTP conventions every API endpoint shares, the OpenAPI document and the docs page."""
import re

import pytest

from tests.api.conftest import add_locations

JSON_ERRORS = "application/json"


def assert_json_error(response, status: int, body: dict):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == JSON_ERRORS
    assert response.json == body


# --- errors stay JSON on the API, HTML on pages ---------------------------------------

def test_405_has_allow_header_and_json_body(api):
    response = api.patch("/api/v1/locations", json={"name": "x"})
    assert_json_error(response, 405, {"message": "Method not allowed."})
    assert set(response.headers["Allow"].replace(" ", "").split(",")) == {"GET", "HEAD", "OPTIONS", "POST"}


def test_405_without_credential_is_still_405(client):
    response = client.delete("/api/v1/me")
    assert_json_error(response, 405, {"message": "Method not allowed."})
    assert "GET" in response.headers["Allow"]


@pytest.mark.parametrize("path", ["/api/v1/nope", "/api/v1/locations/abc", "/api/v1/locations/1/extra", "/api/nope"])
def test_unknown_api_path_is_json_404(api, path):
    assert_json_error(api.get(path), 404, {"message": "Not found"})


def test_html_pages_keep_html_errors(client):
    response = client.get("/nope")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "<html" in response.get_data(as_text=True).lower()


def test_html_405_keeps_allow_header(client):
    response = client.delete("/login")
    assert response.status_code == 405
    assert response.mimetype == "text/html"
    assert "POST" in response.headers["Allow"]


def test_missing_credential_is_401_with_www_authenticate(client):
    for response in (client.get("/api/v1/locations"), client.post("/api/v1/locations", json={"name": "x"}),
                     client.get("/api/v1/me/tokens")):
        assert_json_error(response, 401, {"message": "Unauthenticated."})
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="trellis"'


def test_basic_scheme_is_not_a_token(client, acme):
    response = client.get("/api/v1/me", headers={"Authorization": "Basic b3duZXI6cGFzcw=="})
    assert_json_error(response, 401, {"message": "Unauthenticated."})


def test_browser_session_does_not_authenticate_the_api(owner_browser):
    """The API takes credentials, not cookies (it is CSRF-exempt for that reason)."""
    response = owner_browser.get("/api/v1/me")
    assert_json_error(response, 401, {"message": "Unauthenticated."})


# --- content negotiation -------------------------------------------------------------

NOT_ACCEPTABLE = {"message": "This API answers in application/json (or text/csv for format=csv)."}


@pytest.mark.parametrize("url, accept", [
    ("/api/v1/locations", "text/html"),
    ("/api/v1/me", "text/html, application/xhtml+xml"),
    ("/api/v1/locations", "text/csv"),  # CSV only with format=csv
    ("/api/v1/locations?format=csv", "text/html"),
])
def test_406_when_nothing_we_answer_is_acceptable(api, url, accept):
    assert_json_error(api.get(url, headers={"Accept": accept}), 406, NOT_ACCEPTABLE)


def test_406_comes_before_authentication(client):
    assert_json_error(client.get("/api/v1/me", headers={"Accept": "text/html"}), 406, NOT_ACCEPTABLE)


@pytest.mark.parametrize("url, accept, mimetype", [
    ("/api/v1/locations", "application/json", "application/json"),
    ("/api/v1/locations", "*/*", "application/json"),
    ("/api/v1/locations", "application/*", "application/json"),
    ("/api/v1/locations", "text/html, application/json;q=0.5", "application/json"),
    ("/api/v1/locations?format=csv", "text/csv", "text/csv"),
    ("/api/v1/locations?format=csv", "application/json", "text/csv"),  # the parameter decides
])
def test_acceptable_accept_headers(api, url, accept, mimetype):
    response = api.get(url, headers={"Accept": accept})
    assert response.status_code == 200
    assert response.mimetype == mimetype


def test_415_for_a_body_that_is_not_json(api):
    response = api.post("/api/v1/locations", data="name=Depot", headers={"Content-Type": "text/plain"})
    assert_json_error(response, 415, {"message": "Send the request body as application/json."})
    response = api.put("/api/v1/locations/1", data="name=Depot",
                       headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 415


def test_json_with_charset_is_fine(api):
    response = api.post("/api/v1/locations", data='{"name": "Depot"}',
                        headers={"Content-Type": "application/json; charset=utf-8"})
    assert response.status_code == 201


@pytest.mark.parametrize("body", [b"{bad", b'{"name": "Depot"', b"\xff\xfe{", b"{'name': 'Depot'}"])
def test_malformed_json_is_400_never_500(api, body):
    response = api.post("/api/v1/locations", data=body, headers={"Content-Type": "application/json"})
    assert_json_error(response, 400, {"message": "The request body is not valid JSON."})


def test_malformed_json_on_the_public_token_endpoint(client):
    response = client.post("/api/v1/tokens", data=b"{", headers={"Content-Type": "application/json"})
    assert_json_error(response, 400, {"message": "The request body is not valid JSON."})


def test_413_for_a_body_over_the_limit(app, api, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 64)  # monkeypatch restores it
    response = api.post("/api/v1/locations", json={"name": "x" * 100})
    assert_json_error(response, 413, {"message": "The request body is too large."})
    assert api.post("/api/v1/locations", json={"name": "small"}).status_code == 201


# --- rate limits ---------------------------------------------------------------------

def test_rate_limit_headers_and_429(app, api, monkeypatch):
    monkeypatch.setitem(app.config, "API_RATE_LIMITS", {"free": 3, "pro": 3})

    seen = [api.get("/api/v1/me") for _ in range(3)]
    assert [r.headers["X-RateLimit-Remaining"] for r in seen] == ["2", "1", "0"]
    assert all(r.headers["X-RateLimit-Limit"] == "3" for r in seen)
    assert all(int(r.headers["X-RateLimit-Reset"]) > 1_000_000_000 for r in seen)  # an epoch second

    response = api.get("/api/v1/me")
    assert_json_error(response, 429, {"message": "Too Many Attempts."})
    assert int(response.headers["Retry-After"]) > 0


# --- OpenAPI and the docs page -------------------------------------------------------

@pytest.fixture
def spec(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.json


def resolve(spec, node: dict) -> dict:
    """Follow `$ref`s inside the document."""
    while "$ref" in node:
        target = spec
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = target
    return node


def test_openapi_lists_the_paths(spec):
    assert spec["openapi"].startswith("3.")
    assert {
        "/api/v1/tokens", "/api/v1/me", "/api/v1/me/tokens", "/api/v1/me/tokens/{token_id}",
        "/api/v1/locations", "/api/v1/locations/{location_id}",
    } <= set(spec["paths"])
    locations = spec["paths"]["/api/v1/locations/{location_id}"]
    assert {"get", "put", "patch", "delete"} <= set(locations)


def test_list_operations_document_the_envelope_and_csv(spec):
    ok = resolve(spec, spec["paths"]["/api/v1/locations"]["get"]["responses"]["200"])
    assert "headers" not in ok  # no X-Pagination: paging is in the body
    assert set(ok["content"]) == {"application/json", "text/csv"}
    envelope = resolve(spec, ok["content"]["application/json"]["schema"])
    assert set(envelope["properties"]) == {"data", "meta", "links"}
    assert set(envelope["required"]) == {"data", "meta", "links"}
    assert envelope["properties"]["data"]["type"] == "array"
    meta = resolve(spec, envelope["properties"]["meta"])
    assert set(meta["properties"]) == set(meta["required"]) == {
        "current_page", "last_page", "per_page", "total", "from", "to"}
    links = resolve(spec, envelope["properties"]["links"])
    assert set(links["properties"]) == set(links["required"]) == {"first", "last", "prev", "next"}

    assert "PaginationMetadata" not in spec["components"]["schemas"]

    tokens_ok = resolve(spec, spec["paths"]["/api/v1/me/tokens"]["get"]["responses"]["200"])
    tokens_envelope = resolve(spec, tokens_ok["content"]["application/json"]["schema"])
    assert set(tokens_envelope["properties"]) == {"data", "meta", "links"}


def test_list_parameters_are_documented(spec):
    parameters = {p["name"]: p for p in spec["paths"]["/api/v1/locations"]["get"]["parameters"]}
    assert {"page", "per_page", "sort", "direction", "orderby", "order", "q", "search", "format",
            "is_active", "filter[is_active]", "city", "filter[city]"} <= set(parameters)
    assert parameters["per_page"]["schema"] == {"type": "integer", "default": 20, "minimum": 1, "maximum": 100}
    assert parameters["q"]["schema"]["minLength"] == 2
    assert "-name" in parameters["sort"]["schema"]["enum"]


def test_single_object_answers_document_data_and_csv(spec):
    ok = resolve(spec, spec["paths"]["/api/v1/locations/{location_id}"]["get"]["responses"]["200"])
    assert set(ok["content"]) == {"application/json", "text/csv"}
    envelope = resolve(spec, ok["content"]["application/json"]["schema"])
    assert envelope["required"] == ["data"]
    location = resolve(spec, envelope["properties"]["data"])
    assert location["properties"]["created_at"] == {"type": "string", "format": "date-time", "readOnly": True}


@pytest.mark.parametrize("path, method, statuses", [
    ("/api/v1/locations", "get", {"200", "400", "401", "403", "406", "422", "429"}),
    ("/api/v1/locations", "post", {"201", "400", "401", "403", "406", "413", "415", "422", "429"}),
    ("/api/v1/locations/{location_id}", "get", {"200", "400", "401", "403", "404", "406", "422", "429"}),
    ("/api/v1/locations/{location_id}", "put", {"200", "400", "401", "403", "404", "415", "422", "429"}),
    ("/api/v1/locations/{location_id}", "patch", {"200", "400", "401", "403", "404", "415", "422", "429"}),
    ("/api/v1/locations/{location_id}", "delete", {"204", "400", "401", "403", "404", "429"}),
    ("/api/v1/me/tokens/{token_id}", "delete", {"204", "400", "401", "403", "404", "429"}),
    ("/api/v1/tokens", "post", {"201", "400", "415", "422", "429"}),
])
def test_error_answers_are_documented_with_the_error_schema(spec, path, method, statuses):
    responses = spec["paths"][path][method]["responses"]
    assert statuses <= set(responses)
    for status in statuses - {"200", "201", "204"}:
        schema = resolve(spec, responses[status])["content"]["application/json"]["schema"]
        assert resolve(spec, schema)["required"] == ["message"]
        assert set(resolve(spec, schema)["properties"]) == {"message", "errors"}


def test_token_endpoint_needs_no_security_and_others_do(spec):
    assert spec["paths"]["/api/v1/tokens"]["post"]["security"] == []
    assert spec["security"] == [{"bearerAuth": []}]
    assert "401" not in spec["paths"]["/api/v1/tokens"]["post"]["responses"]


def test_docs_page_uses_local_assets(client):
    response = client.get("/api/docs")

    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "http://" not in html and "https://" not in html and "//cdn" not in html
    assert "/api/v1/openapi.json" in html
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any(a.endswith(".js") for a in assets) and any(a.endswith(".css") for a in assets)
    for asset in assets:
        assert asset.startswith("/static/"), asset  # vendored Swagger UI and our own start script
        fetched = client.get(asset)
        assert fetched.status_code == 200, asset
        assert len(fetched.get_data()) > (1000 if "/vendor/" in asset else 100), asset
        fetched.close()


def test_api_pages_are_not_cached(api, acme, app):
    add_locations(app, acme, {"name": "Depot"})
    assert api.get("/api/v1/locations").headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("url, body", [
    ("/api/v1/activities", {"subject": "Call", "owner_id": 9223372036854775808}),
    ("/api/v1/activities", {"subject": "Call", "owner_id": 2**31}),
    ("/api/v1/contacts", {"first_name": "Ann", "account_id": 2**40}),
    ("/api/v1/leads", {"email": "a@example.com", "owner_id": -(2**40)}),
])
def test_whole_numbers_no_column_holds_are_422_not_500(api, url, body):
    response = api.post(url, json=body)
    assert response.status_code == 422, response.get_data(as_text=True)
    [field] = [k for k in body if isinstance(body[k], int)]
    assert response.get_json()["errors"] == {field: [f"The selected {field.replace('_', ' ')} is invalid."]}
