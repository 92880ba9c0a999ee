"""One fresh ``gitlab-sandbox serve`` process per run, and its admin endpoints over HTTP."""

from __future__ import annotations

import json
import secrets
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from bench.processes import ChildProcess, clean_environment, free_port
from bench.worlds import ROOT_TOKEN, World

SETUP_CLOCK_SPEED = 1000.0  # simulated seconds per second while the branch pipelines run
FINISHED = ("success", "failed", "canceled", "skipped")


def _sandbox_command() -> list[str]:
    script = Path(sys.executable).with_name("gitlab-sandbox")
    return [str(script)] if script.exists() else [sys.executable, "-m", "gitlab_sandbox.cli"]


FAULT_STATUSES = frozenset({429, 500, 502, 503, 504})
HARNESS_RETRIES = 20


class SandboxProcess:
    """The sandbox of one run: started with the world's scenario at a fast setup clock."""

    def __init__(self, world: World, folder: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.admin_token = secrets.token_urlsafe(24)
        scenario = folder / "scenario.json"
        scenario.write_text(json.dumps(world.scenario, indent=1), encoding="utf-8")
        command = [
            *_sandbox_command(),
            "serve",
            "--port", str(self.port),
            "--scenario", str(scenario),
            "--clock-speed", str(SETUP_CLOCK_SPEED),
            "--seed", str(world.parameters.seed),
            "--data-dir", str(folder / "gitlab"),
        ]  # fmt: skip
        env = clean_environment({"GITLAB_SANDBOX_ADMIN_TOKEN": self.admin_token})
        self.process = ChildProcess("sandbox", command, folder / "sandbox.log", env)
        self.http = httpx.Client(base_url=self.url, timeout=30)

    def wait_until_answering(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.process.running:
                raise RuntimeError(f"the sandbox stopped; see {self.process.log}")
            try:
                if self.api("GET", "/user", ROOT_TOKEN).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise RuntimeError("the sandbox did not answer within 60 seconds")

    def admin(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        answer = self.http.request(
            method,
            f"/-/sandbox/{path}",
            json=body,
            headers={"Authorization": f"Bearer {self.admin_token}"},
        )
        answer.raise_for_status()
        return answer.json()

    def api(
        self, method: str, path: str, token: str, body: dict[str, Any] | None = None
    ) -> httpx.Response:
        """A GitLab API call of the harness; the faults of a chaos world are retried."""
        for _ in range(HARNESS_RETRIES):
            answer = self.http.request(
                method, f"/api/v4{path}", json=body, headers={"PRIVATE-TOKEN": token}
            )
            if answer.status_code not in FAULT_STATUSES:
                return answer
            time.sleep(0.1)
        return answer

    def inject_faults(self, rate: float) -> None:
        """``rate`` of the API requests (not the admin ones) answer 500/502/503 or 429."""
        rule = {"path": "^/api/v4/", "error_rate": rate, "statuses": [429, 500, 502, 503]}
        self.admin("PUT", "faults", {"rules": [rule]})

    def fault_counters(self) -> dict[str, Any]:
        """What the fault rules did so far."""
        rules: list[dict[str, Any]] = self.admin("GET", "faults").get("rules", [])
        return rules[0]["counters"] if rules else {}

    def now(self) -> datetime:
        """The sandbox's simulated time."""
        return datetime.fromisoformat(self.admin("GET", "clock")["now"])

    def set_speed(self, speed: float) -> None:
        self.admin("POST", "clock", {"speed": speed})

    def wait_for_setup_pipelines(self, timeout: float = 120, retries: int = 10) -> None:
        """Until every pipeline the scenario started has finished, and passed: each MR enters
        the world with its own pipeline green (a flaky world can fail one; it is retried, as
        its author would)."""
        deadline = time.monotonic() + timeout
        for _ in range(retries + 1):
            pipelines = self._finished_pipelines(deadline)
            failed = [p for p in pipelines if p["status"] != "success"]
            if not failed:
                return
            for pipeline in failed:
                project = pipeline["project_id"]
                self.api(
                    "POST", f"/projects/{project}/pipelines/{pipeline['id']}/retry", ROOT_TOKEN
                )
            time.sleep(0.3)
        raise RuntimeError(f"setup pipelines still fail after {retries} retries: {failed}")

    def _finished_pipelines(self, deadline: float) -> list[dict[str, Any]]:
        """The newest pipeline of each ref, once all pipelines have finished."""
        while time.monotonic() < deadline:
            pipelines = self.admin("GET", "pipelines")
            if pipelines and all(p["status"] in FINISHED for p in pipelines):
                newest: dict[tuple[Any, str], dict[str, Any]] = {}
                for pipeline in sorted(pipelines, key=lambda p: p["id"]):
                    newest[(pipeline["project_id"], pipeline["ref"])] = pipeline
                return list(newest.values())
            time.sleep(0.3)
        raise RuntimeError("the setup pipelines did not finish")

    def stop(self) -> None:
        self.http.close()
        self.process.stop()
