"""The onboarding check's verdicts (pure: no I/O): from what GitLab answered, one line each —
ok, warning or failing, a sentence, and how to fix it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from merge_assist.gitlab.models import Branch, Hook, PersonalAccessToken, Project, ProjectMember

Status = Literal["ok", "warning", "failing"]
DEVELOPER, MAINTAINER = 30, 40
ROLE_NAMES = {10: "Guest", 15: "Planner", 20: "Reporter", 30: "Developer", 40: "Maintainer"}
EXPIRY_WARNING_DAYS = 14
NEEDED_EVENTS = ("merge_requests_events", "pipeline_events", "note_events")
NEW_TOKEN_ADVICE = (
    "Create a personal access token for the bot user with the scope api (GitLab: the bot's "  # noqa: S105
    "Preferences > Access tokens) and store it: merge-assist secrets set gitlab-bot-token."
)


@dataclass(frozen=True)
class CheckResult:
    """One line of the onboarding check."""

    name: str
    status: Status
    sentence: str
    fix: str | None = None


def ok(name: str, sentence: str) -> CheckResult:
    return CheckResult(name, "ok", sentence)


def role_name(level: int) -> str:
    return "Owner" if level >= 50 else ROLE_NAMES.get(level, f"access level {level}")


def token_refused(url: str) -> CheckResult:
    return CheckResult(
        "bot token",
        "failing",
        f"GitLab at {url} refused the bot token (wrong, expired or revoked).",
        NEW_TOKEN_ADVICE,
    )


def token_scopes(token: PersonalAccessToken | None, today: date) -> CheckResult:
    """Scopes (``api`` needed) and expiry (a warning two weeks before)."""
    if token is None:
        return CheckResult(
            "token scopes",
            "warning",
            "GitLab did not show the token's scopes and expiry (GET /personal_access_tokens/self "
            "needs GitLab 16.0 or later and a personal, project or group access token).",
            "Check in GitLab that the token has the scope api and when it expires.",
        )
    if "api" not in token.scopes:
        scopes = ", ".join(token.scopes) or "none"
        return CheckResult(
            "token scopes",
            "failing",
            f"The bot token has the scopes {scopes}, not api: it cannot label, comment or merge.",
            NEW_TOKEN_ADVICE,
        )
    if token.expires_at is None:
        return ok("token scopes", "The bot token has the scope api and does not expire.")
    days = (token.expires_at - today).days
    if days <= EXPIRY_WARNING_DAYS:
        return CheckResult(
            "token scopes",
            "warning",
            f"The bot token has the scope api but expires on {token.expires_at} "
            f"(in {max(days, 0)} days): the queue stops then.",
            "Rotate it before: " + NEW_TOKEN_ADVICE,
        )
    return ok("token scopes", f"The bot token has the scope api; it expires on {token.expires_at}.")


def membership(member: ProjectMember | None, bot: str, project: str, landing: str) -> CheckResult:
    """Developer merges through GitLab; landing by push and managing webhooks want Maintainer."""
    if member is None:
        return CheckResult(
            "bot membership",
            "failing",
            f"The bot user {bot} is not a member of {project}: it cannot see its merge requests.",
            f"In {project}, Manage > Members: invite {bot} as Maintainer (Developer at least).",
        )
    role = role_name(member.access_level)
    if member.access_level < DEVELOPER:
        return CheckResult(
            "bot membership",
            "failing",
            f"The bot user {bot} is {role} of {project}: it may not merge (Developer at least).",
            f"In {project}, Manage > Members: make {bot} Maintainer (Developer at least).",
        )
    if member.access_level < MAINTAINER:
        needs = "land by push and " if landing == "push" else ""
        return CheckResult(
            "bot membership",
            "warning",
            f"The bot user {bot} is Developer of {project}: enough to merge through GitLab, not "
            f"to {needs}manage or check the project's webhook.",
            f"In {project}, Manage > Members: make {bot} Maintainer.",
        )
    return ok("bot membership", f"The bot user {bot} is {role} of {project}.")


def merge_settings(project: Project) -> list[CheckResult]:
    """ "Pipelines must succeed" and the merge method, read back."""
    method = project.merge_method or "merge"
    results = [ok("merge method", f"GitLab merges {project.path_with_namespace} by {method}.")]
    if project.only_allow_merge_if_pipeline_succeeds:
        results.insert(0, ok("pipelines must succeed", '"Pipelines must succeed" is on.'))
    else:
        results.insert(
            0,
            CheckResult(
                "pipelines must succeed",
                "warning",
                '"Pipelines must succeed" is off: anyone may merge around the queue with a '
                "failing pipeline, and GitLab does not stop the bot from merging one.",
                f"In {project.path_with_namespace}, Settings > Merge requests > Merge checks: "
                'turn on "Pipelines must succeed".',
            ),
        )
    return results


def target_branch(branch: Branch | None, name: str, landing: str) -> CheckResult:
    """The branch exists; when the queue lands by push, the bot may push to it."""
    check = f"target branch {name}"
    if branch is None:
        return CheckResult(
            check,
            "failing",
            f"The target branch {name} does not exist.",
            "Create it, or change the target branches in the project's settings.",
        )
    if landing != "push":
        return ok(check, f"{name} exists; the queue merges into it through GitLab.")
    if branch.can_push:
        return ok(check, f"The bot may push to {name} (landing by push).")
    protected = " is protected and" if branch.protected else ""
    return CheckResult(
        check,
        "failing",
        f"{name}{protected} does not let the bot push to it, and the queue lands by push.",
        f"Settings > Repository > Protected branches: allow Maintainers to push to {name} and "
        "make the bot Maintainer, or land through GitLab's merge (landing merge_api).",
    )


def webhook(
    hooks: list[Hook] | None, hook_id: int | None, url: str
) -> tuple[CheckResult, Hook | None]:
    """Our hook is registered with our URL and the events the queue reads."""
    name = "webhook"
    if hooks is None:
        return CheckResult(
            name,
            "warning",
            "The bot may not read the project's webhooks (Maintainer needed): not checked.",
            "Make the bot Maintainer of the project.",
        ), None
    ours = next((h for h in hooks if h.id == hook_id), None) or next(
        (h for h in hooks if h.url == url), None
    )
    add = (
        "Register it again: deactivate and onboard the project, or set webhook_enabled off and on."
    )
    if ours is None:
        return CheckResult(name, "failing", "The project has no webhook of ours.", add), None
    if ours.url != url:
        return CheckResult(
            name,
            "failing",
            f"The webhook sends to {ours.url}, not to this server's {url}.",
            "Set MERGE_ASSIST_PUBLIC_URL to the address GitLab reaches us at, then: " + add,
        ), ours
    missing = [event for event in NEEDED_EVENTS if not getattr(ours, event)]
    if missing:
        return CheckResult(
            name,
            "failing",
            f"The webhook does not send {', '.join(missing)}.",
            "Edit the webhook in GitLab (Settings > Webhooks) and tick merge request, pipeline "
            "and comment events.",
        ), ours
    return ok(
        name, f"The webhook {ours.id} sends merge request, pipeline and comment events to {url}."
    ), ours


def delivery(url: str, refused: str | None, arrived: bool, waited: timedelta) -> CheckResult:
    """A test delivery: GitLab's own answer, then whether our listener stored it."""
    name = "test delivery"
    if refused is not None and re.search(r"\b401\b", refused):
        return CheckResult(
            name,
            "failing",
            f"GitLab reached {url}, but we refused the delivery: its secret token is not the "
            f"one we hold for this project ({refused}).",
            "Register the webhook again (set webhook_enabled off and on in the project's "
            "settings): a new secret goes to GitLab and to us.",
        )
    if refused is not None:
        return CheckResult(
            name,
            "failing",
            f"GitLab could not reach {url}: {refused}",
            "Make this server reachable from GitLab at MERGE_ASSIST_PUBLIC_URL (firewall, proxy, "
            "TLS certificate), or set that URL to an address GitLab can reach.",
        )
    if not arrived:
        seconds = int(waited.total_seconds())
        return CheckResult(
            name,
            "failing",
            f"GitLab delivered a test event to {url}, but it did not reach this Merge Assist "
            f"within {seconds} seconds.",
            "Check that the address leads to this server (another server answers there?) and "
            "that its listener uses this database.",
        )
    return ok(name, f"A test delivery from GitLab reached us at {url}.")
