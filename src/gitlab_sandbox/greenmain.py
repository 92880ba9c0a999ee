"""The green-main record: every new tip of a protected branch, and whether its tree passed CI.

A tip counts as passed when any successful pipeline ran on a commit with the same tree id,
before or after the branch moved there — the question is "was this exact code ever green?".
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from gitlab_sandbox.clock import SandboxClock

TreeStatus = Literal["passed", "failed", "untested"]


@dataclass(frozen=True)
class BranchTip:
    """One position a protected branch moved to."""

    project: str
    branch: str
    sha: str
    tree_id: str
    moved_at: datetime
    how: str  # push | merge | ... (as the lead reports it)
    previous_sha: str | None


class GreenMainRecord:
    """Tips of protected branches and CI results per tree id."""

    def __init__(self, clock: SandboxClock | None = None) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._tips: list[BranchTip] = []
        self._current: dict[tuple[str, str], str] = {}  # (project, branch) -> sha
        self._passed: dict[str, int] = {}  # tree id -> successful pipelines
        self._failed: dict[str, int] = {}  # tree id -> failed pipelines

    def record_tip(
        self,
        project: str,
        branch: str,
        sha: str,
        tree_id: str,
        *,
        how: str = "push",
        at: datetime | None = None,
    ) -> BranchTip | None:
        """Note that a protected branch moved to ``sha``; None when it was already there."""
        key = (str(project), branch)
        with self._lock:
            previous = self._current.get(key)
            if previous == sha:
                return None
            tip = BranchTip(str(project), branch, sha, tree_id, at or self._now(), how, previous)
            self._tips.append(tip)
            self._current[key] = sha
            return tip

    def mark_tree_result(self, tree_id: str, passed: bool) -> None:
        """Record a finished pipeline on a commit with this tree id."""
        with self._lock:
            results = self._passed if passed else self._failed
            results[tree_id] = results.get(tree_id, 0) + 1

    def tree_status(self, tree_id: str) -> TreeStatus:
        """passed if any pipeline on the tree succeeded, failed if some ran and none passed."""
        with self._lock:
            return self._status_locked(tree_id)

    def tips(self, project: str, branch: str | None = None) -> list[BranchTip]:
        """Recorded tips of a project (one branch), oldest first."""
        with self._lock:
            return [
                t for t in self._tips if t.project == str(project) and branch in (None, t.branch)
            ]

    def report(self, project: str) -> dict[str, Any]:
        """Every tip with its tree's CI status, summary counts, and ``green``."""
        with self._lock:
            rows = [
                {
                    "branch": tip.branch,
                    "sha": tip.sha,
                    "tree_id": tip.tree_id,
                    "moved_at": tip.moved_at.isoformat(),
                    "how": tip.how,
                    "previous_sha": tip.previous_sha,
                    "ci": self._status_locked(tip.tree_id),
                }
                for tip in self._tips
                if tip.project == str(project)
            ]
        summary = {"tips": len(rows), "passed": 0, "failed": 0, "untested": 0}
        for row in rows:
            summary[str(row["ci"])] += 1
        return {
            "project": str(project),
            "tips": rows,
            "summary": summary,
            "green": summary["passed"] == summary["tips"],
        }

    def projects(self) -> list[str]:
        """Projects with at least one recorded tip."""
        with self._lock:
            return sorted({tip.project for tip in self._tips})

    def reset(self) -> None:
        """Forget every tip and result."""
        with self._lock:
            self._tips.clear()
            self._current.clear()
            self._passed.clear()
            self._failed.clear()

    def _status_locked(self, tree_id: str) -> TreeStatus:
        if self._passed.get(tree_id):
            return "passed"
        if self._failed.get(tree_id):
            return "failed"
        return "untested"

    def _now(self) -> datetime:
        return self._clock.now() if self._clock is not None else datetime.now(UTC)
