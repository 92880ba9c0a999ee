"""The alert rules: pure functions from a snapshot of the product's state to the conditions true.

No I/O here: ``snapshot.py`` reads the database and asks GitLab, the evaluator turns the
conditions into incidents. Each condition has a ``key`` naming *what* is wrong (one process,
one project, one merge request); the same key on the next pass is the same incident.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum

FORGET_SILENT_AFTER = timedelta(hours=24)
"""A process silent for this long is forgotten (its incident resolves): it was replaced."""


class GitLabReach(StrEnum):
    """What the probe of GitLab with the bot token found."""

    ok = "ok"
    unreachable = "unreachable"
    refused = "refused"
    not_configured = "not_configured"


class HookState(StrEnum):
    """A project's webhook as GitLab reports it."""

    ok = "ok"
    missing = "missing"
    failing = "failing"
    disabled = "disabled"


@dataclass(frozen=True)
class Thresholds:
    """The administrators' thresholds (``alert_settings``) and the product's lease grace."""

    silent_after_seconds: int = 180
    stuck_after_minutes: int = 120
    token_expiry_days: int = 14
    lease_grace_seconds: int = 60


@dataclass(frozen=True)
class ProcessSeen:
    worker_id: str
    role: str
    hostname: str
    last_seen: datetime
    stopped_at: datetime | None


@dataclass(frozen=True)
class LeaseSeen:
    project_id: int
    project_path: str
    owner: str
    expires_at: datetime


@dataclass(frozen=True)
class QueuedMergeRequest:
    project_id: int
    project_path: str
    iid: int
    target_branch: str
    queue_state: str
    recognised_at: datetime


@dataclass(frozen=True)
class GitLabProbe:
    reach: GitLabReach
    detail: str = ""
    bot_token_expires_on: date | None = None


@dataclass(frozen=True)
class WebhookSeen:
    project_id: int
    project_path: str
    state: HookState
    detail: str = ""


@dataclass(frozen=True)
class UserToken:
    user_id: int
    username: str
    expires_at: datetime


@dataclass(frozen=True)
class Snapshot:
    """Everything the rules look at, as of ``now``."""

    now: datetime
    processes: tuple[ProcessSeen, ...] = ()
    leases: tuple[LeaseSeen, ...] = ()
    queued: tuple[QueuedMergeRequest, ...] = ()
    gitlab: GitLabProbe = field(default_factory=lambda: GitLabProbe(GitLabReach.not_configured))
    webhooks: tuple[WebhookSeen, ...] = ()
    user_tokens: tuple[UserToken, ...] = ()


@dataclass(frozen=True)
class Condition:
    """Something wrong now: ``key`` identifies the incident, ``subject`` is its one-line title."""

    key: str
    rule: str
    subject: str
    message: str


def _minutes(delta: timedelta) -> int:
    return int(delta.total_seconds() // 60)


def silent_processes(snapshot: Snapshot, limits: Thresholds) -> Iterable[Condition]:
    """Workers, watchers and listeners not stopped gracefully whose heartbeat stopped."""
    for process in snapshot.processes:
        quiet = snapshot.now - process.last_seen
        if process.stopped_at is not None or quiet > FORGET_SILENT_AFTER:
            continue
        if quiet >= timedelta(seconds=limits.silent_after_seconds):
            yield Condition(
                key=f"process_silent:{process.worker_id}",
                rule="process_silent",
                subject=f"The {process.role} {process.worker_id} has gone silent",
                message=(
                    f"The {process.role} {process.worker_id} on {process.hostname} has not "
                    f"sent a heartbeat for {_minutes(quiet)} minutes and did not stop "
                    "gracefully: it crashed, hangs, or lost the database."
                ),
            )


def lapsed_leases(snapshot: Snapshot, limits: Thresholds) -> Iterable[Condition]:
    """Active projects whose lease lapsed and nobody took it again within the grace."""
    for lease in snapshot.leases:
        lapsed = snapshot.now - lease.expires_at
        if lapsed >= timedelta(seconds=limits.lease_grace_seconds):
            yield Condition(
                key=f"lease_lapsed:{lease.project_id}",
                rule="lease_lapsed",
                subject=f"Nobody runs the merge queue of {lease.project_path}",
                message=(
                    f"The lease of {lease.project_path} (last held by {lease.owner}) was not "
                    f"renewed and lapsed {_minutes(lapsed)} minutes ago: no worker runs its "
                    "queue. Check that workers are running."
                ),
            )


def stuck_merge_requests(snapshot: Snapshot, limits: Thresholds) -> Iterable[Condition]:
    """Merge requests in a queue for longer than ``stuck_after_minutes``."""
    limit = timedelta(minutes=limits.stuck_after_minutes)
    for mr in snapshot.queued:
        waited = snapshot.now - mr.recognised_at
        if waited >= limit:
            yield Condition(
                key=f"mr_stuck:{mr.project_id}:{mr.iid}",
                rule="mr_stuck",
                subject=f"!{mr.iid} of {mr.project_path} is stuck in the queue",
                message=(
                    f"The merge request !{mr.iid} of {mr.project_path} (into "
                    f"{mr.target_branch}) has been in the queue for {_minutes(waited)} minutes, "
                    f"now {mr.queue_state}; the limit is {limits.stuck_after_minutes}."
                ),
            )


def gitlab_reach(snapshot: Snapshot, _limits: Thresholds) -> Iterable[Condition]:
    """GitLab unreachable, or refusing the bot token."""
    probe = snapshot.gitlab
    if probe.reach is GitLabReach.unreachable:
        yield Condition(
            key="gitlab_unreachable",
            rule="gitlab_unreachable",
            subject="GitLab is unreachable",
            message=f"Merge Assist cannot reach GitLab: {probe.detail}".strip(),
        )
    elif probe.reach is GitLabReach.refused:
        yield Condition(
            key="gitlab_token_refused",
            rule="gitlab_token_refused",
            subject="GitLab refuses the bot token",
            message=(
                "GitLab refused the bot token (expired or revoked?): store a fresh one as the "
                "secret 'gitlab-bot-token'."
            ),
        )


def failing_webhooks(snapshot: Snapshot, _limits: Thresholds) -> Iterable[Condition]:
    """Projects whose webhook GitLab disabled (for failing) or that lost it."""
    what = {
        HookState.missing: "is missing in GitLab (deleted by hand?)",
        HookState.failing: "fails: GitLab disabled it for a while after failed deliveries",
        HookState.disabled: "is disabled by GitLab after repeated failed deliveries",
    }
    for hook in snapshot.webhooks:
        if hook.state is HookState.ok:
            continue
        yield Condition(
            key=f"webhook:{hook.project_id}",
            rule=f"webhook_{hook.state.value}",
            subject=f"The webhook of {hook.project_path} {hook.state.value}",
            message=(
                f"The webhook of {hook.project_path} {what[hook.state]}. Until it works, the "
                "queue only moves at the polling interval. " + hook.detail
            ).strip(),
        )


def expiring_tokens(snapshot: Snapshot, limits: Thresholds) -> Iterable[Condition]:
    """The bot token, or a user's stored GitLab token, expiring within ``token_expiry_days``."""
    horizon = timedelta(days=limits.token_expiry_days)
    today = snapshot.now.date()
    bot = snapshot.gitlab.bot_token_expires_on
    if bot is not None and bot - today <= horizon:
        yield Condition(
            key="bot_token_expiry",
            rule="token_expiry",
            subject=f"The GitLab bot token expires on {bot.isoformat()}",
            message=(
                f"The bot's GitLab token expires on {bot.isoformat()}: create a new one and "
                "store it as the secret 'gitlab-bot-token' before then."
            ),
        )
    for token in snapshot.user_tokens:
        if token.expires_at - snapshot.now <= horizon:
            day = token.expires_at.date().isoformat()
            yield Condition(
                key=f"user_token_expiry:{token.user_id}",
                rule="token_expiry",
                subject=f"The GitLab token of {token.username} expires on {day}",
                message=(
                    f"The GitLab token {token.username} signed in with expires on {day}; "
                    "they should sign in with a new one."
                ),
            )


Rule = Callable[[Snapshot, Thresholds], Iterable[Condition]]
RULES: tuple[Rule, ...] = (
    silent_processes,
    lapsed_leases,
    stuck_merge_requests,
    gitlab_reach,
    failing_webhooks,
    expiring_tokens,
)


def evaluate(snapshot: Snapshot, limits: Thresholds) -> dict[str, Condition]:
    """Every condition true in ``snapshot``, by key."""
    return {found.key: found for rule in RULES for found in rule(snapshot, limits)}
