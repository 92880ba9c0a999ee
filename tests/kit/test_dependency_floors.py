"""The declared dependency floors stay past known advisories (issue 13, item 16).

A floor below a fixed version lets an installer (pip without the lock file, a distribution
package) pick a release with a known hole; the lock file alone does not protect them.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# package -> (first release past the advisories we know of, what they were)
ADVISORY_FLOORS = {
    "pyjwt": ((2, 10, 1), "CVE-2024-53861: issuer check bypass"),
    "starlette": ((0, 47, 2), "CVE-2024-47874, CVE-2025-54121: multipart denial of service"),
    "fastapi": ((0, 115, 3), "pulls a Starlette with the multipart fixes"),
    "python-multipart": ((0, 0, 22), "CVE-2024-53981, CVE-2026-24486: parser DoS, path"),
    "cryptography": ((44, 0, 1), "CVE-2024-12797 (bundled OpenSSL), CVE-2024-26130"),
}


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text)[:3])


def _floors() -> dict[str, tuple[int, ...]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    floors = {}
    for requirement in project["project"]["dependencies"]:
        match = re.match(r"([A-Za-z0-9_.-]+)(\[[^\]]*\])?\s*>=\s*([0-9][0-9.]*)", requirement)
        if match:
            floors[match.group(1).lower()] = _version(match.group(3))
    return floors


def _locked() -> dict[str, tuple[int, ...]]:
    lock = tomllib.loads((ROOT / "uv.lock").read_text(encoding="utf-8"))
    return {package["name"]: _version(package["version"]) for package in lock["package"]}


@pytest.mark.parametrize("package", sorted(ADVISORY_FLOORS))
def test_floor_is_past_the_known_advisories(package: str) -> None:
    fixed, advisory = ADVISORY_FLOORS[package]
    floor = _floors().get(package)
    assert floor is not None, f"{package} has no '>=' floor in pyproject.toml"
    assert floor >= fixed, f"{package} floor {floor} allows a release with {advisory}"


@pytest.mark.parametrize("package", sorted(ADVISORY_FLOORS))
def test_lock_file_satisfies_the_floor(package: str) -> None:
    assert _locked()[package] >= _floors()[package], "run `uv lock` after raising a floor"
