"""Child processes of a run: started in their own process group, always stopped with it."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class ChildProcess:
    """A command whose output goes to a log file; ``stop()`` ends it and its children."""

    def __init__(
        self, name: str, command: Sequence[str], log: Path, env: Mapping[str, str]
    ) -> None:
        self.name = name
        self.log = log
        with log.open("ab") as output:
            self.process = subprocess.Popen(
                list(command),
                stdout=output,
                stderr=subprocess.STDOUT,
                env=dict(env),
                start_new_session=True,  # its own group: git children of marge stop with it
            )

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def stop(self, grace_seconds: float = 10.0) -> None:
        """SIGTERM to the group, then SIGKILL after the grace period."""
        if self.process.poll() is None:
            self._signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=grace_seconds)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
                self.process.wait(timeout=grace_seconds)
        # Whatever it left in its group (a git command of marge) goes too.
        self._signal(signal.SIGKILL)

    def kill(self) -> None:
        """SIGKILL to the group at once (a crash), and wait for it."""
        self._signal(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)

    def _signal(self, kind: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, kind)


def clean_environment(extra: Mapping[str, str]) -> dict[str, str]:
    """This process's environment without settings of the products under test, plus ``extra``."""
    kept = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("MERGE_ASSIST_", "MARGE_", "GIT_", "GITLAB_SANDBOX_"))
    }
    return {**kept, **extra}
