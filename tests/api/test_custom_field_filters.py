"""`cf[key]=value` filters the leads and deals lists too (typed by the field's definition)."""


def define(api, entity, key, type_, **extra):
    response = api.post("/api/v1/custom-fields", json={"entity": entity, "key": key, "label": key.title(),
                                                       "type": type_, **extra})
    assert response.status_code == 201, response.get_json()


def titles(response, field):
    assert response.status_code == 200, response.get_json()
    return sorted(row[field] for row in response.get_json()["data"])


def test_leads_filter_by_custom_fields(api):
    define(api, "lead", "budget", "number")
    define(api, "lead", "garden", "choice", options=["small", "large"])
    for email, custom in (("a@example.com", {"budget": 500, "garden": "small"}),
                          ("b@example.com", {"budget": 1500, "garden": "large"}),
                          ("c@example.com", {})):
        assert api.post("/api/v1/leads", json={"email": email, "custom_fields": custom}).status_code == 201
    assert titles(api.get("/api/v1/leads?cf[garden]=large"), "email") == ["b@example.com"]
    assert titles(api.get("/api/v1/leads?filter[cf.budget]=500"), "email") == ["a@example.com"]
    csv_body = api.get("/api/v1/leads?cf[garden]=small&format=csv").get_data().decode("utf-8-sig")
    assert "a@example.com" in csv_body and "b@example.com" not in csv_body
    bad = api.get("/api/v1/leads?cf[budget]=lots")
    assert bad.status_code == 422 and bad.get_json()["errors"] == {"cf[budget]": ["The cf[budget] filter must be a number."]}
    unknown = api.get("/api/v1/leads?cf[shoe]=9")
    assert unknown.status_code == 422 and unknown.get_json()["errors"] == {"cf[shoe]": ["There is no lead field named shoe."]}


def test_deals_take_the_same_cf_parameter(api):
    define(api, "deal", "source", "text")
    for title, source in (("Patio", "fair"), ("Fence", "web")):
        assert api.post("/api/v1/deals", json={"title": title, "custom_fields": {"source": source}}).status_code == 201
    assert titles(api.get("/api/v1/deals?cf[source]=fair"), "title") == ["Patio"]
    assert titles(api.get("/api/v1/deals?custom_fields[source]=web"), "title") == ["Fence"]


def test_leads_page_filters_by_custom_field_and_reports_an_unknown_one(api, owner_browser):
    define(api, "lead", "garden", "choice", options=["small", "large"])
    api.post("/api/v1/leads", json={"email": "small@example.com", "custom_fields": {"garden": "small"}})
    api.post("/api/v1/leads", json={"email": "large@example.com", "custom_fields": {"garden": "large"}})
    page = owner_browser.get("/pipelines/leads?cf[garden]=large").get_data(as_text=True)
    assert "large@example.com" in page and "small@example.com" not in page
    page = owner_browser.get("/pipelines/leads?cf[shoe]=9").get_data(as_text=True)
    assert "There is no lead field named shoe." in page and "small@example.com" in page
