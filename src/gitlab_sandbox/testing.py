"""Run a sandbox in-process for tests: ``with run_sandbox(scenario) as sandbox: ...``.

The server runs uvicorn in a background thread on a free 127.0.0.1 port with a temporary data
folder; the yielded ``RunningSandbox`` knows the URLs, the admin token and every seeded user's
token, and wraps the ``/-/sandbox/`` admin endpoints.
"""

from __future__ import annotations

import asyncio
import base64
import secrets
import socket
import tempfile
import threading
import time
from collections.abc import Coroutine, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import uvicorn

from gitlab_sandbox.app import create_app
from gitlab_sandbox.runtime import build_sandbox
from gitlab_sandbox.sandbox import Sandbox, SandboxConfig
from gitlab_sandbox.scenario import apply_scenario, ci_rules, load_scenario
from gitlab_sandbox.store import hash_token

T = TypeVar("T")
FINISHED = frozenset({"success", "failed", "canceled", "skipped", "manual"})


class SandboxTimeout(AssertionError):
    """Waiting for the sandbox took longer than allowed."""


@dataclass
class RunningSandbox:
    """A sandbox served on ``url``; helpers for tokens, git and the admin endpoints."""

    url: str
    admin_token: str
    sandbox: Sandbox
    data_dir: Path
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/v4"

    def token_for(self, username: str) -> str:
        """The raw token the scenario created for ``username`` (its first one)."""
        try:
            return self.tokens[username]
        except KeyError:
            raise KeyError(f"The scenario created no token for {username!r}.") from None

    def git_auth_args(self, username: str) -> list[str]:
        """``git -c`` arguments that authenticate as ``username`` without a token in the URL."""
        basic = base64.b64encode(f"oauth2:{self.token_for(username)}".encode()).decode()
        return ["-c", f"http.extraHeader=Authorization: Basic {basic}"]

    def clone_url(self, project_path: str) -> str:
        return f"{self.url}/{project_path}.git"

    # admin endpoints --------------------------------------------------------------------
    def admin(self, method: str, path: str, json: Any = None) -> Any:
        """Call ``/-/sandbox/<path>`` with the admin token; the decoded JSON answer."""
        response = httpx.request(
            method,
            f"{self.url}/-/sandbox/{path.lstrip('/')}",
            json=json,
            headers={"Authorization": f"Bearer {self.admin_token}"},
            timeout=30,
        )
        response.raise_for_status()
        return response.json()

    def seed(self, scenario: Mapping[str, Any]) -> dict[str, Any]:
        """Apply another scenario; its tokens join ``tokens``."""
        result = self.run(apply_scenario(self.sandbox, load_scenario(scenario)))
        for username, token in result.tokens.items():
            self.tokens.setdefault(username, token)
        return result.as_dict()

    def faults(self, **settings: Any) -> dict[str, Any]:
        answer: dict[str, Any] = (
            self.admin("PUT", "faults", settings) if settings else self.admin("GET", "faults")
        )
        return answer

    def stats(self) -> dict[str, Any]:
        answer: dict[str, Any] = self.admin("GET", "stats")
        return answer

    def green_main(self) -> Any:
        return self.admin("GET", "green-main")

    def advance_clock(self, seconds: float) -> dict[str, Any]:
        answer: dict[str, Any] = self.admin("POST", "clock", {"advance": seconds})
        return answer

    def set_clock_speed(self, speed: float) -> dict[str, Any]:
        answer: dict[str, Any] = self.admin("POST", "clock", {"speed": speed})
        return answer

    def pipelines(self) -> list[dict[str, Any]]:
        answer: list[dict[str, Any]] = self.admin("GET", "pipelines")
        return answer

    def wait_for_pipelines(self, timeout: float = 30.0) -> list[dict[str, Any]]:
        """Wait (real seconds) until every pipeline has finished; the pipelines."""
        finished: list[dict[str, Any]] = self.wait_until(
            lambda: (ps := self.pipelines()) and all(p["status"] in FINISHED for p in ps) and ps,
            timeout=timeout,
            what="all pipelines to finish",
        )
        return finished

    def wait_idle(self, timeout: float = 30.0) -> None:
        """Wait until background work (rebases, auto-merges, webhooks) is done."""
        self.run(self.sandbox.idle(timeout))
        self.run(asyncio.wait_for(self.sandbox.webhooks.drain(), timeout))

    def catch_up(self, seconds: float = 2.0) -> None:
        """Let GitLab's asynchronous reactions land (a push's PostReceive, the MR refresh):
        move the clock ``seconds`` past them and wait until background work is done. For
        tests whose clock stands still (speed 0) and that read GitLab's final state."""
        self.advance_clock(seconds)
        self.wait_idle()

    def wait_until(self, probe: Any, *, timeout: float = 30.0, what: str = "the condition") -> Any:
        """Poll ``probe()`` until it returns something truthy (real seconds)."""
        deadline = time.monotonic() + timeout
        while True:
            value = probe()
            if value:
                return value
            if time.monotonic() > deadline:
                raise SandboxTimeout(f"Timed out after {timeout}s waiting for {what}.")
            time.sleep(0.05)

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine on the server's event loop (where the sandbox's state lives)."""
        assert self.sandbox.loop is not None
        return asyncio.run_coroutine_threadsafe(coroutine, self.sandbox.loop).result(timeout=60)


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextmanager
def run_sandbox(
    scenario: Mapping[str, Any] | str | Path | None = None,
    *,
    seed: int | None = None,
    clock_speed: float | None = None,
    data_dir: Path | None = None,
    admin_token: str | None = None,
) -> Iterator[RunningSandbox]:
    """Serve a sandbox seeded with ``scenario`` until the block ends."""
    data = load_scenario(scenario) if scenario is not None else {}
    with tempfile.TemporaryDirectory(prefix="gitlab-sandbox-") as temporary:
        folder = data_dir or Path(temporary)
        sock = _free_socket()
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        admin = admin_token or secrets.token_urlsafe(24)
        config = SandboxConfig(
            data_dir=folder,
            external_url=url,
            seed=int(seed if seed is not None else data.get("seed", 0)),
            clock_speed=float(
                clock_speed if clock_speed is not None else data.get("clock_speed", 1.0)
            ),
            admin_token_sha256=hash_token(admin),
            ci_rules=ci_rules(data),
            mergeability_check_seconds=float(data.get("mergeability_check_seconds", 0.0)),
            rebase_seconds=float(data.get("rebase_seconds", 0.0)),
            asynchronous=bool(data.get("asynchronous", True)),
        )
        sandbox = build_sandbox(config)
        app = create_app(sandbox)
        server = uvicorn.Server(
            uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on", ws="none")
        )
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        try:
            deadline = time.monotonic() + 30
            while not server.started:
                if not thread.is_alive() or time.monotonic() > deadline:
                    raise RuntimeError("The sandbox server did not start.")
                time.sleep(0.02)
            running = RunningSandbox(url, admin, sandbox, folder)
            # Seed on the server's loop so a bad scenario raises its ScenarioError here.
            running.tokens.update(running.run(apply_scenario(sandbox, data)).tokens)
            yield running
        finally:
            server.should_exit = True
            thread.join(timeout=30)
            sock.close()
