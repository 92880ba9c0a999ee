"""What the harness reads from (and the one thing it does to) the sandbox during a run.

Reads use the root user's token, so they never count as the bot's calls. Assignments use the
developer's token, as a person handing an MR to the bot would.
"""

from __future__ import annotations

import base64
import subprocess
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from bench.metrics import PipelineRecord
from bench.sandbox import SandboxProcess
from bench.worlds import BOT, DEVELOPER_TOKEN, PROJECT, ROOT, ROOT_TOKEN, TARGET, World, mr_file

PROJECT_REF = quote(PROJECT, safe="")


def seconds_after(t0: datetime, moment: str | None) -> float | None:
    """Simulated seconds from t0 to a GitLab timestamp."""
    if moment is None:
        return None
    return (datetime.fromisoformat(moment.replace("Z", "+00:00")) - t0).total_seconds()


def bot_user_id(sandbox: SandboxProcess) -> int:
    answer = sandbox.api("GET", f"/users?username={BOT}", ROOT_TOKEN)
    answer.raise_for_status()
    found: int = answer.json()[0]["id"]
    return found


def assign_to_bot(sandbox: SandboxProcess, iid: int, bot_id: int) -> None:
    """The developer assigns the MR to the bot."""
    answer = sandbox.api(
        "PUT",
        f"/projects/{PROJECT_REF}/merge_requests/{iid}",
        DEVELOPER_TOKEN,
        {"assignee_ids": [bot_id]},
    )
    answer.raise_for_status()


def merge_requests(sandbox: SandboxProcess) -> dict[int, dict[str, Any]]:
    """Every MR of the project targeting the main branch, by iid (batch MRs included)."""
    found: dict[int, dict[str, Any]] = {}
    page = 1
    while True:
        answer = sandbox.api(
            "GET",
            f"/projects/{PROJECT_REF}/merge_requests?state=all&per_page=100&page={page}",
            ROOT_TOKEN,
        )
        answer.raise_for_status()
        batch = answer.json()
        found.update({mr["iid"]: mr for mr in batch})
        if len(batch) < 100:
            return found
        page += 1


def with_bot(mr: Mapping[str, Any]) -> bool:
    """The bot is an assignee or a reviewer of the MR."""
    people = [*(mr.get("assignees") or []), *(mr.get("reviewers") or [])]
    return any(person["username"] == BOT for person in people)


def bot_calls(sandbox: SandboxProcess) -> dict[str, int]:
    """Calls per endpoint made with the bot's token so far."""
    calls = sandbox.admin("GET", "stats")["calls"]["by_token_endpoint"]
    for label, endpoints in calls.items():
        if label.endswith(f"({BOT})"):
            return dict(endpoints)
    return {}


def pipeline_records(
    raw: Iterable[Mapping[str, Any]], t0: datetime, after_id: int
) -> tuple[PipelineRecord, ...]:
    """Pipelines created after the baseline, with simulated times relative to t0."""
    records = []
    for pipeline in raw:
        if pipeline["id"] <= after_id:
            continue
        created = seconds_after(t0, pipeline["created_at"])
        records.append(
            PipelineRecord(
                id=pipeline["id"],
                status=pipeline["status"],
                created_s=created if created is not None else 0.0,
                started_s=seconds_after(t0, pipeline.get("started_at")),
                finished_s=seconds_after(t0, pipeline.get("finished_at")),
                ref=pipeline["ref"],
            )
        )
    return tuple(records)


def commits_adding(sandbox: SandboxProcess, world: World, folder: Path) -> dict[int, int]:
    """For each MR, how many commits reachable from the target add its file (a bare clone)."""
    clone = folder / "target.git"
    basic = base64.b64encode(f"{ROOT}:{ROOT_TOKEN}".encode()).decode()
    auth = ["-c", f"http.extraHeader=Authorization: Basic {basic}"]
    subprocess.run(
        ["git", *auth, "clone", "--quiet", "--bare", "--single-branch", "--branch", TARGET,
         f"{sandbox.url}/{PROJECT}.git", str(clone)],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    log = subprocess.run(
        ["git", "-C", str(clone), "log", "--format=", "--name-only", "--diff-filter=A",
         "--no-renames", TARGET],
        check=True, capture_output=True, text=True, timeout=120,
    ).stdout  # fmt: skip
    added = Counter(line.strip() for line in log.splitlines() if line.strip())
    return {iid: added.get(mr_file(iid), 0) for iid in world.iids}
