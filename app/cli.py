"""Command-line set-up: `flask --app wsgi create-business` and `flask --app wsgi demo-data`."""
import click
from flask import Flask
from flask.cli import with_appcontext

from app.core.errors import ValidationFailed
from app.extensions import db


def register_cli(app: Flask) -> None:
    app.cli.add_command(create_business_command)
    app.cli.add_command(demo_data_command)


@click.command("create-business")
@click.argument("name")
@click.option("--email", required=True, help="The owner's e-mail; they sign in with it.")
@click.option("--password", required=True, help="The owner's password (at least 8 characters).")
@click.option("--first-name", default="Owner", show_default=True)
@click.option("--last-name", default=None)
@click.option("--currency", default="USD", show_default=True)
@click.option("--timezone", default="UTC", show_default=True)
@with_appcontext
def create_business_command(name, email, password, first_name, last_name, currency, timezone):
    """Create a business and its owner (Admin role) for scripted set-up."""
    from app.auth.services import sign_up

    try:
        owner = sign_up(name, first_name, last_name, email, password, currency=currency, timezone=timezone)
    except ValidationFailed as exc:
        db.session.rollback()
        for field, messages in exc.errors.items():
            click.echo(f"{field}: {' '.join(messages)}", err=True)
        raise SystemExit(2) from None
    db.session.commit()
    click.echo(f"Created business {owner.business.name!r} (id {owner.business_id}); sign in as {owner.email}.")


@click.command("demo-data")
@click.option("--email", default="demo@greenleaf.example", show_default=True)
@click.option("--password", default="demo-password", show_default=True)
@with_appcontext
def demo_data_command(email, password):
    """Fill a demo business with realistic data (idempotent: reuses the demo owner)."""
    from app.demo import fill_demo_business

    owner = fill_demo_business(email, password)
    db.session.commit()
    click.echo(f"Demo business {owner.business.name!r} is ready: sign in as {email} / {password}.")
