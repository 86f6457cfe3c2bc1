def test_me_with_token(api, acme):
    response = api.get("/api/v1/me")
    assert response.status_code == 200, response.json
    body = response.json["data"]
    assert body["id"] == acme.owner_id
    assert body["business"]["name"] == "Acme Supplies"
    assert body["abilities"] == ["*"]
    assert "locations.view" in body["permissions"]
