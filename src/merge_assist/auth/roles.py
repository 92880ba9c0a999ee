"""The global roles and the one rule that reads them (pure, no I/O)."""

from __future__ import annotations

import enum
from collections.abc import Iterable


class RoleName(enum.StrEnum):
    """A global role; project permissions refine it per project."""

    admin = "admin"
    project_owner = "project_owner"
    priority_manager = "priority_manager"
    member = "member"
    viewer = "viewer"


ROLE_NAMES: tuple[str, ...] = tuple(role.value for role in RoleName)


def grants(held: Iterable[str], required: Iterable[str]) -> bool:
    """Whether roles ``held`` satisfy one of ``required``; admin satisfies everything."""
    held_set = set(held)
    return RoleName.admin in held_set or bool(held_set & set(required))
