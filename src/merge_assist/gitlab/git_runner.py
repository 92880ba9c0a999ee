"""Running git: a clean environment, the token through GIT_ASKPASS only, redacted errors.

Every git process runs in a clean environment: no inherited variables but ``PATH``, a private
``HOME``, no system config, a global config file written here (no credential helper, so nothing
is ever stored), and no terminal prompts. The bot's token reaches git **only** through
``GIT_ASKPASS``: a tiny script that prints an environment variable set for that one child
process. The token is never in an argument, a URL, ``.git/config`` or a log line, and error
output is redacted before it becomes an exception message.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import stat
import time
from dataclasses import dataclass
from pathlib import Path

from merge_assist.kit.errors import MergeAssistError
from merge_assist.kit.logging import redact

log = logging.getLogger("merge_assist.gitlab.git")

TOKEN_VARIABLE = "MERGE_ASSIST_GIT_TOKEN"  # noqa: S105 - the variable's name, not a token
USERNAME_VARIABLE = "MERGE_ASSIST_GIT_USERNAME"
_OUTPUT_TAIL = 2000

_ASKPASS_SCRIPT = f"""#!/bin/sh
# Answers git's credential prompts from this git process's own environment (set per command by
# merge-assist); nothing secret is written here.
case "$1" in
  [Uu]sername*) printf '%s\\n' "${{{USERNAME_VARIABLE}:-oauth2}}" ;;
  *) printf '%s\\n' "${{{TOKEN_VARIABLE}}}" ;;
esac
"""

_GLOBAL_CONFIG = """[credential]
\thelper =
[init]
\tdefaultBranch = main
[advice]
\tdetachedHead = false
[gc]
\tauto = 0
[commit]
\tgpgSign = false
[tag]
\tgpgSign = false
[rebase]
\tautoStash = false
[pull]
\trebase = false
"""


class GitCommandError(MergeAssistError):
    """A git command failed; the message is redacted (no token, no credentials)."""

    status_code = 502
    code = "git_error"

    def __init__(self, message: str, *, returncode: int | None = None) -> None:
        super().__init__(message)
        self.returncode = returncode


class GitPushRejected(GitCommandError):
    """The remote refused the push (not a fast-forward, stale lease, protected branch)."""

    code = "git_push_rejected"


class GitTimeout(GitCommandError):
    """A git command ran longer than its time limit and was killed."""

    code = "git_timeout"


@dataclass(frozen=True)
class GitResult:
    """What a finished git command printed."""

    returncode: int
    stdout: str
    stderr: str


class GitRunner:
    """Runs git with a private HOME and, when given, the bot's token via ``GIT_ASKPASS``."""

    def __init__(
        self,
        home: Path,
        *,
        token: str | None = None,
        username: str = "oauth2",
        time_limit: float = 600.0,
        git: str = "git",
    ) -> None:
        self.home = home
        self._token = token
        self.username = username
        self.time_limit = time_limit
        self.git = git
        self.config_file = home / "gitconfig"
        self.askpass = home / "askpass.sh"
        self._prepare_home()

    def __repr__(self) -> str:  # never show the token
        token = "set" if self._token else "unset"
        return f"{type(self).__name__}(home={str(self.home)!r}, token={token})"

    def _prepare_home(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        self.home.chmod(stat.S_IRWXU)
        self.config_file.write_text(_GLOBAL_CONFIG, encoding="utf-8")
        self.askpass.write_text(_ASKPASS_SCRIPT, encoding="utf-8")
        self.askpass.chmod(stat.S_IRWXU)

    def environment(self) -> dict[str, str]:
        """The complete environment of a git child process (the token only when set)."""
        env = {
            "PATH": os.environ.get("PATH", os.defpath),
            "HOME": str(self.home),
            "XDG_CONFIG_HOME": str(self.home / ".config"),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": str(self.config_file),
            "GIT_ATTR_NOSYSTEM": "1",
            "GIT_TERMINAL_PROMPT": "0",
            "LC_ALL": "C",
            "LANG": "C",
        }
        if self._token:
            env["GIT_ASKPASS"] = str(self.askpass)
            env[USERNAME_VARIABLE] = self.username
            env[TOKEN_VARIABLE] = self._token
        return env

    def command(self, *args: str) -> list[str]:
        """The argv of ``git <args>`` (what is executed; never holds the token)."""
        return [self.git, *args]

    def redact(self, text: str) -> str:
        """``text`` without the token and anything else that looks like a credential."""
        if self._token:
            text = text.replace(self._token, "[redacted]")
        return redact(text)

    async def run(
        self,
        *args: str,
        cwd: Path | None = None,
        check: bool = True,
        time_limit: float | None = None,
    ) -> GitResult:
        """Run ``git <args>``; raise :class:`GitCommandError` on failure when ``check``."""
        argv = self.command(*args)
        limit = time_limit or self.time_limit
        started = time.monotonic()
        process = await asyncio.create_subprocess_exec(
            *argv,
            cwd=cwd,
            env=self.environment(),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,  # its own process group, so a time-out kills helpers too
        )
        try:
            stdout, stderr = await asyncio.wait_for(process.communicate(), limit)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            await process.wait()
            raise GitTimeout(
                self.redact(f"git {args[0]} did not finish within {limit:g} seconds.")
            ) from None
        result = GitResult(
            process.returncode if process.returncode is not None else -1,
            stdout.decode("utf-8", errors="replace"),
            stderr.decode("utf-8", errors="replace"),
        )
        log.debug(
            "git command",
            extra={
                "git_command": args[0],
                "exit_code": result.returncode,
                "duration_ms": round((time.monotonic() - started) * 1000, 1),
            },
        )
        if check and result.returncode != 0:
            raise self.failure(args, result)
        return result

    def failure(self, args: tuple[str, ...], result: GitResult) -> GitCommandError:
        """The redacted error for a failed command."""
        output = (result.stderr.strip() or result.stdout.strip())[-_OUTPUT_TAIL:]
        shown = " ".join(args[:6])
        message = self.redact(f"git {shown} failed (exit {result.returncode}): {output}")
        return GitCommandError(message, returncode=result.returncode)
