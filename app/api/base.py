"""The JSON API framework: Api and Blueprint subclasses, authentication, list answers."""
import flask_smorest
from flask import Response, current_app, g, render_template, request, url_for
from werkzeug.exceptions import NotAcceptable, UnsupportedMediaType

from app.api.schemas import ErrorSchema
from app.auth.credentials import current_credential
from app.core.audit import remember_actor
from app.core.csv_export import csv_response, single_row_csv
from app.core.error_pages import handle_http_exception
from app.core.errors import Unauthenticated
from app.core.exports import require_export
from app.core.idempotency import idempotent
from app.core.listing import ListParams, Page
from app.core.permissions import Actor, actor_for
from app.core.tenancy import set_current_business

API_PREFIX = "/api/v1"
IF_MATCH_PARAMETER = {
    "in": "header", "name": "If-Match", "required": False, "schema": {"type": "string"},
    "description": "The ETag from your last read (e.g. \"3\"). If the record changed since, the write is refused"
                   " with 412 instead of overwriting someone else's change.",
}
IDEMPOTENCY_KEY_PARAMETER = {
    "in": "header", "name": "Idempotency-Key", "required": False,
    "schema": {"type": "string", "maxLength": 255},
    "description": "Any unique string. Retrying with the same key and body replays the first answer"
                   " (header Idempotent-Replayed: true); the same key with another body is a 422. Kept 24 hours.",
}
BODY_METHODS = {"POST", "PUT", "PATCH"}


class Api(flask_smorest.Api):
    """flask-smorest's Api, but HTML pages keep HTML errors and API errors use our shape."""

    ERROR_SCHEMA = ErrorSchema
    # No catch-all "default" answer: each operation lists the statuses it really gives
    # (app.api.document_error_answers), so schemathesis can hold us to them.
    DEFAULT_ERROR_RESPONSE_NAME = None

    def handle_http_exception(self, error):
        return handle_http_exception(error)

    def _openapi_swagger_ui(self):
        """Swagger UI at /api/docs, from our page: flask-smorest's starts it with an inline
        script, which the Content-Security-Policy refuses (ours loads static/js/api_docs.js)."""
        return render_template(
            "api/docs.html",
            title=self.spec.title,
            spec_url=url_for(f"{self._make_doc_blueprint_name()}.openapi_json"),
            swagger_ui_url=self._swagger_ui_url,
            swagger_ui_config=self.config.get("OPENAPI_SWAGGER_UI_CONFIG", {}),
        )

    def _register_pagination_header(self):
        """Pages are described in the body (`meta`, `links`), never in an X-Pagination
        header: keep flask-smorest's unused PaginationMetadata schema out of the document."""


class Blueprint(flask_smorest.Blueprint):
    """An API blueprint. Authenticated unless `public=True`."""

    def forbidden_unless_permitted(self, func):
        """Document the 403 of an operation whose service checks a permission."""
        return self.alt_response(403, response="FORBIDDEN")(func)

    def versioned(self, func):
        """A write to a versioned resource: takes If-Match, can answer 412."""
        func = self.doc(parameters=_parameters(func) + [IF_MATCH_PARAMETER])(func)
        return self.alt_response(412, response="PRECONDITION_FAILED")(func)

    def idempotent(self, func):
        """A write that takes Idempotency-Key (goes right below `@blp.post(...)`)."""
        func = self.doc(parameters=_parameters(func) + [IDEMPOTENCY_KEY_PARAMETER])(idempotent(func))
        return self.alt_response(409, response="CONFLICT")(func)

    def __init__(self, *args, public: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.public = public
        self.before_request(check_content_negotiation)
        if not public:
            self.before_request(authenticate)


def _parameters(func) -> list:
    """Parameters documented so far (`doc()` replaces lists rather than extending them)."""
    return list(getattr(func, "_apidoc", {}).get("manual_doc", {}).get("parameters", []))


def check_content_negotiation() -> None:
    # JSON always; CSV only where asked for with format=csv (the parameter decides, so a
    # client that always sends Accept: application/json can still download a CSV).
    csv_asked = request.args.get("format") == "csv" or _view_flag("_produces_csv")
    offered = ["application/json"] + (["text/csv"] if csv_asked else [])
    if request.headers.get("Accept") and not request.accept_mimetypes.best_match(offered):
        raise NotAcceptable("This API answers in application/json (or text/csv for format=csv).")
    if request.method in BODY_METHODS and request.content_length and not request.is_json:
        if request.mimetype == "multipart/form-data" and _accepts_multipart():
            return
        raise UnsupportedMediaType("Send the request body as application/json.")


def accepts_multipart(func):
    """Mark an operation that takes an uploaded file (multipart/form-data) instead of JSON."""
    func._accepts_multipart = True
    return func


def produces_csv(func):
    """Mark an operation that answers text/csv whatever `format` says (a file download)."""
    func._produces_csv = True
    return func


def _accepts_multipart() -> bool:
    return _view_flag("_accepts_multipart")


def _view_flag(name: str) -> bool:
    view = current_app.view_functions.get(request.endpoint)
    return bool(getattr(view, name, False))


def authenticate() -> None:
    credential = current_credential()
    if credential is None:
        raise Unauthenticated()
    set_current_business(credential.user.business_id)
    g.actor = actor_for(credential.user, credential.abilities)
    remember_actor(credential.user, credential.kind)


def current_actor() -> Actor:
    return g.actor


def page_links(page: Page, params: ListParams) -> dict:
    def link(number: int) -> str:
        args = dict(request.view_args or {}, **params.query_args(page=number))
        return url_for(request.endpoint, _external=True, **args)

    return {
        "first": link(1),
        "last": link(page.last_page),
        "prev": link(page.page - 1) if page.page > 1 else None,
        "next": link(page.page + 1) if page.page < page.last_page else None,
    }


def list_answer(params: ListParams, schema_cls, page_fn, rows_fn, name: str):
    """`{data, meta, links}` for one page, or every matching row as CSV."""
    if params.format == "csv":
        require_export(current_actor(), params.spec)
        schema = schema_cls()
        columns = [f.data_key or n for n, f in schema.fields.items() if not f.load_only]
        return csv_response(columns, (schema.dump(row) for row in rows_fn()), f"{name}.csv")
    page = page_fn()
    return {"data": page.items, "meta": page.meta(), "links": page_links(page, params)}


def etag_of(obj) -> str | None:
    version = getattr(obj, "version", None)
    return f'"{version}"' if version is not None else None


def if_match_version() -> int | None:
    """The version the client last saw (If-Match), None when it did not say or sent `*`.

    An If-Match naming no version of ours can never match: -1 makes the write a 412.
    """
    if not request.headers.get("If-Match") or request.if_match.star_tag:
        return None
    for tag in request.if_match.as_set(include_weak=True):
        if tag and tag.isdecimal():
            return int(tag)
    return -1


def object_answer(obj, schema_cls, fmt: str = "json", name: str = "record", status: int = 200, spec=None):
    """`{"data": obj}` with its ETag (304 when If-None-Match already has it), or one CSV row.

    `spec` is the object's list (its ListSpec): one row as CSV needs what the list's CSV
    needs (`crm.export` for CRM records), else a single-object CSV would bypass it."""
    if fmt == "csv":
        require_export(current_actor(), spec)
        return single_row_csv(schema_cls().dump(obj), f"{name}.csv")
    etag = etag_of(obj)
    if etag is None:
        return {"data": obj}, status
    if request.method == "GET" and request.if_none_match.contains(etag.strip('"')):
        return Response(status=304, headers={"ETag": etag})
    return {"data": obj}, status, {"ETag": etag}
