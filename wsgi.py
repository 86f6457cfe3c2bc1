"""Entry point for gunicorn (`wsgi:app`), flask (`--app wsgi`) and the huey consumer (`wsgi.huey`)."""
from app import create_app
from app.extensions import huey  # noqa: F401  (huey_consumer wsgi.huey)

app = create_app()
