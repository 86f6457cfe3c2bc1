"""Row-level tenancy: every query on a tenant-owned model is scoped to the current business.

One `do_orm_execute` hook adds the current business as loader criteria to every ORM
SELECT, UPDATE and DELETE (relationship and bulk statements included), and a
`before_flush` hook stamps new rows with it. With no business current, tenant queries
match nothing: code that really needs every business (sign-in, the outbox sweep) says so
with `.execution_options(all_tenants=True)`.
"""
from contextlib import contextmanager

from flask import g, has_app_context
from sqlalchemy import ForeignKey, event, false
from sqlalchemy.orm import Mapped, Session, declared_attr, mapped_column, with_loader_criteria

_UNSET = object()


class TenantMixin:
    """Owned by one business. Queries see only the current business's rows."""

    @declared_attr
    def business_id(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("businesses.id", ondelete="CASCADE"), index=True, nullable=False)


def current_business_id() -> int | None:
    if not has_app_context():
        return None
    return g.get("tenant_business_id")


def set_current_business(business_id: int | None) -> None:
    g.tenant_business_id = business_id


@contextmanager
def tenant_scope(business_id: int | None):
    """Run a block as `business_id` (jobs, CLI, tests); restores the previous one."""
    previous = g.get("tenant_business_id", _UNSET)
    g.tenant_business_id = business_id
    try:
        yield
    finally:
        if previous is _UNSET:
            g.pop("tenant_business_id", None)
        else:
            g.tenant_business_id = previous


def _scope_statement(state) -> None:
    if not (state.is_select or state.is_update or state.is_delete):
        return
    if state.execution_options.get("all_tenants") or state.is_column_load:
        return
    business_id = current_business_id()
    if business_id is None:
        criteria = with_loader_criteria(TenantMixin, lambda cls: false(), include_aliases=True)
    else:
        criteria = with_loader_criteria(
            TenantMixin, lambda cls: cls.business_id == business_id, include_aliases=True
        )
    state.statement = state.statement.options(criteria)


def _stamp(obj) -> None:
    if isinstance(obj, TenantMixin) and obj.business_id is None:
        business = getattr(obj, "business", None)
        obj.business_id = business.id if business is not None else current_business_id()


def _stamp_on_add(session, obj) -> None:
    """Stamp when the row is added, so a later flush outside the scope keeps its business."""
    _stamp(obj)


def _check_new_rows(session, flush_context, instances) -> None:
    for obj in session.new:
        _stamp(obj)
        if isinstance(obj, TenantMixin) and obj.business_id is None:
            raise RuntimeError(f"{type(obj).__name__} created with no current business; use tenant_scope()")


def install_tenancy_hooks() -> None:
    if not event.contains(Session, "do_orm_execute", _scope_statement):
        event.listen(Session, "do_orm_execute", _scope_statement)
        event.listen(Session, "transient_to_pending", _stamp_on_add)
        event.listen(Session, "before_flush", _check_new_rows)
