"""The onboarding check's verdicts, directly (pure)."""

from __future__ import annotations

from datetime import date, timedelta

from merge_assist.gitlab.models import Branch, Hook, PersonalAccessToken, ProjectMember
from merge_assist.projects import check_rules as rules

TODAY = date(2026, 12, 6)
URL = "https://ma.example/webhook/gitlab"


def token(scopes: list[str], expires: date | None = None) -> PersonalAccessToken:
    return PersonalAccessToken(id=1, scopes=scopes, expires_at=expires)


def test_token_scopes_and_expiry() -> None:
    assert rules.token_scopes(token(["api"]), TODAY).status == "ok"
    assert rules.token_scopes(token(["api"], TODAY + timedelta(days=60)), TODAY).status == "ok"
    soon = rules.token_scopes(token(["api"], TODAY + timedelta(days=3)), TODAY)
    assert soon.status == "warning"
    assert "(in 3 days)" in soon.sentence
    narrow = rules.token_scopes(token(["read_api", "read_repository"]), TODAY)
    assert narrow.status == "failing"
    assert "read_api, read_repository, not api" in narrow.sentence
    assert rules.token_scopes(None, TODAY).status == "warning"  # GitLab before 16.0


def test_membership_roles() -> None:
    def member(level: int) -> ProjectMember:
        return ProjectMember(id=2, username="bot", access_level=level)

    assert rules.membership(None, "bot", "g/a", "merge_api").status == "failing"
    assert rules.membership(member(20), "bot", "g/a", "merge_api").status == "failing"
    developer = rules.membership(member(30), "bot", "g/a", "push")
    assert developer.status == "warning"
    assert "land by push" in developer.sentence
    assert rules.membership(member(40), "bot", "g/a", "push").sentence.endswith(
        "Maintainer of g/a."
    )
    assert "Owner" in rules.membership(member(50), "bot", "g/a", "push").sentence


def test_target_branch_when_landing_by_push() -> None:
    protected = Branch(name="main", protected=True, can_push=False)
    assert rules.target_branch(protected, "main", "merge_api").status == "ok"
    refused = rules.target_branch(protected, "main", "push")
    assert refused.status == "failing"
    assert refused.sentence.startswith("main is protected and does not let the bot push")
    assert rules.target_branch(Branch(name="main", can_push=True), "main", "push").status == "ok"
    assert rules.target_branch(None, "release", "push").status == "failing"


def test_webhook_found_by_id_or_url() -> None:
    ours = Hook(id=7, url=URL, merge_requests_events=True, pipeline_events=True, note_events=True)
    assert rules.webhook([ours], 7, URL)[0].status == "ok"
    assert rules.webhook([ours], None, URL)[1] == ours  # registered before we knew its id
    no_notes = ours.model_copy(update={"note_events": False})
    missing = rules.webhook([no_notes], 7, URL)[0]
    assert missing.status == "failing"
    assert missing.sentence == "The webhook does not send note_events."
    assert rules.webhook(None, 7, URL)[0].status == "warning"


def test_delivery_verdicts() -> None:
    wait = timedelta(seconds=5)
    assert rules.delivery(URL, None, True, wait).status == "ok"
    lost = rules.delivery(URL, None, False, wait)
    assert lost.status == "failing"
    assert "did not reach this Merge Assist within 5 seconds" in lost.sentence
    unreachable = rules.delivery(URL, "Hook execution failed: ConnectError", False, wait)
    assert (
        unreachable.sentence == f"GitLab could not reach {URL}: Hook execution failed: ConnectError"
    )
    wrong_secret = rules.delivery(URL, "Hook execution failed: HTTP 401", False, wait)
    assert wrong_secret.sentence.startswith(f"GitLab reached {URL}, but we refused the delivery")
    assert "webhook_enabled off and on" in (wrong_secret.fix or "")
