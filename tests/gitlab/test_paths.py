"""What a repository folder may be (a vault's folder, a standalone binding's folder)."""

from __future__ import annotations

import pytest

from merge_assist.gitlab.paths import clean_folder
from merge_assist.kit.errors import Unprocessable


def test_folders() -> None:
    assert clean_folder("/cnc/programs/") == "cnc/programs"
    assert clean_folder("  ") == ""
    for bad in ("../x", "a/../b", "a\\b", "a\x01"):
        with pytest.raises(Unprocessable):
            clean_folder(bad)
