"""A database-free runner for end-to-end tests: ``state → observe → decide → perform``.

The loop is the one ``docs/merge-engine.md`` describes, with the state kept in memory (as JSON,
the way the runner stores it) and the sandbox's clock advanced while the queue waits, so CI
finishes. ``crash`` drops the new state and the results after a step's actions were performed,
as a worker dying before it stores. The runner's own tests reuse ``queue_scenario`` and
``drive``'s checks with the database in the loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from gitlab_sandbox.testing import RunningSandbox
from merge_assist.merging.engine.actions import Action, RecordHistory, Wait
from merge_assist.merging.engine.config import EngineConfig
from merge_assist.merging.engine.decide import Decision, decide
from merge_assist.merging.engine.observations import ActionResult
from merge_assist.merging.engine.port import QueuePort
from merge_assist.merging.engine.state import TargetQueueState

BOT = "merge-bot"
PROJECT = "acme/queue"
TARGET = "main"
FAIL_MARKER = "sandbox-ci: fail"
SHARED_FILE = "shared.txt"
TOGETHER_MARKERS = ("sandbox-ci: half-a", "sandbox-ci: half-b")

Crash = Callable[[int, Decision], bool]


def queue_scenario(
    count: int = 10,
    *,
    broken: frozenset[int] = frozenset({4}),
    conflicting: tuple[int, int] | None = (7, 8),
    reviewer_only: frozenset[int] = frozenset({2}),
    unassigned: frozenset[int] = frozenset(),
    together: tuple[int, int] | None = None,
    seed: int = 5,
    settings: dict[str, Any] | None = None,
    main_files: dict[str, str] | None = None,
) -> dict[str, Any]:
    """``count`` MRs (iids 1..count) into ``main``; ``broken`` ones carry the CI fail marker,
    the ``conflicting`` pair edit the same line; ``reviewer_only`` have the bot as reviewer;
    the ``together`` pair each pass CI alone and fail it together (found by bisection).
    ``settings``: the project's (e.g. ``merge_pipelines_enabled``); ``main_files``: more
    files on ``main`` before the MRs branch off."""
    mrs = []
    for n in range(1, count + 1):
        files = {f"src/mr{n}.txt": f"change {n}\n"}
        if n in broken:
            files[f"src/broken{n}.txt"] = f"{FAIL_MARKER}\n"
        if together is not None and n in together:
            files[f"src/half{n}.txt"] = f"{TOGETHER_MARKERS[together.index(n)]}\n"
        if conflicting is not None and n in conflicting:
            files[SHARED_FILE] = f"edited by {n}\n"
        role = "reviewers" if n in reviewer_only else "assignees"
        mr: dict[str, Any] = {
            "source_branch": f"topic-{n}",
            "title": f"Change {n}",
            "author": "alice",
            "files": files,
        }
        if n not in unassigned:
            mr[role] = [BOT]
        mrs.append(mr)
    return {
        "seed": seed,
        "clock_speed": 60,
        "ci": {
            "duration_seconds": [20, 40],
            "runner_capacity": 20,
            "flake_rate": 0.0,
            "fail_marker": FAIL_MARKER,
            "fail_together": [list(TOGETHER_MARKERS)],
        },
        "users": [
            {"username": "root", "admin": True},
            {"username": BOT, "name": "Merge Bot", "bot": True},
            {"username": "alice", "name": "Alice"},
        ],
        "projects": [
            {
                "path": PROJECT,
                "owner": "root",
                "members": {BOT: "maintainer", "alice": "developer"},
                "protected_branches": [
                    {"name": TARGET, "push_access_level": "maintainer"},
                ],
                "files": {
                    "README.md": "# queue\n",
                    SHARED_FILE: "original\n",
                    **(main_files or {}),
                },
                "settings": settings or {},
                "merge_requests": mrs,
            }
        ],
    }


@dataclass
class DriveLog:
    """What happened during a drive: every action performed, history, crashes."""

    steps: int = 0
    performed: list[Action] = field(default_factory=list)
    history: dict[str, RecordHistory] = field(default_factory=dict)
    crashes: int = 0
    acting_steps: int = 0
    notes: list[str] = field(default_factory=list)

    def events(self, event: str) -> list[RecordHistory]:
        """History records of ``event`` (each record key once)."""
        return [record for record in self.history.values() if record.event == event]

    def kinds(self) -> set[str]:
        """The kinds of action performed at least once."""
        return {action.kind for action in self.performed}


def finished(state: TargetQueueState) -> bool:
    """Nothing left to do: no queued or rejected MR, no attempt, no batch run."""
    return not (state.merge_requests or state.rejected or state.attempts or state.batch_run)


async def drive(
    port: QueuePort,
    sandbox: RunningSandbox,
    config: EngineConfig,
    *,
    project_id: int,
    state: TargetQueueState | None = None,
    crash: Crash | None = None,
    max_steps: int = 400,
    tick_seconds: float = 30.0,
) -> tuple[TargetQueueState, DriveLog]:
    """Run the queue until it is idle with nothing queued; fail after ``max_steps``."""
    state = state or TargetQueueState.empty(project_id, TARGET)
    results: tuple[ActionResult, ...] = ()
    log = DriveLog()
    for step in range(max_steps):
        log.steps = step + 1
        observed = await port.observe(state)
        observations = observed.model_copy(update={"results": results})
        decision = decide(state, observations, config, datetime.now(UTC))
        log.notes += list(decision.notes)
        assert not [n for n in decision.notes if "internal error" in n], decision.notes
        if decision.idle:
            state = TargetQueueState.from_json(decision.state.to_json())
            results = ()
            if finished(state):
                return state, log
            await _let_time_pass(sandbox, tick_seconds)
            continue
        performed = await _perform(port, decision.actions, log)
        log.acting_steps += 1
        if crash is not None and crash(log.acting_steps, decision):
            log.crashes += 1
            results = ()  # the worker died after acting, before storing: re-decide
            continue
        state = TargetQueueState.from_json(decision.state.to_json())
        results = performed
    raise AssertionError(f"the queue did not settle within {max_steps} steps: {state}")


async def _perform(
    port: QueuePort, actions: tuple[Action, ...], log: DriveLog
) -> tuple[ActionResult, ...]:
    results: list[ActionResult] = []
    for action in actions:
        if isinstance(action, Wait):
            continue
        log.performed.append(action)
        if isinstance(action, RecordHistory):
            log.history.setdefault(action.record_key, action)  # unique on record_key
            continue
        result = await port.perform(action)
        if result is not None:
            results.append(result)
    return tuple(results)


async def _let_time_pass(sandbox: RunningSandbox, seconds: float) -> None:
    """Advance simulated time so pipelines finish, then let the sandbox's tasks run."""
    await asyncio.to_thread(sandbox.advance_clock, seconds)
    await asyncio.sleep(0.05)


def crash_on_kinds(kinds: set[str], times: int = 1) -> Crash:
    """Crash after the first ``times`` steps containing each action kind of ``kinds``."""
    seen: dict[str, int] = {}

    def crash(step: int, decision: Decision) -> bool:
        hit = False
        for kind in {action.kind for action in decision.actions} & kinds:
            seen[kind] = seen.get(kind, 0) + 1
            hit = hit or seen[kind] <= times
        return hit

    return crash


def crash_every(period: int, offset: int = 0) -> Crash:
    """Crash after every ``period``-th step that performed actions."""

    def crash(step: int, decision: Decision) -> bool:
        return step % period == offset

    return crash
