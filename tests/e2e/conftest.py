"""Browser tests: a live Trellis server in a thread and headless Debian Chromium.

The live server is its own app (`create_app(config)`) on its own temporary SQLite file,
with CSRF switched on, so a form that forgets its token fails here as it would in
production. The root conftest's `clean_database` still runs for every test; it wipes the
session app's database, not this one, so e2e tests keep to unique e-mail addresses.

Chromium is Debian's `/usr/bin/chromium` (never `playwright install`). Where it is absent
the tests skip with a reason that says how to install it; with `TRELLIS_E2E_REQUIRED=1`
(set by `.ci/run`) they fail instead, so CI can never pass by skipping them.

Screenshots of the steps worth seeing go to `test-artifacts/<test name>/`, plus a
`FAILED.png` of the page when a test fails.
"""
import contextlib
import json
import os
import re
import shutil
import threading
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright
from werkzeug.serving import make_server

from app import create_app
from app.config import TestConfig
from app.core.jobs import init_jobs
from app.extensions import db
from tests.e2e.flows import Owner, sign_up

CHROMIUM = os.environ.get("TRELLIS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
MISSING_CHROMIUM = "Chromium not installed: apt-get install -y chromium (CI installs it)"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
TIMEOUT_MS = 10_000  # actions and expect(); generous for a slow CI machine


def _e2e_required() -> bool:
    return os.environ.get("TRELLIS_E2E_REQUIRED", "").strip().lower() in {"1", "true", "yes", "on"}


def _skip_or_fail(reason: str):
    if _e2e_required():
        pytest.fail(f"{reason} (TRELLIS_E2E_REQUIRED is set, so browser tests may not skip)", pytrace=False)
    pytest.skip(reason)


# --------------------------------------------------------------------------- live server


@dataclass
class LiveServer:
    app: object
    url: str

    def api(self, method: str, path: str, token: str | None = None, body: dict | None = None):
        """(status, parsed JSON body) of a call to the live server, outside the browser."""
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(self.url + path, data=data, headers=headers, method=method)
        # No proxy: the server is on loopback, whatever the environment says.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(request, timeout=10) as response:
                return response.status, _json_or_text(response.read())
        except urllib.error.HTTPError as error:
            return error.code, _json_or_text(error.read())


def _json_or_text(raw: bytes):
    try:
        return json.loads(raw or b"null")
    except ValueError:
        return raw.decode(errors="replace")


def _live_config(tmp) -> dict:
    config = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    config.update(
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp / 'e2e.db'}",
        MAIL_DIR=str(tmp / "mail"),
        HUEY_SQLITE_PATH=str(tmp / "huey.db"),
        HUEY_IMMEDIATE=True,
        WTF_CSRF_ENABLED=True,
        SERVER_NAME=None,
        # The limiter is one object shared by every app in the process: switching it off
        # here (RATELIMIT_ENABLED=False) would switch it off for the rest of the suite
        # too. Keep it on with the same storage, and make the per-request limits roomy.
        LOGIN_RATE_LIMIT="1000/minute",
        PUBLIC_RATE_LIMIT="1000/minute",
        API_RATE_LIMITS={"free": 1000, "pro": 1000},
    )
    return config


@pytest.fixture(scope="session")
def live_server(app, tmp_path_factory):
    """The whole app over real HTTP on 127.0.0.1 (a free port), for the session."""
    live_app = create_app(_live_config(tmp_path_factory.mktemp("e2e")))
    # create_app() points the job runner at the newest app; give it back to the session
    # app (the rest of the suite) and lend it to the live one only during e2e tests.
    init_jobs(app)
    with live_app.app_context():
        db.create_all()
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="trellis-live-server", daemon=True)
    thread.start()
    yield LiveServer(live_app, f"http://127.0.0.1:{server.server_port}")
    server.shutdown()
    thread.join(timeout=10)
    with live_app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _jobs_run_in_live_app(request, app):
    """Jobs (outbox dispatch, mail) triggered by live requests must use the live app."""
    if "live_server" not in request.fixturenames:
        yield
        return
    live = request.getfixturevalue("live_server")
    init_jobs(live.app)
    yield
    init_jobs(app)


# --------------------------------------------------------------------------- browser


@pytest.fixture(scope="session")
def browser():
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        _skip_or_fail(MISSING_CHROMIUM)
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


class Shots:
    """Numbered screenshots of one test: test-artifacts/<test>/01-signed-up.png, ..."""

    def __init__(self, page, folder: Path):
        self.page = page
        self.folder = folder
        self.count = 0

    def __call__(self, name: str, full_page: bool = True) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{name}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        return path


@pytest.fixture
def page(browser, live_server, request):
    """A fresh browser context (no cookies) on the live server.

    `page.console_errors` collects JavaScript errors and failed loads; a screenshot and the
    HTML of the page are kept when the test fails.
    """
    shutil.rmtree(_artifact_folder(request.node), ignore_errors=True)  # no stale pictures
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 800},
                                  locale="en-GB", timezone_id="UTC")
    context.set_default_timeout(TIMEOUT_MS)
    csp_violations = _watch_csp_violations(context)
    page = context.new_page()
    page.console_errors = []
    page.csp_violations = csp_violations

    def on_console(message):
        # A form answered 422 re-renders with its errors: expected, not a failure.
        if message.type == "error" and "status of 422" not in message.text:
            page.console_errors.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda exc: page.console_errors.append(str(exc)))
    yield page
    _collect_last_csp_violations(page)
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        folder = _artifact_folder(request.node)
        try:
            page.screenshot(path=str(folder / "FAILED.png"), full_page=True)
            (folder / "FAILED.html").write_text(page.content())
        except Exception:  # a crashed page must not hide the real failure
            pass
    context.close()
    if page.csp_violations:
        pytest.fail("Content-Security-Policy violations:\n" + "\n".join(page.csp_violations), pytrace=False)


# Every test runs under the app's Content-Security-Policy, and any violation fails it:
# the page reports `securitypolicyviolation` events to the test (they survive navigation
# that way) and keeps them in window.__cspViolations; Chromium also logs each one.
CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  const text = `${event.effectiveDirective} refused ${event.blockedURI || "inline"}`
    + ` on ${document.location.pathname} (${event.sourceFile || "page"}:${event.lineNumber}): ${event.sample || ""}`;
  window.__cspViolations.push(text);
  if (window.trellisCspViolation) window.trellisCspViolation(text);
}, true);
"""


def _watch_csp_violations(context) -> list[str]:
    violations: list[str] = []
    context.expose_function("trellisCspViolation", lambda text: violations.append(text))
    context.add_init_script(CSP_LISTENER)
    context.on("console", lambda message: "Content Security Policy" in message.text and violations.append(message.text))
    return violations


def _collect_last_csp_violations(page) -> None:
    # The current page's own list, in case its last report is still on its way; a closed
    # or crashed page has nothing more to tell.
    with contextlib.suppress(Exception):
        page.csp_violations.extend(v for v in page.evaluate("window.__cspViolations || []")
                                   if v not in page.csp_violations)


def _artifact_folder(node) -> Path:
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", node.name)
    folder = ARTIFACTS / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def shot(page, request):
    """shot("step-name") saves a numbered full-page screenshot of `page`."""
    return Shots(page, _artifact_folder(request.node))


# --------------------------------------------------------------------------- people


@pytest.fixture
def new_owner() -> Owner:
    """Details for a business nobody has signed up yet (the live database persists)."""
    tag = uuid.uuid4().hex[:8]
    return Owner(business=f"Bramble & Thorn {tag}", first_name="Hazel", email=f"hazel.{tag}@bramble.example",
                 password="correct horse battery")


@pytest.fixture
def signed_in_owner(page, new_owner) -> Owner:
    """A brand-new business whose owner is signed in on `page`, on the dashboard."""
    sign_up(page, new_owner)
    return new_owner
