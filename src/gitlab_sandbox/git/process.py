"""Running the git CLI on a bare repository with an environment the machine cannot change.

``git_env`` builds a clean environment (no system or global configuration, an empty HOME, no
inherited ``GIT_*`` variables) so a developer's ``~/.gitconfig`` or the host's
``/etc/gitconfig`` never changes what the sandbox does. ``ObjectReader`` keeps one
``git cat-file --batch-command`` process per repository so reading commits, trees and blobs
costs a pipe round trip, not a process.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import threading
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path

from gitlab_sandbox.git.objects import GitError, Identity

_EMPTY_HOME = tempfile.mkdtemp(prefix="gitlab-sandbox-home-")
_KEPT_VARIABLES = ("PATH", "LANG", "TMPDIR", "SYSTEMROOT")


def git_env(git_dir: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment every git process of the sandbox runs with."""
    env = {key: os.environ[key] for key in _KEPT_VARIABLES if key in os.environ}
    env.update(
        {
            "GIT_DIR": str(git_dir),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "HOME": _EMPTY_HOME,
            "XDG_CONFIG_HOME": _EMPTY_HOME,
            "GIT_TERMINAL_PROMPT": "0",
            "LC_ALL": "C",
            "GIT_ATTR_NOSYSTEM": "1",
            # paths handed to git are file names, never pathspec magic or globs
            "GIT_LITERAL_PATHSPECS": "1",
        }
    )
    if extra:
        env.update(extra)
    return env


def identity_env(role: str, identity: Identity, default_when: datetime) -> dict[str, str]:
    """``GIT_<role>_NAME/EMAIL/DATE`` for one identity (role: ``AUTHOR`` or ``COMMITTER``)."""
    when = identity.when or default_when
    return {
        f"GIT_{role}_NAME": identity.name,
        f"GIT_{role}_EMAIL": identity.email,
        f"GIT_{role}_DATE": format_git_date(when),
    }


def format_git_date(when: datetime) -> str:
    """A datetime as git's internal date format (``<epoch> <+hhmm>``), keeping its offset."""
    if when.tzinfo is None:
        raise ValueError("git dates must be timezone-aware")
    offset = when.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset else 0
    sign = "-" if minutes < 0 else "+"
    hours, mins = divmod(abs(minutes), 60)
    return f"{int(when.timestamp())} {sign}{hours:02d}{mins:02d}"


def run_git(
    git_dir: Path,
    args: Sequence[str],
    *,
    input: bytes | None = None,
    env: Mapping[str, str] | None = None,
    ok_codes: tuple[int, ...] = (0,),
) -> subprocess.CompletedProcess[bytes]:
    """Run ``git <args>`` on the repository; a failure raises ``GitError`` with git's message."""
    completed = subprocess.run(
        ["git", *args],
        input=input,
        capture_output=True,
        env=git_env(git_dir, env),
        cwd=git_dir,
        check=False,
    )
    if completed.returncode not in ok_codes:
        detail = completed.stderr.decode(errors="replace").strip() or f"exit {completed.returncode}"
        raise GitError(f"git {args[0]} failed: {detail}")
    return completed


class ObjectReader:
    """A long-lived ``git cat-file --batch-command``: object info and contents by revision."""

    def __init__(self, git_dir: Path) -> None:
        self._git_dir = git_dir
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None

    def info(self, revision: str) -> tuple[str, str, int] | None:
        """``(sha, type, size)`` of what ``revision`` names, or None when it names nothing."""
        with self._lock:
            header = self._ask(f"info {revision}")
            return header

    def contents(self, revision: str) -> tuple[str, str, bytes] | None:
        """``(sha, type, raw bytes)`` of what ``revision`` names, or None."""
        with self._lock:
            header = self._ask(f"contents {revision}")
            if header is None:
                return None
            sha, kind, size = header
            stdout = self._process.stdout if self._process else None
            assert stdout is not None
            data = stdout.read(size + 1)[:size]
            return sha, kind, data

    def close(self) -> None:
        """Stop the cat-file process (a later call starts a new one)."""
        with self._lock:
            self._stop()

    def _ask(self, command: str) -> tuple[str, str, int] | None:
        if "\n" in command or "\0" in command:
            return None
        for attempt in range(2):
            process = self._ensure_started()
            assert process.stdin is not None
            assert process.stdout is not None
            try:
                process.stdin.write(command.encode() + b"\n")
                process.stdin.flush()
                line = process.stdout.readline()
            except (BrokenPipeError, OSError):
                line = b""
            if line:
                break
            self._stop()  # the process died (killed, repository replaced): start a new one
            if attempt:
                raise GitError("git cat-file stopped answering")
        parts = line.decode(errors="replace").split()
        if len(parts) != 3 or parts[1] not in ("commit", "tree", "blob", "tag"):
            return None  # "<rev> missing" / "<rev> ambiguous"
        return parts[0], parts[1], int(parts[2])

    def _ensure_started(self) -> subprocess.Popen[bytes]:
        if self._process is None or self._process.poll() is not None:
            self._process = subprocess.Popen(
                ["git", "cat-file", "--batch-command"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env=git_env(self._git_dir),
                cwd=self._git_dir,
            )
        return self._process

    def _stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                stream.close()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
