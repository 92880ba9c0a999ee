"""marge-bot 1.4.0 from PyPI, unmodified, as a daemon for the whole run (single or --batch)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from bench.contenders.base import ContenderSetup
from bench.processes import ChildProcess, clean_environment

REPO_ROOT = Path(__file__).resolve().parents[2]
LAUNCHER = Path(__file__).with_name("marge_launcher.py")
MARGE_BOT_VERSION = "1.4.0"


def marge_python() -> Path:
    """The python of marge's own virtual environment (``scripts/marge-venv`` installs it)."""
    done = subprocess.run(
        [str(REPO_ROOT / "scripts" / "marge-venv")],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
        env=clean_environment({"MARGE_BOT_VERSION": MARGE_BOT_VERSION}),
    )
    return Path(done.stdout.strip().splitlines()[-1]).with_name("python")


class MargeBot:
    """marge in its default mode (local rebase, push, merge when the pipeline succeeds)."""

    def __init__(self, *, batch: bool) -> None:
        self.batch = batch
        self.name = "marge-batch" if batch else "marge-single"
        self.process: ChildProcess | None = None

    def start(self, setup: ContenderSetup) -> None:
        home = setup.folder / "marge-home"
        home.mkdir(parents=True, exist_ok=True)
        token_file = home / "marge-token"
        token_file.write_text(setup.bot_token + "\n")
        token_file.chmod(0o600)
        command = [
            str(marge_python()), str(LAUNCHER), str(setup.clock_speed),
            "--gitlab-url", setup.gitlab_url,
            "--auth-token-file", str(token_file),
            "--use-https",  # marge then puts the token in its clone URL: its choice
            "--ci-timeout", "600min",  # real time; never the limit here
            "--git-timeout", "300s",
            *(["--batch"] if self.batch else []),
        ]  # fmt: skip
        scratch = setup.folder / "marge-tmp"  # its clones: in the run folder, not /tmp
        scratch.mkdir(exist_ok=True)
        env = clean_environment(
            {
                "HOME": str(home),
                "TMPDIR": str(scratch),
                "GIT_CONFIG_NOSYSTEM": "1",
                "GIT_TERMINAL_PROMPT": "0",
            }
        )
        self.process = ChildProcess(self.name, command, setup.folder / "marge.log", env)

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
