"""Fixtures for the git layer: a fresh bare repository and a git smart HTTP server in a thread."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gitlab_sandbox.git import BareRepo, Identity

ANN = Identity("Ann Author", "ann@example.com", datetime(2024, 5, 1, 9, 0, tzinfo=UTC))
BOB = Identity("Bob Builder", "bob@example.com", datetime(2024, 5, 2, 10, 30, tzinfo=UTC))
MERGER = Identity("Merge Bot", "bot@example.com", datetime(2024, 5, 3, 12, 0, tzinfo=UTC))


@pytest.fixture
def repo(tmp_path: Path) -> Iterator[BareRepo]:
    """An empty bare repository whose default branch is ``main``."""
    bare = BareRepo.init(tmp_path / "group" / "project.git")
    yield bare
    bare.close()
