"""Permissions are names (`locations.view`); roles hold them, credentials narrow them.

Feature packages register their permission names by area, which drives the grouped
checkboxes on the roles screen and the set the Admin role implicitly holds.
"""
from dataclasses import dataclass, field

from app.core.errors import Forbidden

# area label -> {permission name: human description}
PERMISSION_GROUPS: dict[str, dict[str, str]] = {}
ALL_ABILITIES = "*"
# Abilities a credential may carry that no role holds: they narrow what a token may do
# with its user's own account (a browser session and a "*" token have them all).
TOKENS_MANAGE = "tokens.manage"
CREDENTIAL_ABILITIES: dict[str, str] = {TOKENS_MANAGE: "List, create and revoke API tokens"}


def register_permissions(area: str, names: dict[str, str]) -> None:
    PERMISSION_GROUPS.setdefault(area, {}).update(names)


def all_permission_names() -> list[str]:
    return sorted(name for group in PERMISSION_GROUPS.values() for name in group)


@dataclass(frozen=True)
class Actor:
    """Who is acting: a user, what their role grants, and what their credential allows.

    `abilities` is None for a browser session (the role alone decides) and a set of
    permission names, possibly containing "*", for an API credential.
    """

    user: object
    role_permissions: frozenset = field(default_factory=frozenset)
    is_admin: bool = False
    abilities: frozenset | None = None

    @property
    def business_id(self) -> int:
        return self.user.business_id

    def can(self, permission: str) -> bool:
        role_allows = self.is_admin or permission in self.role_permissions
        if not role_allows:
            return False
        if self.abilities is None or ALL_ABILITIES in self.abilities:
            return True
        return permission in self.abilities

    def can_any(self, *permissions: str) -> bool:
        return any(self.can(p) for p in permissions)


def require(actor: Actor, *permissions: str) -> None:
    """Raise Forbidden unless the actor holds at least one of `permissions`."""
    if actor is None or not actor.can_any(*permissions):
        raise Forbidden()


def stored_abilities(actor: Actor) -> list[str] | None:
    """The actor's credential abilities as a job keeps them (sorted; None for a browser
    session), so the worker can act as `actor_for(user, abilities)`: as narrowly as the
    credential that started the job, never with the user's whole role."""
    return None if actor.abilities is None else sorted(actor.abilities)


def actor_for(user, abilities=None) -> Actor:
    role = getattr(user, "role", None)
    return Actor(
        user=user,
        role_permissions=frozenset(role.permission_names) if role else frozenset(),
        is_admin=bool(role and role.is_admin),
        abilities=frozenset(abilities) if abilities is not None else None,
    )
