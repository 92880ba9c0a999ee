"""What CI decides about a tree: fail markers, semantic conflicts, flakes, durations.

Everything here is pure. Results depend only on the seed, the tree's content and the attempt,
so every contender in a benchmark sees the same world.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

DEFAULT_FAIL_MARKER = "sandbox-ci: fail"

# GitLab's ``when`` of a job, as far as the simulator's single job has one.
JobWhen = Literal["on_success", "manual", "delayed"]


@dataclass
class CiRules:
    """How the simulated CI behaves."""

    fail_marker: str = DEFAULT_FAIL_MARKER  # a line containing it breaks CI on its own
    fail_together: list[list[str]] = field(default_factory=list)  # break only when all present
    flake_rate: float = 0.0
    duration_seconds: tuple[float, float] = (60.0, 180.0)  # uniform range, simulated seconds
    runner_capacity: int = 4
    # ``when: manual`` (blocking): a tree with a line containing it waits, ``manual``, until
    # someone plays its job (``doc/ci/jobs/job_control.md``). None: no manual jobs.
    manual_marker: str | None = None
    # ``when: delayed``: a tree with it is ``scheduled`` for ``delay_seconds``, then runs.
    delayed_marker: str | None = None
    delay_seconds: float = 60.0

    def __post_init__(self) -> None:
        low, high = self.duration_seconds
        if not 0 <= low <= high:
            raise ValueError("duration_seconds must be a range (low, high) with 0 <= low <= high.")
        if not 0.0 <= self.flake_rate <= 1.0:
            raise ValueError("flake_rate must be between 0 and 1.")
        if self.runner_capacity < 1:
            raise ValueError("runner_capacity must be at least 1.")
        if not self.fail_marker:
            raise ValueError("fail_marker must not be empty.")
        if "" in (self.manual_marker, self.delayed_marker):
            raise ValueError("manual_marker and delayed_marker must not be empty.")
        if self.delay_seconds < 0:
            raise ValueError("delay_seconds must not be negative.")
        if any(not group or not all(group) for group in self.fail_together):
            raise ValueError("Every fail_together group needs at least one non-empty marker.")


@dataclass(frozen=True)
class MarkerHit:
    """Where a marker was found."""

    marker: str
    path: str
    line: int


@dataclass(frozen=True)
class TreeContentVerdict:
    """The part of the verdict that depends on the tree's content only (cacheable per tree)."""

    tree_digest: str
    failures: tuple[MarkerHit, ...]  # empty when no marker breaks the tree
    failure_kind: str | None  # "fail_marker" | "fail_together" | None
    when: JobWhen = "on_success"  # how the job starts (GitLab's ``when``)


@dataclass(frozen=True)
class TreeVerdict:
    """Whether one attempt of CI on a tree passes, and why not."""

    passed: bool
    reason: str  # one sentence for the job log ("" when passed)
    flaky: bool = False


def tree_digest(files: Mapping[str, bytes]) -> str:
    """A content address for a tree (same files → same digest, whatever the commit)."""
    digest = hashlib.sha256()
    for path in sorted(files):
        content = files[path]
        digest.update(path.encode() + b"\0" + str(len(content)).encode() + b"\0" + content)
    return digest.hexdigest()


def find_marker(files: Mapping[str, bytes], marker: str) -> MarkerHit | None:
    """The first file (by path) with a line containing ``marker``, e.g. ``# sandbox-ci: fail``."""
    needle = marker.encode()
    for path in sorted(files):
        content = files[path]
        position = content.find(needle)
        if position >= 0:
            return MarkerHit(marker, path, content.count(b"\n", 0, position) + 1)
    return None


def judge_content(rules: CiRules, files: Mapping[str, bytes]) -> TreeContentVerdict:
    """Check the fail marker, then every ``fail_together`` group, against a tree; and how
    its job starts (the manual marker wins over the delayed one)."""
    digest = tree_digest(files)
    when = job_when(rules, files)
    alone = find_marker(files, rules.fail_marker)
    if alone is not None:
        return TreeContentVerdict(digest, (alone,), "fail_marker", when)
    for group in rules.fail_together:
        hits = [find_marker(files, marker) for marker in group]
        if all(hit is not None for hit in hits):
            found = tuple(hit for hit in hits if hit is not None)
            return TreeContentVerdict(digest, found, "fail_together", when)
    return TreeContentVerdict(digest, (), None, when)


def job_when(rules: CiRules, files: Mapping[str, bytes]) -> JobWhen:
    """``manual`` or ``delayed`` when the tree holds that marker, else ``on_success``."""
    if rules.manual_marker is not None and find_marker(files, rules.manual_marker) is not None:
        return "manual"
    if rules.delayed_marker is not None and find_marker(files, rules.delayed_marker) is not None:
        return "delayed"
    return "on_success"


def unit_interval(*parts: object) -> float:
    """A deterministic number in [0, 1) from the given parts (stable across runs and machines)."""
    text = "\x1f".join(str(part) for part in parts).encode()
    value = int.from_bytes(hashlib.sha256(text).digest()[:8], "big")
    return value / 2**64


def is_flaky(seed: int, digest: str, attempt: int, flake_rate: float) -> bool:
    """Whether this attempt on this tree hits a flake."""
    return flake_rate > 0 and unit_interval("flake", seed, digest, attempt) < flake_rate


def decide(rules: CiRules, seed: int, content: TreeContentVerdict, attempt: int) -> TreeVerdict:
    """The verdict of one attempt: content failures first, then a seeded flake."""
    if content.failure_kind == "fail_marker":
        hit = content.failures[0]
        return TreeVerdict(False, f'Found "{hit.marker}" in {hit.path} (line {hit.line}).')
    if content.failure_kind == "fail_together":
        places = ", ".join(f'"{h.marker}" in {h.path} (line {h.line})' for h in content.failures)
        return TreeVerdict(False, f"These changes break CI together (semantic conflict): {places}.")
    if is_flaky(seed, content.tree_digest, attempt, rules.flake_rate):
        return TreeVerdict(False, "Flaky failure: the test failed for no reason in the tree.", True)
    return TreeVerdict(True, "")


def pipeline_duration(rules: CiRules, seed: int, pipeline_id: int, attempt: int = 1) -> float:
    """Simulated running time of a pipeline attempt, uniform in ``rules.duration_seconds``."""
    low, high = rules.duration_seconds
    return low + (high - low) * unit_interval("duration", seed, pipeline_id, attempt)
