from __future__ import annotations

from merge_assist.auth.principal import Principal
from merge_assist.auth.roles import ROLE_NAMES, grants


def test_the_five_roles() -> None:
    assert ROLE_NAMES == ("admin", "project_owner", "priority_manager", "member", "viewer")


def test_admin_satisfies_every_requirement() -> None:
    assert grants({"admin"}, ["viewer"])
    assert grants(["admin"], ["priority_manager", "project_owner"])


def test_other_roles_need_a_match() -> None:
    assert grants({"member", "viewer"}, ["viewer"])
    assert not grants({"viewer"}, ["member"])
    assert not grants(set(), ["viewer"])


def test_principal_reads_its_roles() -> None:
    owner = Principal(id=1, username="o", display_name="O", roles=frozenset({"project_owner"}))
    assert not owner.is_admin
    assert owner.has_any_role("project_owner", "admin")
    assert not owner.has_any_role("priority_manager")
