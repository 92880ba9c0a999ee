from __future__ import annotations

import subprocess
import sys

from typer.testing import CliRunner

from merge_assist.cli import app


def test_help_lists_every_command_with_purpose() -> None:
    result = CliRunner().invoke(app, ["--help"], terminal_width=200)
    assert result.exit_code == 0
    commands = [c.name for c in app.registered_commands] + [g.name for g in app.registered_groups]
    assert commands, "no sub-commands registered"
    for name in commands:
        assert name is not None
        assert name in result.output


def test_console_script_runs() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "merge_assist", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert "serve" in completed.stdout
