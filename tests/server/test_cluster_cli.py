"""``python -m merge_assist.server.cluster status`` and the processes' environment."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from merge_assist.server.cluster.cli import app
from merge_assist.server.cluster.launch import Cluster, ClusterSpec, Timings


def test_status_says_when_no_cluster_runs(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["status", "--state", str(tmp_path)])
    assert result.exit_code == 1
    assert f"No cluster runs from {tmp_path}." in result.output


def test_status_lists_the_processes_of_a_running_cluster(tmp_path: Path) -> None:
    facts = {
        "supervisor_pid": os.getpid(),  # this test's process: running
        "url": "http://127.0.0.1:1000",
        "sandbox_url": "http://127.0.0.1:1001",
        "admin": "cluster-admin",
        "admin_password_file": str(tmp_path / "admin-password"),
        "project": "demo/widgets",
        "processes": {"api-1": os.getpid(), "worker-1": 2**22 + 1},  # the second is no pid
        "ports": {"api-1": 1002},
    }
    (tmp_path / "cluster.json").write_text(json.dumps(facts), encoding="utf-8")
    result = CliRunner().invoke(app, ["status", "--state", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:1000 (nginx)" in result.output
    assert "running on 127.0.0.1:1002" in result.output
    assert "gone" in result.output.split("worker-1")[1]


def test_processes_get_the_cluster_settings_and_none_of_the_callers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MERGE_ASSIST_RUN_BACKGROUND", "true")  # would add a worker to each API
    spec = ClusterSpec(
        state=tmp_path,
        database_url="postgresql+asyncpg://db/x",
        redis_url="redis://r/0",
        scenario={},
        bot_token="glpat-test",
        timings=Timings(heartbeat_seconds=1, lease_seconds=4, lease_renew_seconds=1),
    )
    cluster = Cluster(spec, ports={"nginx": 18080, "sandbox": 18081})
    env = cluster.env()
    assert "MERGE_ASSIST_RUN_BACKGROUND" not in env
    assert env["MERGE_ASSIST_PUBLIC_URL"] == "http://127.0.0.1:18080"  # webhooks via nginx
    assert env["MERGE_ASSIST_GITLAB_URL"] == "http://127.0.0.1:18081"
    assert env["MERGE_ASSIST_LEASE_SECONDS"] == "4"
    assert env["MERGE_ASSIST_HEARTBEAT_SECONDS"] == "1"
    assert len(env["MERGE_ASSIST_SECRET_KEY"]) >= 32
