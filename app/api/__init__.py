"""The JSON API at /api/v1, documented at /api/v1/openapi.json and browsable at /api/docs."""
from flask import Flask

from app.api.base import API_PREFIX, Api
from app.core.limits import _credential_or_ip, api_limit_value
from app.extensions import csrf, limiter

api = Api()


def _blueprints():
    from app.api import locations, me

    return [me.tokens_blp, me.me_blp, locations.blp]


def register_api(app: Flask) -> None:
    api.init_app(app)
    for blp in _blueprints():
        csrf.exempt(blp)  # credentials, not cookies, authenticate the API
        limiter.shared_limit(api_limit_value, scope="api", key_func=_credential_or_ip)(blp)
        api.register_blueprint(blp, url_prefix=f"{API_PREFIX}{blp.url_prefix}")
    document_csv_answers(api.spec)


def document_csv_answers(spec) -> None:
    """Operations that take `format` also answer text/csv; say so in the OpenAPI document."""
    for path in spec._paths.values():
        for operation in path.values():
            if not isinstance(operation, dict):
                continue
            names = {p.get("name") for p in operation.get("parameters", []) if isinstance(p, dict)}
            ok = operation.get("responses", {}).get("200")
            if "format" in names and isinstance(ok, dict) and "content" in ok:
                ok["content"]["text/csv"] = {"schema": {"type": "string", "description": "UTF-8 CSV with a BOM."}}
