"""The JSON API framework: Api and Blueprint subclasses, authentication, list answers."""
import flask_smorest
from flask import g, request, url_for
from werkzeug.exceptions import NotAcceptable, UnsupportedMediaType
from werkzeug.routing import IntegerConverter

from app.api.schemas import ErrorSchema
from app.auth.credentials import current_credential
from app.core.csv_export import csv_response, single_row_csv
from app.core.error_pages import handle_http_exception
from app.core.errors import Unauthenticated
from app.core.listing import ListParams, Page
from app.core.permissions import Actor, actor_for
from app.core.tenancy import set_current_business

API_PREFIX = "/api/v1"
BODY_METHODS = {"POST", "PUT", "PATCH"}


MAX_ROW_ID = 2**31 - 1  # a PostgreSQL integer


class RowIdConverter(IntegerConverter):
    """`<id:location_id>`: a row id, documented as 1..MAX_ROW_ID.

    A bigger number becomes 0, an id no row has, so it is a plain 404 rather than an
    overflow in the database (a 500). (Rejecting it in the converter instead makes
    Werkzeug answer some methods with a wrong 405.)
    """

    def to_python(self, value: str) -> int:
        number = int(value)
        return number if number <= MAX_ROW_ID else 0

    @staticmethod
    def openapi_schema(converter) -> dict:
        return {"type": "integer", "minimum": 1, "maximum": MAX_ROW_ID}


class Api(flask_smorest.Api):
    """flask-smorest's Api, but HTML pages keep HTML errors and API errors use our shape."""

    ERROR_SCHEMA = ErrorSchema
    # No catch-all "default" answer: each operation lists the statuses it really gives
    # (app.api.document_error_answers), so schemathesis can hold us to them.
    DEFAULT_ERROR_RESPONSE_NAME = None

    def handle_http_exception(self, error):
        return handle_http_exception(error)

    def _register_pagination_header(self):
        """Pages are described in the body (`meta`, `links`), never in an X-Pagination
        header: keep flask-smorest's unused PaginationMetadata schema out of the document."""


class Blueprint(flask_smorest.Blueprint):
    """An API blueprint. Authenticated unless `public=True`."""

    def forbidden_unless_permitted(self, func):
        """Document the 403 of an operation whose service checks a permission."""
        return self.alt_response(403, response="FORBIDDEN")(func)

    def __init__(self, *args, public: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.public = public
        self.before_request(check_content_negotiation)
        if not public:
            self.before_request(authenticate)


def check_content_negotiation() -> None:
    # JSON always; CSV only where asked for with format=csv (the parameter decides, so a
    # client that always sends Accept: application/json can still download a CSV).
    offered = ["application/json"] + (["text/csv"] if request.args.get("format") == "csv" else [])
    if request.headers.get("Accept") and not request.accept_mimetypes.best_match(offered):
        raise NotAcceptable("This API answers in application/json (or text/csv for format=csv).")
    if request.method in BODY_METHODS and request.content_length and not request.is_json:
        raise UnsupportedMediaType("Send the request body as application/json.")


def authenticate() -> None:
    credential = current_credential()
    if credential is None:
        raise Unauthenticated()
    set_current_business(credential.user.business_id)
    g.actor = actor_for(credential.user, credential.abilities)


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
        schema = schema_cls()
        columns = [f.data_key or n for n, f in schema.fields.items() if not f.load_only]
        return csv_response(columns, (schema.dump(row) for row in rows_fn()), f"{name}.csv")
    page = page_fn()
    return {"data": page.items, "meta": page.meta(), "links": page_links(page, params)}


def object_answer(obj, schema_cls, fmt: str, name: str):
    if fmt == "csv":
        return single_row_csv(schema_cls().dump(obj), f"{name}.csv")
    return {"data": obj}
