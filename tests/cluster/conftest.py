"""The cluster on this machine (``server.cluster``) for tests: fast CI, short leases.

Needs PostgreSQL (``--db postgres``: the ``postgres`` marker keeps these tests out of the
SQLite pass), a private redis-server and nginx. A missing nginx fails under ``CI`` with the
sentence saying how to install it; on a developer machine it skips.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from merge_assist.server.cluster.launch import Cluster, ClusterSpec, Timings
from merge_assist.server.cluster.nginx import MISSING, nginx_binary

BOT = "merge-bot"
PROJECT = "acme/cluster"
TARGET = "main"
FAIL_MARKER = "sandbox-ci: fail"
MR_COUNT = 8
BROKEN = frozenset({3, 6})
GOOD = frozenset(range(1, MR_COUNT + 1)) - BROKEN
TIMINGS = Timings(
    heartbeat_seconds=1, lease_seconds=4, lease_renew_seconds=1, wake_settle_seconds=0.2
)


def cluster_world(bot_token: str) -> dict[str, Any]:
    """``MR_COUNT`` MRs assigned to the bot, the ``BROKEN`` ones failing CI; CI takes about half
    a second (30 to 60 simulated seconds at 60 per second), so the whole set lands in seconds."""
    mrs = []
    for n in range(1, MR_COUNT + 1):
        files = {f"src/mr{n}.txt": f"change {n}\n"}
        if n in BROKEN:
            files[f"src/broken{n}.txt"] = f"{FAIL_MARKER}\n"
        mrs.append(
            {
                "source_branch": f"topic-{n}",
                "title": f"Change {n}",
                "author": "alice",
                "assignees": [BOT],
                "files": files,
            }
        )
    return {
        "seed": 11,
        "clock_speed": 60,
        "ci": {
            "duration_seconds": [30, 60],
            "runner_capacity": 20,
            "flake_rate": 0.0,
            "fail_marker": FAIL_MARKER,
        },
        "users": [
            {"username": "root", "admin": True},
            {
                "username": BOT,
                "name": "Merge Bot",
                "bot": True,
                "tokens": [{"name": "bot", "value": bot_token, "scopes": ["api"]}],
            },
            {"username": "alice", "name": "Alice"},
        ],
        "projects": [
            {
                "path": PROJECT,
                "owner": "root",
                "members": {BOT: "maintainer", "alice": "developer"},
                "settings": {
                    "merge_method": "merge",
                    "only_allow_merge_if_pipeline_succeeds": True,
                },
                "protected_branches": [{"name": TARGET, "push_access_level": "maintainer"}],
                "files": {"README.md": "# cluster\n"},
                "merge_requests": mrs,
            }
        ],
    }


def require_nginx() -> None:
    """Fail under CI, skip elsewhere, when nginx is missing (never a silent pass)."""
    if nginx_binary() is None:
        if os.environ.get("CI"):
            pytest.fail(MISSING)
        pytest.skip(MISSING)


@pytest.fixture
def cluster(database_url: str, redis_url: str, tmp_path: Path) -> Iterator[Cluster]:
    """The cluster running on a fresh PostgreSQL database and a private Redis."""
    require_nginx()
    bot_token = f"glpat-{secrets.token_urlsafe(20)}"
    spec = ClusterSpec(
        state=tmp_path / "cluster",
        database_url=database_url,
        redis_url=redis_url,
        scenario=cluster_world(bot_token),
        bot_token=bot_token,
        timings=TIMINGS,
        quick_passwords=True,
    )
    with Cluster(spec) as running:
        yield running
