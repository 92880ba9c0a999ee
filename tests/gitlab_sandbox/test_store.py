"""The in-memory store: lookups, tokens by hash, protected branch rules, draft titles."""

from __future__ import annotations

from datetime import UTC, datetime

from gitlab_sandbox.store import (
    AccessLevel,
    AccessToken,
    Project,
    ProtectedBranch,
    Store,
    User,
    hash_token,
    is_draft_title,
    new_token_value,
)


def _project(store: Store) -> Project:
    return store.add_project(
        Project(
            id=store.next_id("project"),
            name="app",
            path="app",
            namespace="acme/team",
            namespace_id=1,
            creator_id=1,
        )
    )


def test_projects_by_id_or_encoded_path() -> None:
    store = Store()
    project = _project(store)
    assert store.project_by_ref("acme%2Fteam%2Fapp") is project
    assert store.project_by_ref(str(project.id)) is project
    assert store.project_by_ref("acme/other") is None


def test_tokens_are_found_by_hash_only() -> None:
    store = Store()
    value = new_token_value()
    assert value.startswith("glpat-")
    token = AccessToken(
        id=1,
        name="t",
        user_id=1,
        token_sha256=hash_token(value),
        scopes=["api"],
        created_at=datetime.now(UTC),
    )
    store.add_token(token)
    assert store.token_by_value(value) is token
    assert store.token_by_value(value + "x") is None
    assert value not in repr(store.tokens)


def test_protected_branch_exact_names_win_over_wildcards() -> None:
    store = Store()
    project = _project(store)
    wildcard = ProtectedBranch(id=1, name="release/*", push_access_level=AccessLevel.NO_ACCESS)
    exact = ProtectedBranch(id=2, name="release/1.0", push_access_level=AccessLevel.DEVELOPER)
    project.protected_branches = [wildcard, exact]
    assert store.protection_for(project, "release/1.0") is exact
    assert store.protection_for(project, "release/2.0") is wildcard
    assert store.protection_for(project, "feature") is None


def test_admins_count_as_owners() -> None:
    store = Store()
    project = _project(store)
    admin = store.add_user(User(id=1, username="root", name="Root", email="r@x", is_admin=True))
    guest = store.add_user(User(id=2, username="g", name="G", email="g@x"))
    assert store.access_level(project, admin) == AccessLevel.OWNER
    assert store.access_level(project, guest) == AccessLevel.NO_ACCESS
    assert store.user_by_username("ROOT") is admin


def test_draft_titles() -> None:
    """lib/gitlab/regex/merge_requests.rb (GitLab 16+): ``[Draft]``, ``(Draft)`` and
    ``Draft:``, case-insensitive, at the start; ``WIP`` no longer marks a draft."""
    for title in ("Draft: x", "[Draft] x", "draft: x", "(Draft) x", "DRAFT:x", "[draft] x"):
        assert is_draft_title(title)
    for title in ("Drafting a plan", "Fix draft handling", "WIP: x", "[WIP] x", "Draft - x"):
        assert not is_draft_title(title)
