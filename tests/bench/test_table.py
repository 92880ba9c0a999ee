"""The Markdown results table (bench.table)."""

from __future__ import annotations

from bench.table import cell, markdown


def test_cells() -> None:
    assert cell(None) == "-"
    assert cell(True) == "yes"
    assert cell(False) == "**no**"
    assert cell(()) == "none"
    assert cell((3, 7)) == "!3, !7"
    assert cell(1234.56) == "1,234.6"
    assert cell(2.5) == "2.5"


def test_a_failed_run_is_a_row_and_a_note() -> None:
    text = markdown(
        [
            {"world": "A", "contender": "ma-batch", "error": None,
             "figures": {"complete": True, "merged": 18, "green_main": True}},
            {"world": "A", "contender": "marge-single", "error": "marge exited", "figures": None},
        ]
    )  # fmt: skip
    lines = text.splitlines()
    assert lines[0].startswith("| world | contender | done |")
    assert lines[2].startswith("| A | ma-batch | yes |")
    assert lines[3].startswith("| A | marge-single | **no** |")
    assert lines[-1] == "- A / marge-single: marge exited"
