"""Businesses, their default roles and the permission catalogue."""
import re
import secrets

from sqlalchemy import func, select

from app.core.permissions import all_permission_names
from app.core.tenancy import tenant_scope
from app.extensions import db
from app.team.models import ADMIN_ROLE, CASHIER_ROLE, Business, Permission, Role
from app.team.permissions import CASHIER_DEFAULT_PERMISSIONS


def slugify(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:60] or "business"


def unique_slug(name: str) -> str:
    base = slugify(name)
    slug = base
    while db.session.scalar(select(func.count()).select_from(Business).where(Business.slug == slug)):
        slug = f"{base}-{secrets.token_hex(2)}"
    return slug


def ensure_permissions(names) -> list[Permission]:
    """Permission rows for `names`, creating the missing ones (seed 002's merge rule)."""
    names = sorted(set(names))
    if not names:
        return []
    existing = {p.name: p for p in db.session.scalars(select(Permission).where(Permission.name.in_(names)))}
    for name in names:
        if name not in existing:
            existing[name] = Permission(name=name, guard_name="web")
            db.session.add(existing[name])
    db.session.flush()
    return [existing[n] for n in names]


def stored_role_name(display_name: str, business_id: int) -> str:
    return f"{display_name}#{business_id}"


def create_business(name: str, currency: str = "USD", timezone: str = "UTC") -> Business:
    business = Business(name=name.strip(), slug=unique_slug(name), currency=currency, timezone=timezone)
    db.session.add(business)
    db.session.flush()
    with tenant_scope(business.id):
        create_default_roles(business)
        from app.pipelines.pipelines import create_default_pipeline

        create_default_pipeline()
    return business


def create_default_roles(business: Business) -> tuple[Role, Role]:
    ensure_permissions(all_permission_names())
    admin = Role(name=stored_role_name(ADMIN_ROLE, business.id), is_default=True, business_id=business.id)
    cashier = Role(
        name=stored_role_name(CASHIER_ROLE, business.id), is_default=True, business_id=business.id,
        permissions=ensure_permissions(CASHIER_DEFAULT_PERMISSIONS),
    )
    db.session.add_all([admin, cashier])
    db.session.flush()
    return admin, cashier


def admin_role() -> Role:
    """The current business's Admin role."""
    return db.session.scalars(select(Role).where(Role.is_default.is_(True), Role.name.like(f"{ADMIN_ROLE}#%"))).one()
