"""``GET /groups`` and ``GET /groups/:id`` through python-gitlab, unmodified."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import gitlab
import pytest

from gitlab_sandbox.testing import RunningSandbox, run_sandbox
from tests.gitlab_sandbox.api.conftest import scenario

GROUPS = [
    {"path": "acme", "name": "ACME", "members": {"alice": "developer"}},
    {"path": "acme/cnc", "name": "CNC", "members": {"bob": "owner"}},
    {"path": "partners", "visibility": "internal", "members": {"reader": "guest"}},
    {"path": "secret"},
]


@pytest.fixture
def sandbox() -> Iterator[RunningSandbox]:
    with run_sandbox(scenario(groups=GROUPS)) as running:
        yield running


def _paths(groups: list[object]) -> list[str]:
    return sorted(str(getattr(group, "full_path", "")) for group in groups)


def test_min_access_level_lists_direct_and_inherited_memberships(
    client: Callable[[str], gitlab.Gitlab],
) -> None:
    alice = client("alice").groups.list(min_access_level=10, get_all=True)
    assert _paths(alice) == ["acme", "acme/cnc"]  # a member of acme is one of its subgroups
    bob = client("bob").groups.list(min_access_level=10, get_all=True)
    assert _paths(bob) == ["acme/cnc"]  # not of the parent group
    assert _paths(client("outsider").groups.list(min_access_level=10, get_all=True)) == []
    reader = client("reader").groups.list(min_access_level=20, get_all=True)
    assert _paths(reader) == []  # guest is below reporter
    owned = client("bob").groups.list(owned=True, get_all=True)
    assert _paths(owned) == ["acme/cnc"]


def test_visible_groups_and_one_group(client: Callable[[str], gitlab.Gitlab]) -> None:
    assert _paths(client("outsider").groups.list(get_all=True)) == ["partners"]
    assert _paths(client("root").groups.list(get_all=True)) == [
        "acme",
        "acme/cnc",
        "partners",
        "secret",
    ]
    cnc = client("alice").groups.get("acme/cnc")
    assert (cnc.full_path, cnc.name, cnc.full_name) == ("acme/cnc", "CNC", "ACME / CNC")
    assert cnc.parent_id == client("alice").groups.get("acme").id
    with pytest.raises(gitlab.exceptions.GitlabGetError) as refused:
        client("outsider").groups.get("secret")
    assert refused.value.response_code == 404
