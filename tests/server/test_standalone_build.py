"""The one-file build recipe is well-formed and bundles what the executable needs."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "deploy" / "standalone" / "merge-assist.spec"


def test_the_spec_is_python_and_bundles_migrations_and_dashboard() -> None:
    source = SPEC.read_text(encoding="utf-8")
    compile(source, str(SPEC), "exec")  # a syntax error fails here, not in a release build
    assert '"merge_assist/web_dist"' in source  # where default_web_dist_dir() looks when installed
    assert '"merge_assist/migrations"' in source  # where kit.migrate looks
    assert "onefile=True" in source
    assert (SPEC.parent / "launcher.py").is_file()


def test_the_build_script_parses_and_keeps_pyinstaller_out_of_the_dependencies() -> None:
    script = ROOT / "scripts" / "build-standalone"
    subprocess.run(["bash", "-n", str(script)], check=True)
    assert "--with" in script.read_text(encoding="utf-8")
    assert "pyinstaller" not in (ROOT / "pyproject.toml").read_text(encoding="utf-8").lower()
