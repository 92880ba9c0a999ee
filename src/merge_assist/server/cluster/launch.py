"""Start and stop the cluster's processes: the sandbox, migrations, the roles and nginx.

One ``Cluster`` owns its processes (children of the caller, each in its own session, each
ended with SIGTERM when the caller dies: ``PR_SET_PDEATHSIG``), their logs in
``<state>/logs/`` and nginx's files in ``<state>/nginx/``. ``start()`` returns once every
process answers and the health API lists them all alive; ``stop()`` ends them gracefully.
"""

from __future__ import annotations

import ctypes
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from merge_assist.server.cluster import nginx
from merge_assist.server.demo import free_port, sandbox_command

START_SECONDS = 60.0  # upper bound for the whole start on a busy machine
STOP_SECONDS = 15.0
ADMIN = "cluster-admin"


class ClusterError(RuntimeError):
    """The cluster could not start (the sentence says which process and where its log is)."""


@dataclass(frozen=True)
class Timings:
    """Settings that decide how fast the cluster notices a death (``docs/operations.md``)."""

    heartbeat_seconds: int = 10
    lease_seconds: int = 30
    lease_renew_seconds: int = 10
    wake_settle_seconds: float = 0.5


@dataclass(frozen=True)
class ClusterSpec:
    """What to run: the services' URLs, the sandbox's world and how many of each role."""

    state: Path
    database_url: str
    redis_url: str
    scenario: dict[str, Any]  # the sandbox's scenario; its bot user has the token below
    bot_token: str
    timings: Timings = Timings()
    apis: int = 2
    workers: int = 2
    quick_passwords: bool = False  # the test profile of password hashing (tests only)


@dataclass
class Cluster:
    """The running cluster; use as a context manager, or ``start()`` and ``stop()``."""

    spec: ClusterSpec
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)
    sandbox_admin_token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    admin_password: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    start_seconds: float = 0.0  # how long ``start()`` took

    @property
    def url(self) -> str:
        """The product's address: nginx."""
        return f"http://127.0.0.1:{self.ports['nginx']}"

    @property
    def sandbox_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['sandbox']}"

    def __enter__(self) -> Cluster:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # starting --------------------------------------------------------------------------

    def start(self) -> None:
        """Sandbox, migrations, an administrator, the roles, nginx; wait until all are up."""
        began = time.monotonic()
        binary = nginx.nginx_binary()
        if binary is None:
            raise ClusterError(nginx.MISSING)
        for folder in ("logs", "data", "gitlab"):
            (self.spec.state / folder).mkdir(parents=True, exist_ok=True)
        names = ["sandbox", "nginx", "listener"] + [f"api-{n}" for n in self._numbers("apis")]
        self.ports = {name: free_port() for name in names}
        try:
            self._start_sandbox()  # starts while the database is migrated
            # Migrations first: ``users create`` migrates the database, then adds the admin.
            self.run_cli(
                ["users", "create", ADMIN, "--role", "admin", "--password-stdin"],
                stdin=self.admin_password,
            )
            self._start_roles()
            self._start_nginx(binary)
            self._wait_for(
                "sandbox",
                f"{self.sandbox_url}/api/v4/user",
                headers={"PRIVATE-TOKEN": self.spec.bot_token},
            )
            self.wait_until_healthy()
            self.start_seconds = time.monotonic() - began
        except BaseException:
            self.stop()
            raise

    def _numbers(self, role: str) -> range:
        return range(1, getattr(self.spec, role) + 1)

    def _start_sandbox(self) -> None:
        scenario = self.spec.state / "scenario.json"
        scenario.write_text(json.dumps(self.spec.scenario), encoding="utf-8")
        command = [
            *sandbox_command(),
            "serve",
            *("--port", str(self.ports["sandbox"]), "--data-dir", str(self.spec.state / "gitlab")),
            *("--scenario", str(scenario)),
        ]
        env = {**os.environ, "GITLAB_SANDBOX_ADMIN_TOKEN": self.sandbox_admin_token}
        self._spawn("sandbox", command, env)

    def _start_roles(self) -> None:
        for n in self._numbers("apis"):
            port = str(self.ports[f"api-{n}"])
            self._spawn(f"api-{n}", _product(["api", "--port", port]), self.env())
        listener = ["listener", "--port", str(self.ports["listener"])]
        self._spawn("listener", _product(listener), self.env())
        for n in self._numbers("workers"):
            self._spawn(f"worker-{n}", _product(["worker"]), self.env())
        self._spawn("watcher", _product(["watcher"]), self.env())

    def _start_nginx(self, binary: str) -> None:
        layout = nginx.ProxyLayout(
            folder=self.spec.state / "nginx",
            port=self.ports["nginx"],
            api_ports=tuple(self.ports[f"api-{n}"] for n in self._numbers("apis")),
            listener_port=self.ports["listener"],
            as_root=os.geteuid() == 0,
        )
        nginx.prepare(layout)
        self._spawn("nginx", nginx.nginx_command(binary, layout), dict(os.environ))

    def env(self) -> dict[str, str]:
        """The environment of every product process (and of ``run_cli``)."""
        timings = self.spec.timings
        kept = {k: v for k, v in os.environ.items() if not k.startswith("MERGE_ASSIST_")}
        values: dict[str, object] = {
            "ENVIRONMENT": "test" if self.spec.quick_passwords else "development",
            "PASSWORD_HASH_PROFILE": "test" if self.spec.quick_passwords else "recommended",
            "DATABASE_URL": self.spec.database_url,
            "REDIS_URL": self.spec.redis_url,
            "DATA_DIR": self.spec.state / "data",
            "SECRET_KEY": self.secret_key,
            "SECRET_GITLAB_BOT_TOKEN": self.spec.bot_token,
            "GITLAB_URL": self.sandbox_url,
            "PUBLIC_URL": f"http://127.0.0.1:{self.ports['nginx']}",
            "TRUSTED_PROXIES": "127.0.0.1",  # nginx names the client in X-Forwarded-For
            "LOG_LEVEL": "INFO",
            "HEARTBEAT_SECONDS": timings.heartbeat_seconds,
            "LEASE_SECONDS": timings.lease_seconds,
            "LEASE_RENEW_SECONDS": timings.lease_renew_seconds,
            "WAKE_SETTLE_SECONDS": timings.wake_settle_seconds,
        }
        return kept | {f"MERGE_ASSIST_{key}": str(value) for key, value in values.items()}

    def run_cli(self, args: list[str], stdin: str | None = None) -> str:
        """Run ``merge-assist ARGS`` against the cluster; its output (ClusterError if it fails)."""
        done = subprocess.run(
            _product(args),
            input=None if stdin is None else stdin + "\n",
            capture_output=True,
            text=True,
            env=self.env(),
            cwd=self.spec.state,  # never the checkout's .env
            timeout=START_SECONDS,
            check=False,
        )
        if done.returncode != 0:
            raise ClusterError(f"merge-assist {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout

    def _spawn(self, name: str, command: list[str], env: dict[str, str]) -> None:
        log = (self.spec.state / "logs" / f"{name}.log").open("ab")
        with log:
            self.processes[name] = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=self.spec.state,
                start_new_session=True,  # a Ctrl+C in the caller's terminal is the caller's
                preexec_fn=_end_with_parent,  # only a prctl: safe after fork
            )

    # waiting ---------------------------------------------------------------------------

    def _check_running(self, name: str) -> None:
        process = self.processes[name]
        if process.poll() is not None:
            log = self.spec.state / "logs" / f"{name}.log"
            tail = log.read_text(encoding="utf-8", errors="replace")[-2000:]
            raise ClusterError(f"{name} ended with {process.returncode}; {log}:\n{tail}")

    def _wait_for(self, name: str, url: str, headers: dict[str, str] | None = None) -> None:
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            self._check_running(name)
            try:
                if httpx.get(url, headers=headers, timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise ClusterError(f"{name} did not answer {url} within {START_SECONDS:g} s")

    def wait_until_healthy(self) -> None:
        """Every process answers or beats: the health API lists each of them alive."""
        for name in ("listener", *(f"api-{n}" for n in self._numbers("apis"))):
            self._wait_for(name, f"http://127.0.0.1:{self.ports[name]}/api/health")
        self._wait_for("nginx", f"{self.url}/api/health")
        wanted = {name: process.pid for name, process in self.processes.items()}
        del wanted["sandbox"], wanted["nginx"]
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            for name in wanted:
                self._check_running(name)
            alive = {p["pid"] for p in self.health()["workers"] if p["alive"]}
            if set(wanted.values()) <= alive:
                return
            time.sleep(0.3)
        raise ClusterError("not every process recorded a heartbeat in time")

    # using -----------------------------------------------------------------------------

    def admin_headers(self) -> dict[str, str]:
        """A fresh access token of the cluster's administrator, signed in through nginx."""
        answer = httpx.post(
            f"{self.url}/api/auth/login",
            json={"username": ADMIN, "password": self.admin_password},
            timeout=10,
        )
        answer.raise_for_status()
        return {"Authorization": f"Bearer {answer.json()['access_token']}"}

    def health(self) -> dict[str, Any]:
        """``GET /api/health/status`` through nginx, as the administrator."""
        answer = httpx.get(
            f"{self.url}/api/health/status", headers=self.admin_headers(), timeout=10
        )
        answer.raise_for_status()
        status: dict[str, Any] = answer.json()
        return status

    def kill(self, name: str, signum: int = signal.SIGKILL) -> int:
        """Send ``signum`` to one process (SIGKILL: it dies without a word); its pid."""
        process = self.processes[name]
        process.send_signal(signum)
        process.wait(timeout=STOP_SECONDS)
        return process.pid

    def status(self) -> dict[str, str]:
        """Each process: ``running (pid N)`` or how it ended."""
        return {
            name: "running" if p.poll() is None else f"ended ({p.returncode})"
            for name, p in self.processes.items()
        }

    # stopping --------------------------------------------------------------------------

    def stop(self) -> None:
        """nginx and the product's processes first (SIGTERM, then SIGKILL), the sandbox last."""
        order = [n for n in self.processes if n != "sandbox"] + ["sandbox"]
        for group in ([n for n in order if n != "sandbox"], ["sandbox"]):
            running = [self.processes[n] for n in group if n in self.processes]
            for process in running:
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + STOP_SECONDS
            for process in running:
                try:
                    process.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=STOP_SECONDS)


def _product(args: list[str]) -> list[str]:
    return [sys.executable, "-m", "merge_assist", *args]


PR_SET_PDEATHSIG = 1
_LIBC = ctypes.CDLL(None, use_errno=True)  # loaded before any fork: the child only calls it


def _end_with_parent() -> None:
    """In the child, before exec: SIGTERM when the thread that started it ends (Linux), i.e.
    when the caller dies. Start clusters from a thread that lives as long as they do."""
    _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
