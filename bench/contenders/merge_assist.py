"""Merge Assist as a user runs it: ``merge-assist serve`` with the project onboarded."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import httpx

from bench.contenders.base import ContenderSetup, scaled_wait
from bench.processes import ChildProcess, clean_environment, free_port

WAKE_SETTLE_SECONDS = 0.5  # the product's default MERGE_ASSIST_WAKE_SETTLE_SECONDS
DEFAULT_POLLING_SECONDS = 300  # the product's default, in (simulated) seconds
MIN_POLLING_SECONDS = 10  # the smallest interval the product accepts
# Leases in a chaos run (real seconds): a killed worker's projects are taken over this fast.
CHAOS_LEASE_SECONDS = 6
CHAOS_LEASE_RENEW_SECONDS = 2


def _command(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


class MergeAssist:
    """The product with strategy ``single``, ``batch`` or ``train``; webhooks on, one rejection
    ends."""

    def __init__(
        self,
        strategy: str,
        batch_size: int | None = None,
        train_depth: int | None = None,
        *,
        skip_ci_on_landing: bool = False,
        name: str | None = None,
    ) -> None:
        self.strategy = strategy
        self.batch_size = batch_size
        self.train_depth = train_depth
        self.skip_ci_on_landing = skip_ci_on_landing
        self.name = name or f"ma-{strategy}"
        self.process: ChildProcess | None = None
        self.env: dict[str, str] = {}
        self.port = 0

    def config(self, clock_speed: float) -> dict[str, object]:
        """The project configuration the run onboards with."""
        polling = scaled_wait(DEFAULT_POLLING_SECONDS, clock_speed, MIN_POLLING_SECONDS)
        config: dict[str, object] = {
            "strategy": self.strategy,
            "polling_interval_seconds": int(polling),
            "max_rejections": 1,
            "webhook_enabled": True,
        }
        if self.batch_size is not None:
            config["batch_size"] = self.batch_size
        if self.train_depth is not None:
            config["train_depth"] = self.train_depth
        if self.skip_ci_on_landing:
            config["skip_ci_on_landing"] = True
        return config

    def start(self, setup: ContenderSetup) -> None:
        port, speed = free_port(), setup.clock_speed
        env = clean_environment(
            {
                "MERGE_ASSIST_DATA_DIR": str(setup.folder / "product"),
                "MERGE_ASSIST_GITLAB_URL": setup.gitlab_url,
                "MERGE_ASSIST_SECRET_GITLAB_BOT_TOKEN": setup.bot_token,
                "MERGE_ASSIST_PUBLIC_URL": f"http://127.0.0.1:{port}",
                "MERGE_ASSIST_HOST": "127.0.0.1",
                "MERGE_ASSIST_PORT": str(port),
                # The worker's burst settle time (0.5 s) scaled to the simulated clock too.
                "MERGE_ASSIST_WAKE_SETTLE_SECONDS": f"{WAKE_SETTLE_SECONDS / speed:.3f}",
            }
        )
        self.env, self.port = env, port
        if setup.killed_during_run:
            env.update(
                {
                    "MERGE_ASSIST_LEASE_SECONDS": str(CHAOS_LEASE_SECONDS),
                    "MERGE_ASSIST_LEASE_RENEW_SECONDS": str(CHAOS_LEASE_RENEW_SECONDS),
                }
            )
        log = setup.folder / "product.log"
        with log.open("ab") as output:
            for step in (
                [_command("merge-assist"), "db", "upgrade"],
                [_command("merge-assist"), "projects", "add", setup.project,
                 *_as_set_options(self.config(setup.clock_speed))],
            ):  # fmt: skip
                subprocess.run(step, check=True, env=env, stdout=output, stderr=output, timeout=120)
        self.process = ChildProcess("merge-assist", [_command("merge-assist"), "serve"], log, env)
        _wait_healthy(self.process, f"http://127.0.0.1:{port}/api/health")

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()

    def kill_and_restart(self) -> None:
        """Chaos: SIGKILL every process of the product, then start it again on the same data."""
        assert self.process is not None, "start() first"
        self.process.kill()
        command = [_command("merge-assist"), "serve"]
        self.process = ChildProcess("merge-assist", command, self.process.log, self.env)
        _wait_healthy(self.process, f"http://127.0.0.1:{self.port}/api/health")


def _as_set_options(config: dict[str, object]) -> list[str]:
    """``--set KEY=VALUE`` options of ``merge-assist projects add`` (values as JSON)."""
    return [
        part for key, value in config.items() for part in ("--set", f"{key}={json.dumps(value)}")
    ]


def _wait_healthy(process: ChildProcess, url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not process.running:
            raise RuntimeError(f"merge-assist stopped; see {process.log}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise RuntimeError("merge-assist did not answer within 60 seconds")
