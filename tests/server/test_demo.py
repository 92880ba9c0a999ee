"""``merge-assist demo`` started the way a new user starts it, as a process."""

from __future__ import annotations

import os
import pty
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from merge_assist.server.demo import free_port
from merge_assist.server.demo_world import BOT, BREAKS_CI, demo_scenario


def test_demo_world_holds_ten_mrs_two_breaking_and_a_conflicting_pair() -> None:
    world = demo_scenario("token-for-the-test")
    mrs = world["merge_requests"]
    assert len(mrs) == 10
    assert all(mr["assignees"] == [BOT] for mr in mrs)
    breaking = [mr for mr in mrs if any(BREAKS_CI in c for c in mr["files"].values())]
    assert len(breaking) == 2
    readme = [mr for mr in mrs if "README.md" in mr["files"]]
    assert len(readme) == 2
    assert readme[0]["files"]["README.md"] != readme[1]["files"]["README.md"]


def _read_until(process: subprocess.Popen[str], pattern: str, limit: float) -> str:
    assert process.stdout is not None
    seen = ""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        seen += line
        if re.search(pattern, seen):
            return seen
    raise AssertionError(f"demo did not print {pattern!r}; output so far:\n{seen}")


def _wait_for_queue(base: str, token: str, limit: float) -> dict[str, int]:
    """The demo queue's MR counts by state once it has merged six and rejected two."""
    counts: dict[str, int] = {}
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        answer = httpx.get(
            f"{base}/api/projects/1/mrs",
            params={"limit": 100},
            headers={"Authorization": f"Bearer {token}"},
        )
        counts = {}
        for mr in answer.json()["items"]:
            counts[mr["queue_state"]] = counts.get(mr["queue_state"], 0) + 1
        if counts.get("merged", 0) >= 6 and counts.get("rejected", 0) >= 2:
            return counts
        time.sleep(1)
    return counts


def _check_the_vault_as_alice(base: str, output: str) -> None:
    """The CAM vault holds the shop's programs; alice (GitLab token) checks one out and in."""
    token = re.search(r"GitLab token:\s+alice\s+(\S+)", output)
    assert token
    signed_in = httpx.post(f"{base}/api/auth/login-gitlab", json={"token": token.group(1)})
    assert signed_in.status_code == 200, signed_in.text
    alice = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
    # A member of the demo's GitLab group: the demo lets its members in as members.
    assert httpx.get(f"{base}/api/auth/me", headers=alice).json()["roles"] == ["member"]
    files = f"{base}/api/vault/cam-programs/files"
    listing = httpx.get(files, headers=alice, params={"search": "op10-rough"}).json()
    assert listing["vault_total"] == 5
    program = listing["items"][0]
    checked_out = httpx.post(
        f"{files}/{program['id']}/checkout", headers=alice, json={"reason": "Faster feed"}
    )
    assert checked_out.status_code == 200, checked_out.text
    checked_in = httpx.post(
        f"{files}/{program['id']}/checkin",
        headers=alice,
        files={"file": ("op10-rough.nc", b"G21\nG1 X40 F900\nM30\n")},
        data={"base_version": program["current_version"], "message": "Faster feed"},
        timeout=30,
    )
    assert checked_in.status_code == 200, checked_in.text
    assert checked_in.json()["version"]["author_name"] == "Alice Machinist"


def test_demo_serves_dashboard_and_one_time_admin(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "TMPDIR": str(tmp_path), "MERGE_ASSIST_LOG_LEVEL": "INFO"}
    env.pop("MERGE_ASSIST_LOG_FORMAT", None)
    # The log goes to a real pseudo-terminal, as in a person's terminal: readable lines and
    # the running summary, not JSON (``kit.console``).
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "merge_assist", "demo", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=follower,
        text=True,
        env=env,
    )
    os.close(follower)
    terminal = _Terminal(leader)
    try:
        output = _read_until(process, r"Press Ctrl\+C", 180)
        password = re.search(r"Password:\s+(\S+)", output)
        sandbox = re.search(r"GitLab sandbox:\s+(\S+)", output)
        assert password
        assert sandbox
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                if httpx.get(f"{base}/api/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        login = httpx.post(
            f"{base}/api/auth/login", json={"username": "admin", "password": password.group(1)}
        )
        assert login.status_code == 200, login.text
        me = httpx.get(
            f"{base}/api/auth/me",
            headers={"Authorization": f"Bearer {login.json()['access_token']}"},
        )
        assert me.json()["roles"] == ["admin"]
        projects = httpx.get(
            f"{base}/api/projects",
            headers={"Authorization": f"Bearer {login.json()['access_token']}"},
        )
        assert sorted(p["path_with_namespace"] for p in projects.json()) == [
            "demo/cam-programs",
            "demo/widgets",
        ]
        assert "Queue:           demo/widgets" in output
        _check_the_vault_as_alice(base, output)
        # The queue runs: good MRs land, the two that break CI are rejected (max one strike).
        states = _wait_for_queue(base, login.json()["access_token"], limit=180)
        assert states.get("merged", 0) >= 6, states
        assert states.get("rejected", 0) >= 2, states
        assert httpx.get(f"{sandbox.group(1)}api/v4/version").status_code == 401
        _check_the_console(terminal.lines())
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)  # a run in flight finishes its step first
        except subprocess.TimeoutExpired:
            process.kill()  # never leave a hung demo behind the test run
            raise
        finally:
            terminal.close()
    assert not list(tmp_path.glob("merge-assist-demo-*")), "the demo folder was left behind"


class _Terminal:
    """The leader side of a pseudo-terminal, drained by a thread (a full one would block the
    demo's writes); ``lines()`` is what a person sees."""

    def __init__(self, leader: int) -> None:
        self.leader = leader
        self.chunks: list[bytes] = []
        self.reader = threading.Thread(target=self._drain, daemon=True)
        self.reader.start()

    def _drain(self) -> None:
        while True:
            try:
                chunk = os.read(self.leader, 65536)
            except OSError:  # EIO: the demo closed the terminal
                return
            if not chunk:
                return
            self.chunks.append(chunk)

    def lines(self) -> list[str]:
        raw = b"".join(self.chunks).decode(errors="replace").replace("\r\n", "\n")
        shown = [ANSI.sub("", line.split("\r")[-1]) for line in raw.split("\n")]
        return [line for line in shown if line.strip()]

    def close(self) -> None:
        os.close(self.leader)
        self.reader.join(timeout=5)


ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
SUMMARY = re.compile(
    r"webhooks (\d+) · recognised (\d+) · in batch (\d+) · merged (\d+) · rejected (\d+)"
)


def _check_the_console(lines: list[str]) -> None:
    """Readable lines (time, project, MR, what happened), no JSON, and a summary that adds up."""
    assert not any(line.lstrip().startswith("{") for line in lines), lines[:5]
    pattern = re.compile(r"\d\d:\d\d:\d\d  demo/widgets  !\d+ recognised for the queue")
    assert any(pattern.fullmatch(line) for line in lines), lines[-20:]
    # The summary is the last line on the screen; the newest complete one (the reader may be
    # in the middle of a rewrite).
    found = next((m for line in reversed(lines) if (m := SUMMARY.fullmatch(line))), None)
    assert found, lines[-5:]
    webhooks, recognised, _, merged, rejected = (int(value) for value in found.groups())
    assert webhooks > 0
    assert recognised >= 10
    assert merged >= 6  # the log is written with the step: never behind the API
    assert rejected >= 2


def _processes_using(folder: Path) -> list[str]:
    """Command lines of live processes that name ``folder`` (the demo's sandbox does)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "cmdline").read_bytes()
            state = (entry / "stat").read_text().split()[2]
        except OSError:
            continue
        if str(folder) in raw.decode(errors="replace") and state != "Z":
            found.append(raw.replace(b"\0", b" ").decode(errors="replace"))
    return found


@pytest.mark.parametrize("when", ["starting", "serving"])
def test_sigterm_stops_the_demo_and_its_sandbox_and_removes_the_folder(
    tmp_path: Path, when: str
) -> None:
    env = {**os.environ, "TMPDIR": str(tmp_path), "MERGE_ASSIST_LOG_LEVEL": "WARNING"}
    process = subprocess.Popen(
        [sys.executable, "-m", "merge_assist", "demo", "--port", str(free_port())],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        pattern = "Starting the GitLab sandbox" if when == "starting" else r"Press Ctrl\+C"
        _read_until(process, pattern, 90)
        if when == "starting":
            # The sandbox process is on its way; stop the demo before it answers.
            deadline = time.monotonic() + 10
            while not _processes_using(tmp_path) and time.monotonic() < deadline:
                time.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert _processes_using(tmp_path) == [], "the sandbox outlived the demo"
    assert not list(tmp_path.glob("merge-assist-demo-*")), "the demo folder was left behind"


def test_a_stop_signal_while_the_sandbox_starts_is_held_until_it_can_be_stopped() -> None:
    """Between Popen and the clean-up that owns the process, a SIGTERM is only recorded; once
    the demo's handlers are back it is acted on (so the sandbox is stopped, not orphaned)."""
    from merge_assist.server.demo import _DeferredStop

    before = signal.getsignal(signal.SIGTERM)
    deferred = _DeferredStop()
    os.kill(os.getpid(), signal.SIGTERM)  # recorded, nothing raised here
    time.sleep(0.01)
    deferred.restore()
    assert signal.getsignal(signal.SIGTERM) is before
    with pytest.raises(SystemExit) as stopped:
        deferred.raise_if_stopped()
    assert stopped.value.code == 128 + signal.SIGTERM
