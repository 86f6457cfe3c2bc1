"""Headers every answer carries, pages, JSON, files and error pages alike.

Pages get a strict Content-Security-Policy: scripts, styles, fonts and requests come from
this origin only, and nothing inline runs or applies (no <script> blocks, no on...=
handlers, no style="..." attributes, no eval: htmx runs with allowEval false). Behaviour
lives in static/js, looks in static/css. Anything that is not a page (JSON, CSV, static
files) may load nothing at all. A view that needs another policy sets the header itself;
these are only defaults.
"""
from flask import Response

PAGE_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",  # Bootstrap's icons (checkbox ticks, select arrows) are data: SVGs
    "font-src 'self'",
    "connect-src 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'self'",
    "object-src 'none'",
))
NOTHING_POLICY = "default-src 'none'; frame-ancestors 'none'"


def add_security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", PAGE_POLICY if response.mimetype == "text/html" else NOTHING_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    return response
