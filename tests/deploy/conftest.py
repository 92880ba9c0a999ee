"""The deployment files (deploy/, Dockerfile): paths, the real CLI, and the chart rendered by
Helm's own engine (libhelm_c from the helm-python-sdk wheel: Helm v4's Go SDK, no helm binary)."""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml
from typer.testing import CliRunner

from merge_assist.cli import app as cli_app

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
CHART = DEPLOY / "helm" / "merge-assist"
COMPOSE = DEPLOY / "compose" / "compose.yaml"
TERRAFORM = DEPLOY / "terraform"
DOCKERFILE = REPO / "Dockerfile"
RELEASE = "ma"
NAMESPACE = "merge-assist"

# Values files the chart is rendered with: its defaults, and every file in ci/.
VALUES_SETS = ["default", *sorted(p.stem for p in (CHART / "ci").glob("*.yaml"))]


def tool(name: str) -> Path:
    """A tool the project installs (scripts/install --test), or the test fails under CI and
    skips on a developer machine that has not installed it."""
    candidates = {
        "hadolint": Path(sys.executable).parent / "hadolint",
        "checkov": DEPLOY / "tools" / "checkov" / ".venv" / "bin" / "checkov",
    }
    path = candidates[name]
    if path.is_file() or shutil.which(str(path)):
        return path
    message = f"{name} is missing ({path}): run scripts/install --test"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def cli_commands() -> dict[str, set[str]]:
    """The real ``merge-assist`` command line: top-level commands and each group's own."""
    root = typer.main.get_command(cli_app)
    groups: dict[str, Any] = getattr(root, "commands", {})
    commands: dict[str, set[str]] = {"": set(groups)}
    for name, command in groups.items():
        if hasattr(command, "commands"):
            commands[name] = set(command.commands)
    return commands


def is_cli_invocation(args: list[str]) -> bool:
    """``["worker"]`` or ``["db", "upgrade"]``: a command (and sub-command) that exists, and
    whose ``--help`` the real command line answers."""
    commands = cli_commands()
    if not args or args[0] not in commands[""]:
        return False
    group = args[0] in commands  # a group needs one of its sub-commands
    if group and (len(args) < 2 or args[1] not in commands[args[0]]):
        return False
    depth = 2 if args[0] in commands else 1
    result = CliRunner().invoke(cli_app, [*args[:depth], "--help"])
    return result.exit_code == 0


@dataclass(frozen=True)
class Rendered:
    """One rendering of the chart: its manifests (by kind and name) and NOTES.txt."""

    values_set: str
    values: dict[str, Any]
    manifests: list[dict[str, Any]]
    notes: str

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.manifests if m["kind"] == kind]

    def named(self, kind: str, name: str) -> dict[str, Any]:
        (found,) = [m for m in self.of_kind(kind) if m["metadata"]["name"] == name]
        return found


def values_of(values_set: str) -> dict[str, Any]:
    if values_set == "default":
        return {}
    loaded: dict[str, Any] = yaml.safe_load((CHART / "ci" / f"{values_set}.yaml").read_text())
    return loaded


def render(values: dict[str, Any], values_set: str = "custom") -> Rendered:
    """Render the chart as `helm install` would (offline: no cluster, `lookup` finds nothing)."""
    import helm_python as helm

    with helm.Chart.load(str(CHART)) as chart:
        files = chart.render(values, name=RELEASE, namespace=NAMESPACE, is_install=True)
    manifests = [
        document
        for path, text in sorted(files.items())
        if not path.endswith("NOTES.txt")
        for document in yaml.safe_load_all(text)
        if document
    ]
    notes = next((text for path, text in files.items() if path.endswith("NOTES.txt")), "")
    return Rendered(values_set, values, manifests, notes)


@pytest.fixture(scope="session", params=VALUES_SETS)
def rendered(request: pytest.FixtureRequest) -> Rendered:
    values_set: str = request.param
    return render(values_of(values_set), values_set)
