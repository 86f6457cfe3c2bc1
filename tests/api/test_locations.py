"""/api/v1/locations: CRUD, validation, permissions, tenancy, list conventions, CSV."""
import csv
import io
import json

import pytest

from app.core.models import isoformat
from tests.api.conftest import add_locations, location_row
from tests.conftest import make_user

LOCATIONS = "/api/v1/locations"
FULL = {
    "name": "Bath Shop", "code": "BTH-1", "landmark": "By the abbey", "city": "Bath", "state": "Somerset",
    "country": "United Kingdom", "zip_code": "BA1 1LZ", "mobile": "+44 1225 000000",
    "email": "bath@acme.example", "website": "https://acme.example/bath", "is_active": True,
}
EMPTY = {key: None for key in FULL} | {"is_active": True}
CSV_HEADER = ("id,name,code,landmark,city,state,country,zip_code,mobile,email,website,is_active,"
              "created_at,updated_at")
NOT_FOUND = {"message": "Not found"}
UNAUTHORIZED = {"message": "Unauthorized"}


def expected(app, location_id: int) -> dict:
    """The API's view of a stored location: every field, timestamps in UTC with a Z."""
    row = location_row(app, location_id)
    return {
        "id": row.id, "name": row.name, "code": row.code, "landmark": row.landmark, "city": row.city,
        "state": row.state, "country": row.country, "zip_code": row.zip_code, "mobile": row.mobile,
        "email": row.email, "website": row.website, "is_active": row.is_active,
        "created_at": isoformat(row.created_at), "updated_at": isoformat(row.updated_at),
    }


def names(response) -> list[str]:
    assert response.status_code == 200, response.json
    return [row["name"] for row in response.json["data"]]


def invalid(field: str, message: str) -> dict:
    return {"message": message, "errors": {field: [message]}}


def read_csv(response) -> list[list[str]]:
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


# --- happy paths ---------------------------------------------------------------------

def test_create_location(app, api, acme):
    response = api.post(LOCATIONS, json=FULL)

    assert response.status_code == 201, response.json
    location_id = response.json["data"]["id"]
    assert response.headers["Location"].endswith(f"/api/v1/locations/{location_id}")
    assert response.json == {"data": {"id": location_id, **FULL, "created_at": response.json["data"]["created_at"],
                                      "updated_at": response.json["data"]["updated_at"]}}
    assert response.json == {"data": expected(app, location_id)}
    assert response.json["data"]["created_at"].endswith("Z")
    assert location_row(app, location_id).business_id == acme.business_id


def test_create_with_name_only_leaves_the_rest_empty(app, api):
    response = api.post(LOCATIONS, json={"name": "  Depot  "})

    assert response.status_code == 201, response.json
    data = response.json["data"]
    assert {k: data[k] for k in FULL} == EMPTY | {"name": "Depot"}
    assert response.json == {"data": expected(app, data["id"])}


def test_blank_optional_fields_are_stored_as_null(app, api):
    response = api.post(LOCATIONS, json={"name": "Depot", "city": "  ", "email": ""})
    assert response.status_code == 201, response.json
    row = location_row(app, response.json["data"]["id"])
    assert row.city is None and row.email is None


def test_get_location(app, api, acme):
    (location_id,) = add_locations(app, acme, dict(FULL))

    response = api.get(f"{LOCATIONS}/{location_id}")

    assert response.status_code == 200
    assert response.json == {"data": expected(app, location_id)}
    assert response.json["data"]["name"] == "Bath Shop"


def test_put_replaces_the_location(app, api, acme):
    (location_id,) = add_locations(app, acme, dict(FULL))

    response = api.put(f"{LOCATIONS}/{location_id}", json={"name": "Bath Outlet", "city": "Bath", "is_active": False})

    assert response.status_code == 200, response.json
    assert response.json == {"data": expected(app, location_id)}
    row = location_row(app, location_id)
    assert (row.name, row.city, row.is_active) == ("Bath Outlet", "Bath", False)
    # PUT is the whole location: what was not sent is now empty.
    assert (row.code, row.landmark, row.email, row.website) == (None, None, None, None)


def test_put_needs_the_name(app, api, acme):
    (location_id,) = add_locations(app, acme, dict(FULL))
    response = api.put(f"{LOCATIONS}/{location_id}", json={"city": "Bristol"})
    assert response.status_code == 422
    assert response.json == invalid("name", "The name field is required.")
    assert location_row(app, location_id).city == "Bath"


def test_patch_changes_only_what_is_sent(app, api, acme):
    (location_id,) = add_locations(app, acme, dict(FULL))

    response = api.patch(f"{LOCATIONS}/{location_id}", json={"city": "Wells", "is_active": False})

    assert response.status_code == 200, response.json
    assert response.json == {"data": expected(app, location_id)}
    data = response.json["data"]
    assert {k: data[k] for k in FULL} == FULL | {"city": "Wells", "is_active": False}


def test_patch_with_empty_body_changes_nothing(app, api, acme):
    (location_id,) = add_locations(app, acme, dict(FULL))
    response = api.patch(f"{LOCATIONS}/{location_id}", json={})
    assert response.status_code == 200
    assert {k: response.json["data"][k] for k in FULL} == FULL


def test_patch_can_clear_a_field(app, api, acme):
    (location_id,) = add_locations(app, acme, dict(FULL))
    response = api.patch(f"{LOCATIONS}/{location_id}", json={"landmark": None, "website": ""})
    assert response.status_code == 200
    row = location_row(app, location_id)
    assert row.landmark is None and row.website is None and row.city == "Bath"


def test_delete_location(app, api, acme):
    (location_id,) = add_locations(app, acme, {"name": "Old Depot"})

    response = api.delete(f"{LOCATIONS}/{location_id}")

    assert response.status_code == 204
    assert response.get_data() == b""
    assert location_row(app, location_id) is None
    assert api.get(f"{LOCATIONS}/{location_id}").status_code == 404
    assert api.delete(f"{LOCATIONS}/{location_id}").json == NOT_FOUND


@pytest.mark.parametrize("location_id", ["424242", "0", "2147483648", "99999999999999999999999"])
def test_unknown_id_is_404(api, location_id):
    """Ids beyond any database integer are a 404 too, never an overflow (500)."""
    url = f"{LOCATIONS}/{location_id}"
    for response in (api.get(url), api.put(url, json={"name": "X"}), api.patch(url, json={}), api.delete(url)):
        assert response.status_code == 404
        assert response.json == NOT_FOUND


@pytest.mark.parametrize("location_id", ["-1", "1.5", "abc"])
def test_id_that_is_not_a_number_is_404(api, location_id):
    for method in ("get", "put", "patch", "delete"):
        response = getattr(api, method)(f"{LOCATIONS}/{location_id}", json={"name": "X"})
        assert response.status_code == 404
        assert response.json == NOT_FOUND


# --- validation ----------------------------------------------------------------------

@pytest.mark.parametrize("body", [{}, {"city": "Bath"}, {"name": ""}, {"name": "   "}, {"name": None}])
def test_name_is_required(api, body):
    response = api.post(LOCATIONS, json=body)
    assert response.status_code == 422
    message = "The name field may not be null." if body.get("name", "") is None else "The name field is required."
    assert response.json == invalid("name", message)


@pytest.mark.parametrize("field, limit, label", [
    ("name", 120, "name"), ("code", 40, "code"), ("landmark", 200, "landmark"), ("city", 100, "city"),
    ("zip_code", 20, "zip code"), ("mobile", 40, "mobile"), ("website", 191, "website"),
])
def test_too_long_fields_are_422(app, api, acme, field, limit, label):
    body = {"name": "Depot", field: "x" * (limit + 1)}
    response = api.post(LOCATIONS, json=body)
    assert response.status_code == 422
    assert response.json == invalid(field, f"The {label} may not be greater than {limit} characters.")
    assert api.post(LOCATIONS, json={"name": "Depot", field: "x" * limit}).status_code == 201


def test_several_errors_are_summed_up_in_the_message(api):
    response = api.post(LOCATIONS, json={"code": "c" * 41})
    assert response.status_code == 422
    assert response.json == {
        "message": "The name field is required. (and 1 more error)",
        "errors": {"code": ["The code may not be greater than 40 characters."],
                   "name": ["The name field is required."]},
    }


@pytest.mark.parametrize("email", ["not-an-email", "a@", "@b.example", "two@@b.example"])
def test_invalid_email_is_422(api, email):
    response = api.post(LOCATIONS, json={"name": "Depot", "email": email})
    assert response.status_code == 422
    assert response.json == invalid("email", "The email must be a valid email address.")


def test_duplicate_code_is_422_ignoring_case(app, api, acme):
    (first_id,) = add_locations(app, acme, {"name": "First", "code": "BTH"})

    response = api.post(LOCATIONS, json={"name": "Second", "code": "bth"})
    assert response.status_code == 422
    assert response.json == invalid("code", "The code has already been taken.")

    (second_id,) = add_locations(app, acme, {"name": "Second", "code": "BRS"})
    response = api.patch(f"{LOCATIONS}/{second_id}", json={"code": "Bth"})
    assert response.status_code == 422
    assert response.json == invalid("code", "The code has already been taken.")
    assert location_row(app, second_id).code == "BRS"
    # A location keeps its own code, in any case.
    assert api.patch(f"{LOCATIONS}/{first_id}", json={"code": "bth"}).status_code == 200


def test_duplicate_code_with_non_ascii_capitals_is_422(app, api, acme):
    """SQLite's lower() folds only ASCII; the check must fold both sides alike (not a 500)."""
    add_locations(app, acme, {"name": "First", "code": "ÅB1"})
    response = api.post(LOCATIONS, json={"name": "Second", "code": "ÅB1"})
    assert response.status_code == 422
    assert response.json == invalid("code", "The code has already been taken.")


def test_same_code_in_another_business_is_fine(app, api, globex):
    add_locations(app, globex, {"name": "Globex Bath", "code": "BTH"})
    assert api.post(LOCATIONS, json={"name": "Acme Bath", "code": "BTH"}).status_code == 201


@pytest.mark.parametrize("body, field, message", [
    ({"name": "Depot", "colour": "red"}, "colour", "The colour field is not allowed."),
    ({"name": "Depot", "business_id": 2}, "business_id", "The business id field is not allowed."),
    ({"name": "Depot", "id": 7}, "id", "The id field is not allowed."),
    ({"name": 42}, "name", "The name must be a string."),
    ({"name": "Depot", "is_active": "maybe"}, "is_active", "The is active field must be true or false."),
    ({"name": "Depot", "is_active": None}, "is_active", "The is active field may not be null."),
])
def test_bad_fields_are_422(api, body, field, message):
    response = api.post(LOCATIONS, json=body)
    assert response.status_code == 422
    assert response.json == invalid(field, message)


NUL_REFUSED = {"message": "The request contains a NUL character, which is not allowed."}


@pytest.mark.parametrize("method, url, raw", [
    ("post", LOCATIONS, '{"name": "a\\u0000b"}'),
    ("patch", f"{LOCATIONS}/1", '{"city": "\\u0000"}'),
    ("get", f"{LOCATIONS}?q=a%00b", None),
    ("get", f"{LOCATIONS}?filter[city]=Bath,%00", None),
])
def test_nul_characters_are_400_not_a_database_error(api, method, url, raw):
    """PostgreSQL stores no NUL, and refuses it even in a WHERE: the app refuses it first."""
    kwargs = {"data": raw, "headers": {"Content-Type": "application/json"}} if raw else {}
    response = getattr(api, method)(url, **kwargs)
    assert response.status_code == 400
    assert response.json == NUL_REFUSED


def test_unpaired_surrogate_is_422_not_a_database_error(api):
    """JSON can spell "\\ud800"; it is not UTF-8, so no database could store it."""
    response = api.post(LOCATIONS, data='{"name": "Depot", "city": "\\ud800"}',
                        headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.json == invalid("city", "The city may not contain unpaired surrogate characters.")


@pytest.mark.parametrize("body", [[{"name": "Depot"}], "Depot", 42])
def test_body_that_is_not_an_object_is_422(api, body):
    response = api.post(LOCATIONS, json=body)
    assert response.status_code == 422
    assert response.json["message"] == "The request body must be a JSON object."


def test_failed_write_leaves_no_row(app, api):
    api.post(LOCATIONS, json={"name": "Depot", "email": "nope"})
    assert names(api.get(LOCATIONS)) == []


# --- permissions ---------------------------------------------------------------------

@pytest.fixture
def location_id(app, acme):
    return add_locations(app, acme, {"name": "Depot", "city": "Bath"})[0]


def _calls(location_id):
    return {
        "list": ("get", LOCATIONS, None),
        "csv": ("get", f"{LOCATIONS}?format=csv", None),
        "show": ("get", f"{LOCATIONS}/{location_id}", None),
        "create": ("post", LOCATIONS, {"name": "New"}),
        "put": ("put", f"{LOCATIONS}/{location_id}", {"name": "Renamed"}),
        "patch": ("patch", f"{LOCATIONS}/{location_id}", {"name": "Renamed"}),
        "delete": ("delete", f"{LOCATIONS}/{location_id}", None),
    }


@pytest.mark.parametrize("call", ["list", "csv", "show", "create", "put", "patch", "delete"])
def test_user_without_permissions_gets_403(app, api_as, acme, location_id, call):
    user = make_user(app, acme, "nobody@acme.example", permissions=[])
    method, url, body = _calls(location_id)[call]

    response = getattr(api_as(user), method)(url, json=body) if body else getattr(api_as(user), method)(url)

    assert response.status_code == 403
    assert response.json == UNAUTHORIZED
    assert location_row(app, location_id).name == "Depot"


@pytest.mark.parametrize("call, permission", [
    ("create", "locations.create"), ("put", "locations.update"), ("patch", "locations.update"),
    ("delete", "locations.delete"),
])
def test_each_write_needs_its_own_permission(app, api_as, acme, location_id, call, permission):
    viewer = make_user(app, acme, "viewer@acme.example", permissions=["locations.view"])
    method, url, body = _calls(location_id)[call]
    viewer_api = api_as(viewer)
    response = getattr(viewer_api, method)(url, json=body) if body else getattr(viewer_api, method)(url)
    assert response.status_code == 403
    assert response.json == UNAUTHORIZED

    allowed = make_user(app, acme, "allowed@acme.example", permissions=["locations.view", permission])
    allowed_api = api_as(allowed)
    response = getattr(allowed_api, method)(url, json=body) if body else getattr(allowed_api, method)(url)
    assert response.status_code in (200, 201, 204), response.get_data(as_text=True)


def test_permission_is_checked_before_existence(app, api_as, acme):
    user = make_user(app, acme, "nobody@acme.example", permissions=[])
    assert api_as(user).get(f"{LOCATIONS}/424242").status_code == 403


# --- tenancy -------------------------------------------------------------------------

def test_location_of_another_business_is_404(app, api, acme, globex):
    (globex_id,) = add_locations(app, globex, {"name": "Globex HQ", "code": "GHQ", "city": "Springfield"})
    add_locations(app, acme, {"name": "Acme Depot"})

    for response in (
        api.get(f"{LOCATIONS}/{globex_id}"),
        api.get(f"{LOCATIONS}/{globex_id}?format=csv"),
        api.put(f"{LOCATIONS}/{globex_id}", json={"name": "Taken"}),
        api.patch(f"{LOCATIONS}/{globex_id}", json={"name": "Taken"}),
        api.delete(f"{LOCATIONS}/{globex_id}"),
    ):
        assert response.status_code == 404
        assert response.json == NOT_FOUND
    row = location_row(app, globex_id)
    assert (row.name, row.business_id) == ("Globex HQ", globex.business_id)

    assert names(api.get(LOCATIONS)) == ["Acme Depot"]
    assert api.get(LOCATIONS).json["meta"]["total"] == 1
    assert names(api.get(f"{LOCATIONS}?q=Globex")) == []
    assert names(api.get(f"{LOCATIONS}?city=Springfield")) == []
    assert [row[1] for row in read_csv(api.get(f"{LOCATIONS}?format=csv"))[1:]] == ["Acme Depot"]
    # Another business's code does not block this one's.
    assert api.post(LOCATIONS, json={"name": "Acme HQ", "code": "ghq"}).status_code == 201


# --- list conventions ----------------------------------------------------------------

def _many(app, tenant, count: int):
    return add_locations(app, tenant, *({"name": f"Site {n:02d}", "city": "Bath"} for n in range(1, count + 1)))


def link(query: str) -> str:
    return f"http://localhost/api/v1/locations?{query}"


def test_list_defaults_to_20_per_page_with_meta_and_links(app, api, acme):
    _many(app, acme, 25)

    response = api.get(LOCATIONS)

    assert response.status_code == 200
    body = response.json
    assert set(body) == {"data", "meta", "links"}
    assert [row["name"] for row in body["data"]] == [f"Site {n:02d}" for n in range(1, 21)]
    assert body["data"][0] == expected(app, body["data"][0]["id"])
    assert body["meta"] == {"current_page": 1, "last_page": 2, "per_page": 20, "total": 25, "from": 1, "to": 20}
    assert body["links"] == {
        "first": link("page=1&per_page=20&sort=name&direction=asc"),
        "last": link("page=2&per_page=20&sort=name&direction=asc"),
        "prev": None,
        "next": link("page=2&per_page=20&sort=name&direction=asc"),
    }


def test_second_page(app, api, acme):
    _many(app, acme, 25)

    body = api.get(f"{LOCATIONS}?page=2&per_page=10").json

    assert [row["name"] for row in body["data"]] == [f"Site {n:02d}" for n in range(11, 21)]
    assert body["meta"] == {"current_page": 2, "last_page": 3, "per_page": 10, "total": 25, "from": 11, "to": 20}
    assert body["links"] == {
        "first": link("page=1&per_page=10&sort=name&direction=asc"),
        "last": link("page=3&per_page=10&sort=name&direction=asc"),
        "prev": link("page=1&per_page=10&sort=name&direction=asc"),
        "next": link("page=3&per_page=10&sort=name&direction=asc"),
    }


def test_page_beyond_the_last_is_empty_with_meta(app, api, acme):
    _many(app, acme, 3)

    body = api.get(f"{LOCATIONS}?page=5").json

    assert body["data"] == []
    assert body["meta"] == {"current_page": 5, "last_page": 1, "per_page": 20, "total": 3, "from": None, "to": None}
    assert body["links"]["next"] is None
    assert body["links"]["last"] == link("page=1&per_page=20&sort=name&direction=asc")


def test_huge_page_number_is_an_empty_page(app, api, acme):
    """Not an OFFSET overflow in the database (a 500)."""
    _many(app, acme, 3)
    body = api.get(f"{LOCATIONS}?page=461168601842738792").json
    assert body["data"] == []
    assert body["meta"] == {"current_page": 461168601842738792, "last_page": 1, "per_page": 20, "total": 3,
                            "from": None, "to": None}


def test_empty_list(api):
    body = api.get(LOCATIONS).json
    assert body["data"] == []
    assert body["meta"] == {"current_page": 1, "last_page": 1, "per_page": 20, "total": 0, "from": None, "to": None}
    assert body["links"]["prev"] is None and body["links"]["next"] is None


def test_links_keep_search_and_filters(app, api, acme):
    _many(app, acme, 3)
    body = api.get(f"{LOCATIONS}?per_page=1&search=site&filter[city]=Bath,Wells&is_active=true&order=desc").json
    assert body["links"]["next"] == link("page=2&per_page=1&sort=name&direction=desc&q=site&is_active=1&city=Bath,Wells")


@pytest.mark.parametrize("query, field, message", [
    ("per_page=0", "per_page", "The per page must be between 1 and 100."),
    ("per_page=101", "per_page", "The per page must be between 1 and 100."),
    ("per_page=ten", "per_page", "The per page must be an integer."),
    ("page=0", "page", "The page must be at least 1."),
    ("page=-1", "page", "The page must be at least 1."),
    ("sort=secret_column", "sort", "The selected sort is invalid."),
    ("sort=-business_id", "sort", "The selected sort is invalid."),
    ("orderby=password", "orderby", "The selected orderby is invalid."),
    ("direction=up", "direction", "The selected direction is invalid."),
    ("order=sideways", "order", "The selected order is invalid."),
    ("q=a", "q", "The q field must be at least 2 characters."),
    ("q=%20a%20", "q", "The q field must be at least 2 characters."),
    ("is_active=maybe", "is_active", "The is_active filter must be one of 1, 0, true, false."),
    ("filter[is_active]=1,perhaps", "filter[is_active]", "The is_active filter must be one of 1, 0, true, false."),
    ("format=xml", "format", "The selected format is invalid."),
])
def test_bad_list_parameters_are_422(api, query, field, message):
    response = api.get(f"{LOCATIONS}?{query}")
    assert response.status_code == 422
    assert response.json == invalid(field, message)


def test_per_page_bounds_are_accepted(app, api, acme):
    _many(app, acme, 3)
    assert api.get(f"{LOCATIONS}?per_page=1").json["meta"]["last_page"] == 3
    assert api.get(f"{LOCATIONS}?per_page=100").json["meta"]["per_page"] == 100


def test_q_longer_than_200_is_422(api):
    response = api.get(f"{LOCATIONS}?q={'x' * 201}")
    assert response.status_code == 422
    assert response.json == invalid("q", "The q field may not be greater than 200 characters.")


@pytest.fixture
def towns(app, acme):
    add_locations(app, acme,
                  {"name": "Bravo", "city": "Exeter", "code": "B1", "is_active": True},
                  {"name": "Alpha", "city": "Cardiff", "code": "A1", "is_active": False},
                  {"name": "Delta", "city": "Bath", "code": "D1", "is_active": True, "email": "delta@shop.example"},
                  {"name": "Charlie", "city": "Bristol", "code": "C1", "is_active": True})


@pytest.mark.parametrize("query, order", [
    ("", ["Alpha", "Bravo", "Charlie", "Delta"]),
    ("sort=name", ["Alpha", "Bravo", "Charlie", "Delta"]),
    ("sort=-name", ["Delta", "Charlie", "Bravo", "Alpha"]),
    ("sort=name&direction=desc", ["Delta", "Charlie", "Bravo", "Alpha"]),
    ("sort=city", ["Delta", "Charlie", "Alpha", "Bravo"]),
    ("sort=city&direction=desc", ["Bravo", "Alpha", "Charlie", "Delta"]),
    ("sort=-city", ["Bravo", "Alpha", "Charlie", "Delta"]),
    ("orderby=city&order=desc", ["Bravo", "Alpha", "Charlie", "Delta"]),
    ("orderby=-code", ["Delta", "Charlie", "Bravo", "Alpha"]),
    ("order=desc", ["Delta", "Charlie", "Bravo", "Alpha"]),
    ("sort=city&orderby=name", ["Delta", "Charlie", "Alpha", "Bravo"]),  # sort wins over its alias
])
def test_sorting(api, towns, query, order):
    assert names(api.get(f"{LOCATIONS}?{query}")) == order


@pytest.mark.parametrize("query, found", [
    ("q=br", ["Bravo", "Charlie"]),  # name Bravo, city Bristol
    ("q=BR", ["Bravo", "Charlie"]),
    ("q=a1", ["Alpha"]),  # code
    ("q=shop.example", ["Delta"]),  # email
    ("q=%25%25", []),  # LIKE wildcards are literal
    ("q=__", []),
    ("search=delta", ["Delta"]),  # legacy alias when q is absent
    ("search=a", ["Alpha", "Bravo", "Charlie", "Delta"]),  # the alias keeps its old, lax rule
    ("q=alpha&search=delta", ["Alpha"]),  # q wins
    ("q=&search=delta", ["Delta"]),  # an empty q is no q
    ("q=zz", []),
])
def test_search(api, towns, query, found):
    assert names(api.get(f"{LOCATIONS}?{query}")) == found


@pytest.mark.parametrize("query, found", [
    ("is_active=0", ["Alpha"]),
    ("is_active=false", ["Alpha"]),
    ("is_active=1", ["Bravo", "Charlie", "Delta"]),
    ("city=Bath", ["Delta"]),
    ("filter[city]=Bath,Bristol", ["Charlie", "Delta"]),
    ("filter[city]=Bath,Bristol&filter[is_active]=1", ["Charlie", "Delta"]),
    ("city=Bath,Cardiff&is_active=0", ["Alpha"]),
    ("city=Nowhere", []),
    ("city=&is_active=", ["Alpha", "Bravo", "Charlie", "Delta"]),  # empty inputs mean "any"
    ("filter[city]=Bath&city=Exeter", ["Delta"]),  # the filter[] form wins
    ("q=br&filter[city]=Bristol", ["Charlie"]),
])
def test_filters(api, towns, query, found):
    assert names(api.get(f"{LOCATIONS}?{query}")) == found


def test_unknown_query_parameters_are_ignored(api, towns):
    assert names(api.get(f"{LOCATIONS}?colour=red&filter[colour]=red")) == ["Alpha", "Bravo", "Charlie", "Delta"]


# --- CSV -----------------------------------------------------------------------------

def test_list_as_csv_has_bom_header_and_every_row(app, api, acme):
    ids = _many(app, acme, 25)

    response = api.get(f"{LOCATIONS}?format=csv&per_page=5&page=2")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == 'attachment; filename="locations.csv"'
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf" + CSV_HEADER.encode() + b"\r\n")
    rows = read_csv(response)
    assert rows[0] == CSV_HEADER.split(",")
    assert len(rows) == 26
    assert [int(row[0]) for row in rows[1:]] == ids
    first = expected(app, ids[0])
    assert rows[1] == [str(first["id"]), "Site 01", "", "", "Bath", "", "", "", "", "", "", "1",
                       first["created_at"], first["updated_at"]]


def test_csv_follows_filters_search_and_sort(app, api, towns):
    rows = read_csv(api.get(f"{LOCATIONS}?format=csv&filter[city]=Bath,Bristol,Exeter&sort=-name&q=ri"))
    assert [row[1] for row in rows[1:]] == ["Charlie"]
    rows = read_csv(api.get(f"{LOCATIONS}?format=csv&is_active=1&sort=-name"))
    assert [row[1] for row in rows[1:]] == ["Delta", "Charlie", "Bravo"]


def test_csv_of_an_empty_list_is_the_header(api):
    response = api.get(f"{LOCATIONS}?format=csv")
    assert response.get_data(as_text=True) == "\ufeff" + CSV_HEADER + "\r\n"


def test_csv_with_bad_parameters_is_json_422(api):
    response = api.get(f"{LOCATIONS}?format=csv&sort=nope")
    assert response.status_code == 422
    assert response.json == invalid("sort", "The selected sort is invalid.")


def test_csv_cells_that_look_like_formulas_are_quoted(app, api, acme):
    add_locations(app, acme, *({"name": name} for name in
                               ['=HYPERLINK("http://x")', "+1", "-2+3", "@SUM(A1)", "-5", "-1.5", "Plain"]))
    add_locations(app, acme, {"name": "Phone", "mobile": "+44 1225 000000", "city": "\tTab"})

    rows = read_csv(api.get(f"{LOCATIONS}?format=csv&sort=created_at"))

    assert [row[1] for row in rows[1:]] == [
        "'=HYPERLINK(\"http://x\")", "'+1", "'-2+3", "'@SUM(A1)", "-5", "-1.5", "Plain", "Phone",
    ]
    assert rows[-1][8] == "'+44 1225 000000"
    assert rows[-1][4] == "'\tTab"


def test_one_location_as_csv(app, api, acme):
    (location_id,) = add_locations(app, acme, dict(FULL, name="=cmd|' /C calc'!A0"))

    response = api.get(f"{LOCATIONS}/{location_id}?format=csv")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == f'attachment; filename="location-{location_id}.csv"'
    rows = read_csv(response)
    assert rows[0] == CSV_HEADER.split(",") + ["data_json"]
    assert len(rows) == 2
    data = expected(app, location_id)
    assert json.loads(rows[1][-1]) == data
    assert rows[1][1] == "'=cmd|' /C calc'!A0"
    assert rows[1][:-1] == [str(data["id"]), "'=cmd|' /C calc'!A0", "BTH-1", "By the abbey", "Bath", "Somerset",
                            "United Kingdom", "BA1 1LZ", "'+44 1225 000000", "bath@acme.example",
                            "https://acme.example/bath", "1", data["created_at"], data["updated_at"]]
    assert api.get(f"{LOCATIONS}/{location_id}?format=json").json == {"data": data}


def test_a_filter_of_only_commas_filters_nothing(app, api, acme):
    add_locations(app, acme, {"name": "One", "city": "Bath"}, {"name": "Two", "city": "Leeds"})
    for query in ("city=,", "filter[city]=,,", "is_active=,"):
        response = api.get(f"/api/v1/locations?{query}")
        assert response.status_code == 200, (query, response.json)
        assert response.json["meta"]["total"] == 2
