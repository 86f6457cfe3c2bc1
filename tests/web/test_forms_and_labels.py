"""Small things a user notices: one field focused on the sign-in form, permission labels
that read as English."""
import re

from app.core.permissions import PERMISSION_GROUPS


def test_the_sign_in_form_focuses_one_field(client):
    page = client.get("/login").get_data(as_text=True)
    assert 'autofocus="None"' not in page
    assert len(re.findall(r"<input[^>]*\bautofocus\b", page)) == 1


def test_view_all_permissions_name_one_record_in_english():
    labels = {name: label for group in PERMISSION_GROUPS.values() for name, label in group.items()}
    assert labels["activities.view_all"] == "See every activity of the business"
    assert labels["contacts.view_all"] == "See every contact of the business"
    assert not any("activitie " in label for label in labels.values())
