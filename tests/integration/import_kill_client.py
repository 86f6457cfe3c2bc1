"""The web app's side of tests/integration/test_import_kill.py, run as its own process
(the real app from wsgi.py: huey on the SQLite file the consumer reads, no immediate mode).

    python -m tests.integration.import_kill_client setup            -> prints a token
    python -m tests.integration.import_kill_client upload TOKEN CSV -> prints the import id
    python -m tests.integration.import_kill_client write TOKEN STOP -> prints "made failed"
"""
import io
import sys
import time
from pathlib import Path


def _app():
    from wsgi import app

    return app


def setup() -> None:
    from app.auth import tokens
    from app.auth.services import sign_up
    from app.core.permissions import actor_for
    from app.core.tenancy import tenant_scope
    from app.extensions import db

    app = _app()
    with app.app_context():
        owner = sign_up("Kill Test Ltd", "Owner", None, "owner@kill.example", "owner-password")
        db.session.commit()
        with tenant_scope(owner.business_id):
            _, plain = tokens.create_token(actor_for(owner), owner.id, "kill test", None)
            db.session.commit()
    print(plain)


def upload(token: str, csv_path: str) -> None:
    response = _app().test_client().post(
        "/api/v1/imports", headers={"Authorization": f"Bearer {token}"}, content_type="multipart/form-data",
        data={"kind": "contacts", "file": (io.BytesIO(Path(csv_path).read_bytes()), "people.csv"),
              "mapping": '{"First name": "first_name", "Last name": "last_name"}'})
    assert response.status_code == 202, response.get_data(as_text=True)
    print(response.get_json()["data"]["id"])


def write(token: str, stop_file: str) -> None:
    """Create contacts through the API, one request after another, until told to stop."""
    client = _app().test_client()
    made = failed = 0
    while not Path(stop_file).exists():
        response = client.post("/api/v1/contacts", headers={"Authorization": f"Bearer {token}"},
                               json={"first_name": "Writer", "last_name": f"W{made + failed}"})
        if response.status_code == 201:
            made += 1
        else:
            failed += 1
            print(response.status_code, response.get_data(as_text=True)[:300], file=sys.stderr)
        time.sleep(0.02)
    print(made, failed)


if __name__ == "__main__":
    {"setup": setup, "upload": upload, "write": write}[sys.argv[1]](*sys.argv[2:])
