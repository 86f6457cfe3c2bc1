"""htmx helpers: one template serves the full page and its swappable fragments."""
import json

from flask import make_response, render_template, request
from jinja2_fragments.flask import render_block


def is_htmx() -> bool:
    """A partial request. Back/forward restores (HX-History-Restore-Request) need the page."""
    headers = request.headers
    return (
        headers.get("HX-Request") == "true"
        and headers.get("HX-Boosted") != "true"
        and headers.get("HX-History-Restore-Request") != "true"
    )


def render_page(template: str, block: str | None = None, status: int = 200, **context):
    """The whole page, or only `block` of it when htmx asked (and a block is named)."""
    if block and is_htmx():
        body = render_block(template, block, **context)
    else:
        body = render_template(template, **context)
    response = make_response(body, status)
    response.vary.add("HX-Request")
    return response


def with_trigger(response, event: str, detail=None):
    """Tell the page (HX-Trigger) that something changed, e.g. to refresh a counter."""
    existing = json.loads(response.headers.get("HX-Trigger", "{}") or "{}")
    existing[event] = detail if detail is not None else True
    response.headers["HX-Trigger"] = json.dumps(existing)
    return response


def htmx_redirect(url: str):
    """A redirect htmx follows as a full navigation; a plain 303 for everyone else."""
    from flask import redirect

    if is_htmx():
        response = make_response("", 204)
        response.headers["HX-Redirect"] = url
        return response
    return redirect(url, code=303)
