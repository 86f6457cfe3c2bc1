"""The JSON API at /api/v1, documented at /api/v1/openapi.json and browsable at /api/docs."""
from http import HTTPStatus

from flask import Flask

from app.api.base import API_PREFIX, Api
from app.core.converters import RowIdConverter
from app.core.limits import _credential_or_ip, api_limit_value
from app.extensions import csrf, limiter

api = Api()


def _blueprints():
    from app.api import (
        accounts,
        activities,
        audit_log,
        business,
        capture,
        commission_agents,
        contacts,
        custom_fields,
        deals,
        exports,
        imports,
        leads,
        locations,
        me,
        pipelines,
        roles,
        search,
        users,
    )

    # One per line: parallel branches each add their own without touching the others'.
    return [
        me.tokens_blp,
        me.me_blp,
        locations.blp,
        roles.blp,
        commission_agents.blp,
        users.blp,
        business.blp,
        audit_log.blp,
        activities.blp,
        search.blp,
        contacts.blp,
        accounts.blp,
        custom_fields.blp,
        leads.blp,
        capture.blp,
        capture.secret_blp,
        capture.public_blp,
        pipelines.blp,
        deals.blp,
        imports.blp,
        exports.blp,
    ]


def register_api(app: Flask) -> None:
    api.init_app(app)
    api.register_converter(RowIdConverter, RowIdConverter.openapi_schema)
    for blp in _blueprints():
        csrf.exempt(blp)  # credentials, not cookies, authenticate the API
        limiter.shared_limit(api_limit_value, scope="api", key_func=_credential_or_ip)(blp)
        api.register_blueprint(blp, url_prefix=f"{API_PREFIX}{blp.url_prefix}")
    document_csv_answers(api.spec)
    document_error_answers(api.spec)


def _operations(spec):
    for path, item in spec._paths.items():
        for method, operation in item.items():
            if isinstance(operation, dict) and "responses" in operation:
                yield path, method, operation


def document_csv_answers(spec) -> None:
    """Operations that take `format` also answer text/csv; say so in the OpenAPI document."""
    for _path, _method, operation in _operations(spec):
        names = {p.get("name") for p in operation.get("parameters", []) if isinstance(p, dict)}
        ok = operation["responses"].get("200")
        if "format" in names and isinstance(ok, dict) and "content" in ok:
            ok["content"]["text/csv"] = {"schema": {"type": "string", "description": "UTF-8 CSV with a BOM."}}


def document_error_answers(spec) -> None:
    """List every error an operation can answer, each with the `{message, errors}` schema.

    They come from the framework, not the views, so they are added here by rule: every
    operation is content-negotiated and rate limited, and any request with a NUL character
    is a 400 (app.core.web); one with a credential can be a 401; one with a path parameter
    a 404 (unknown, or another business's); one with a body a 400 (not JSON), 413 (too
    large) or 415 (not JSON at all). 403 and 422 the views document themselves
    (`forbidden_unless_permitted`, `arguments`), as only they know.
    """
    for path, _method, operation in _operations(spec):
        statuses = [HTTPStatus.BAD_REQUEST, HTTPStatus.NOT_ACCEPTABLE, HTTPStatus.TOO_MANY_REQUESTS]
        if operation.get("security") != []:
            statuses.append(HTTPStatus.UNAUTHORIZED)
        if "{" in path:
            statuses.append(HTTPStatus.NOT_FOUND)
        if "requestBody" in operation:
            statuses += [HTTPStatus.REQUEST_ENTITY_TOO_LARGE, HTTPStatus.UNSUPPORTED_MEDIA_TYPE]
        for status in statuses:
            # flask-smorest registers one response per status, lazily: get_ref emits it.
            operation["responses"].setdefault(str(status.value), spec.components.get_ref("response", status.name))
