"""The demo's stream of merge requests: a new MR for the bot every so often, like a busy team.

It talks to the sandbox's admin API (``POST /-/sandbox/seed``) from a daemon thread, so the
product sees MRs appear exactly as it would in GitLab (with their webhooks and pipelines).
"""

from __future__ import annotations

import itertools
import logging
import threading
from typing import Any

import httpx

from merge_assist.server.demo_world import BOT, BREAKS_CI, PROJECT

log = logging.getLogger(__name__)

_PARTS = ("flange", "bracket", "spindle", "collet", "sprocket", "bushing", "clamp", "hinge")
# Every sixth MR of the stream breaks CI, so the queue has something to reject now and then.
BREAK_EVERY = 6


def stream_merge_request(number: int) -> dict[str, Any]:
    """The ``number``-th MR of the stream (numbers start after the demo world's ten)."""
    part = _PARTS[number % len(_PARTS)]
    breaks = number % BREAK_EVERY == 0
    content = f"# {BREAKS_CI}\n" if breaks else f"PART = {part!r}\nNUMBER = {number}\n"
    return {
        "project": PROJECT,
        "source_branch": f"stream/{number:03d}-{part}",
        "target_branch": "main",
        "title": f"Add {part} widget #{number}",
        "author": "alice" if number % 2 else "bob",
        "assignees": [BOT],
        "files": {f"widgets/stream_{number:03d}.py": content},
    }


class MergeRequestStream:
    """Open one new MR every ``interval`` seconds until ``stop()``; bounded by ``limit``."""

    def __init__(
        self, sandbox_url: str, admin_token: str, *, interval: float, limit: int, first: int = 11
    ) -> None:
        self._url = sandbox_url.rstrip("/")
        self._admin_token = admin_token
        self._interval = interval
        self._numbers = itertools.islice(itertools.count(first), limit)
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="demo-mr-stream", daemon=True)
        self.opened = 0

    def start(self) -> None:
        """Start opening MRs in the background."""
        self._thread.start()

    def stop(self) -> None:
        """Stop (waits a little for the thread to notice)."""
        self._stopped.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        with httpx.Client(
            base_url=self._url,
            headers={"X-Sandbox-Token": self._admin_token},
            timeout=10,
        ) as client:
            for number in self._numbers:
                if self._stopped.wait(self._interval):
                    return
                self._open(client, number)

    def _open(self, client: httpx.Client, number: int) -> None:
        try:
            answer = client.post(
                "/-/sandbox/seed", json={"merge_requests": [stream_merge_request(number)]}
            )
        except httpx.TransportError as exc:  # the sandbox is stopping with the demo
            log.info("demo stream: sandbox unreachable (%s)", type(exc).__name__)
            return
        if answer.status_code == 201:
            self.opened += 1
        else:
            log.warning("demo stream: the sandbox refused MR %s: %s", number, answer.text[:200])
