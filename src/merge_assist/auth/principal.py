"""Who is making a request: read from the database on every request."""

from __future__ import annotations

from dataclasses import dataclass

from merge_assist.auth.roles import RoleName, grants


@dataclass(frozen=True)
class Principal:
    """The signed-in user as the request sees it (roles as they are now in the database)."""

    id: int
    username: str
    display_name: str
    roles: frozenset[str]

    @property
    def is_admin(self) -> bool:
        """Whether the user holds the admin role."""
        return RoleName.admin in self.roles

    def has_any_role(self, *names: str) -> bool:
        """Whether the user holds one of ``names`` (admin holds them all)."""
        return grants(self.roles, names)
