"""/api/v1/activities: CRUD, validation, ownership, tenancy, filters, CSV."""
import csv
import io

import pytest
from sqlalchemy import select

from app.core.events import OutboxEvent
from app.core.models import isoformat
from app.extensions import db
from app.pipelines.models import Contact
from tests.conftest import make_user
from tests.pipelines.activity_rows import activity_row, add, add_activity, days, records

ACTIVITIES = "/api/v1/activities"
NOT_FOUND = {"message": "Not found"}
UNAUTHORIZED = {"message": "Unauthorized"}
SALES = ["activities.view", "activities.create", "activities.update", "activities.delete",
         "contacts.view", "accounts.view", "leads.view", "deals.view"]


def invalid(field: str, message: str) -> dict:
    return {"message": message, "errors": {field: [message]}}


@pytest.fixture
def crm(app, acme):
    return records(app, acme, owner_id=acme.owner_id)


def test_log_a_call_on_a_contact(app, api, acme, crm):
    body = {"type": "call", "subject": "Intro call", "notes": "Wants a quote.\nCall back Friday.",
            "due_at": "2026-12-04T10:00:00+01:00", "notify": 24, "activityable_type": "contact",
            "activityable_id": crm["contact"]}

    response = api.post(ACTIVITIES, json=body)

    assert response.status_code == 201, response.json
    data = response.json["data"]
    assert response.headers["Location"].endswith(f"/api/v1/activities/{data['id']}")
    assert response.headers["ETag"] == '"1"'
    assert data == {
        "id": data["id"], "type": "call", "subject": "Intro call", "notes": "Wants a quote.\nCall back Friday.",
        "due_at": "2026-12-04T09:00:00Z", "starts_at": None, "ends_at": None, "notify": 24, "completed": False,
        "completed_at": None, "activityable_type": "contact", "activityable_id": crm["contact"],
        "owner_id": acme.owner_id, "owner": {"id": acme.owner_id, "name": data["owner"]["name"]},
        "created_at": data["created_at"], "updated_at": data["updated_at"],
    }
    assert data["created_at"].endswith("Z")
    row = activity_row(app, data["id"])
    assert row.business_id == acme.business_id and row.owner_id == acme.owner_id
    with app.app_context():
        event = db.session.scalar(select(OutboxEvent).where(OutboxEvent.name == "activity.created"))
    assert event.business_id == acme.business_id
    assert event.payload["id"] == data["id"] and event.payload["activityable_id"] == crm["contact"]


def test_defaults_a_note_owned_by_me(app, api, acme):
    response = api.post(ACTIVITIES, json={"subject": "Met at the fair"})
    assert response.status_code == 201, response.json
    data = response.json["data"]
    assert (data["type"], data["notify"], data["owner_id"], data["activityable_type"]) == ("note", 0, acme.owner_id,
                                                                                           None)


def test_meeting_from_to(api, crm):
    response = api.post(ACTIVITIES, json={"type": "meeting", "subject": "Site visit", "activityable_type": "deal",
                                          "activityable_id": crm["deal"], "starts_at": "2026-12-01T09:00:00Z",
                                          "ends_at": "2026-12-01T10:30:00Z"})
    assert response.status_code == 201, response.json
    assert (response.json["data"]["starts_at"], response.json["data"]["ends_at"]) == ("2026-12-01T09:00:00Z",
                                                                                      "2026-12-01T10:30:00Z")


@pytest.mark.parametrize("body, field, message", [
    ({}, "subject", "The subject field is required."),
    ({"subject": ""}, "subject", "The subject field is required."),
    ({"subject": "x" * 201}, "subject", "The subject may not be greater than 200 characters."),
    ({"subject": "S", "type": "email"}, "type", "The selected type is invalid."),
    ({"subject": "S", "notify": 12}, "notify", "The notify must be 0 (never) or 24 (hours before)."),
    ({"subject": "S", "starts_at": "2026-12-01T10:00:00Z", "ends_at": "2026-12-01T09:00:00Z"}, "ends_at",
     "The ends at must be a date after or equal to starts at."),
    ({"subject": "S", "activityable_type": "invoice", "activityable_id": 1}, "activityable_type",
     "The selected activityable type is invalid."),
    ({"subject": "S", "activityable_type": "contact"}, "activityable_id",
     "The activityable id field is required when activityable type is present."),
    ({"subject": "S", "activityable_id": 5}, "activityable_type",
     "The activityable type field is required when activityable id is present."),
    ({"subject": "S", "activityable_type": "contact", "activityable_id": 999999}, "activityable_id",
     "The selected activityable id is invalid."),
    ({"subject": "S", "owner_id": 999999}, "owner_id", "The selected owner id is invalid."),
    ({"subject": "S", "due_at": "tomorrow"}, "due_at",
     "The due at must be a date and time with a time zone (ISO 8601)."),
])
def test_create_validation_is_an_exact_422_and_saves_nothing(app, api, acme, body, field, message):
    response = api.post(ACTIVITIES, json=body)
    assert response.status_code == 422
    assert response.json == invalid(field, message)
    assert api.get(ACTIVITIES).json["meta"]["total"] == 0


def test_another_business_record_cannot_be_the_subject(app, api, globex):
    theirs = records(app, globex, owner_id=globex.owner_id)
    response = api.post(ACTIVITIES, json={"subject": "Spy", "activityable_type": "deal",
                                          "activityable_id": theirs["deal"]})
    assert response.status_code == 422
    assert response.json == invalid("activityable_id", "The selected activityable id is invalid.")


def test_a_record_the_user_cannot_see_cannot_be_the_subject(app, api_as, acme, crm):
    user_id = make_user(app, acme, "rep@acme.example", permissions=SALES)
    response = api_as(user_id).post(ACTIVITIES, json={"subject": "Hi", "activityable_type": "contact",
                                                      "activityable_id": crm["contact"]})
    assert response.status_code == 422
    assert response.json == invalid("activityable_id", "The selected activityable id is invalid.")


def test_get_put_patch_delete(app, api, acme, crm):
    activity_id = add_activity(app, acme, type="task", subject="Send quote", owner_id=acme.owner_id,
                               activityable_type="lead", activityable_id=crm["lead"], notes="Old")
    url = f"{ACTIVITIES}/{activity_id}"

    got = api.get(url)
    assert got.status_code == 200 and got.json["data"]["subject"] == "Send quote"

    put = api.put(url, json={"subject": "Send the quote", "type": "task"})
    assert put.status_code == 200, put.json
    assert (put.json["data"]["notes"], put.json["data"]["activityable_type"]) == (None, None)
    assert put.json["data"]["owner_id"] == acme.owner_id  # kept when left out

    done = api.patch(url, json={"completed": True})
    assert done.status_code == 200
    assert done.json["data"]["completed"] is True and done.json["data"]["completed_at"].endswith("Z")
    assert done.json["data"]["subject"] == "Send the quote"
    undone = api.patch(url, json={"completed": False})
    assert undone.json["data"]["completed"] is False and undone.json["data"]["completed_at"] is None

    assert api.delete(url).status_code == 204
    assert activity_row(app, activity_id) is None
    assert api.get(url).json == NOT_FOUND


def test_patch_validation_and_stale_write(app, api, acme):
    activity_id = add_activity(app, acme, owner_id=acme.owner_id)
    url = f"{ACTIVITIES}/{activity_id}"
    response = api.patch(url, json={"subject": ""})
    assert response.status_code == 422
    assert response.json == invalid("subject", "The subject field is required.")
    assert api.patch(url, json={"subject": "New"}, headers={"If-Match": '"7"'}).status_code == 412
    assert activity_row(app, activity_id).subject == "Call back"


def test_other_business_is_404_everywhere(app, api, globex):
    theirs = add_activity(app, globex, owner_id=globex.owner_id)
    url = f"{ACTIVITIES}/{theirs}"
    for response in (api.get(url), api.put(url, json={"subject": "x"}), api.patch(url, json={"subject": "x"}),
                     api.delete(url)):
        assert response.status_code == 404
        assert response.json == NOT_FOUND
    assert activity_row(app, theirs).subject == "Call back"
    assert api.get(ACTIVITIES).json["data"] == []


def test_permissions_are_403(app, api_as, acme):
    reader = make_user(app, acme, "reader@acme.example", permissions=["activities.view"])
    nobody = make_user(app, acme, "nobody@acme.example", permissions=[])
    own = add_activity(app, acme, owner_id=reader)
    assert api_as(nobody).get(ACTIVITIES).json == UNAUTHORIZED
    client = api_as(reader)
    assert client.post(ACTIVITIES, json={"subject": "x"}).status_code == 403
    assert client.patch(f"{ACTIVITIES}/{own}", json={"subject": "x"}).status_code == 403
    assert client.delete(f"{ACTIVITIES}/{own}").status_code == 403
    # A token without the ability is refused even though the role has it.
    assert api_as(acme.owner_id, abilities=["activities.view"]).post(ACTIVITIES, json={"subject": "x"}).json \
        == UNAUTHORIZED


def test_users_see_their_own_and_those_on_records_they_can_see(app, api_as, acme):
    rep = make_user(app, acme, "rep@acme.example", permissions=SALES)
    other = make_user(app, acme, "other@acme.example", permissions=SALES)
    mine_contact = add(app, acme, Contact(first_name="Mine", owner_id=rep))[0]
    their_contact = add(app, acme, Contact(first_name="Theirs", owner_id=other))[0]
    own = add_activity(app, acme, subject="My call", owner_id=rep)
    on_my_contact = add_activity(app, acme, subject="Colleague on mine", owner_id=other,
                                 activityable_type="contact", activityable_id=mine_contact)
    hidden = add_activity(app, acme, subject="Colleague on theirs", owner_id=other,
                          activityable_type="contact", activityable_id=their_contact)
    client = api_as(rep)

    subjects = {row["subject"] for row in client.get(ACTIVITIES).json["data"]}

    assert subjects == {"My call", "Colleague on mine"}
    assert client.get(f"{ACTIVITIES}/{on_my_contact}").status_code == 200
    assert client.get(f"{ACTIVITIES}/{own}").status_code == 200
    assert client.get(f"{ACTIVITIES}/{hidden}").json == NOT_FOUND
    assert client.patch(f"{ACTIVITIES}/{hidden}", json={"completed": True}).status_code == 404
    assert client.delete(f"{ACTIVITIES}/{hidden}").status_code == 404
    boss = make_user(app, acme, "boss@acme.example", permissions=["activities.view", "activities.view_all"])
    assert api_as(boss).get(ACTIVITIES).json["meta"]["total"] == 3


def test_filters(app, api, acme, crm):
    me = acme.owner_id
    colleague = make_user(app, acme, "col@acme.example", permissions=SALES)
    on_contact = add_activity(app, acme, subject="On contact", type="note", owner_id=me,
                              activityable_type="contact", activityable_id=crm["contact"])
    add_activity(app, acme, subject="On deal", type="call", owner_id=me, activityable_type="deal",
                 activityable_id=crm["deal"], due_at=days(-2))
    add_activity(app, acme, subject="Colleague task", type="task", owner_id=colleague, due_at=days(3),
                 completed=True)

    def subjects(query):
        response = api.get(f"{ACTIVITIES}?{query}")
        assert response.status_code == 200, response.json
        return sorted(row["subject"] for row in response.json["data"])

    assert subjects(f"activityable_type=contact&activityable_id={crm['contact']}") == ["On contact"]
    assert subjects("activityable_type=deal&activityable_id=999") == []
    assert subjects(f"owner_id={colleague}") == ["Colleague task"]
    assert subjects("type=call,task") == ["Colleague task", "On deal"]
    assert subjects("filter[type]=note") == ["On contact"]
    assert subjects("completed=1") == ["Colleague task"]
    assert subjects("completed=false") == ["On contact", "On deal"]
    assert subjects(f"due_before={isoformat(days(0))}") == ["On deal"]
    assert subjects(f"due_after={isoformat(days(0))}") == ["Colleague task"]
    assert subjects("q=colleague") == ["Colleague task"]
    assert api.get(f"{ACTIVITIES}?activityable_type=invoice").json == invalid(
        "activityable_type", "The activityable_type filter must be one of: contact, account, lead, deal.")
    assert api.get(f"{ACTIVITIES}?due_before=soon").status_code == 422
    assert on_contact


def test_newest_first_and_page_links_keep_the_due_window(app, api, acme):
    for n in range(3):
        add_activity(app, acme, subject=f"Task {n}", owner_id=acme.owner_id, due_at=days(n + 1))
    response = api.get(f"{ACTIVITIES}?per_page=2&due_after=2020-01-01T00:00:00Z")
    assert [row["subject"] for row in response.json["data"]] == ["Task 2", "Task 1"]
    assert "due_after=2020-01-01T00:00:00Z" in response.json["links"]["next"]
    assert api.get(response.json["links"]["next"]).json["data"][0]["subject"] == "Task 0"


def test_csv_export(app, api, acme, globex, crm):
    add_activity(app, acme, subject="=HYPERLINK(1)", owner_id=acme.owner_id, activityable_type="contact",
                 activityable_id=crm["contact"])
    add_activity(app, globex, subject="Theirs", owner_id=globex.owner_id)

    response = api.get(f"{ACTIVITIES}?format=csv")

    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text[1:])))
    assert [row["subject"] for row in rows] == ["'=HYPERLINK(1)"]
    assert rows[0]["activityable_type"] == "contact" and rows[0]["owner_id"] == str(acme.owner_id)
    one = api.get(f"{ACTIVITIES}/{rows[0]['id']}?format=csv")
    assert one.status_code == 200 and "data_json" in one.get_data(as_text=True).splitlines()[0]
