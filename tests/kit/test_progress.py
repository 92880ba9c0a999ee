"""Progress lines: a bar rewritten in place at a terminal, nothing in a pipe."""

from __future__ import annotations

import io

from merge_assist.kit.progress import ProgressLine, progress_text


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_text_shows_count_percent_bar_and_item() -> None:
    assert progress_text("Syncing cam", 3, 12, "programs/op10.nc") == (
        "Syncing cam  3/12   25%  █████░░░░░░░░░░░░░░░  programs/op10.nc"
    )
    assert progress_text("Syncing", 0, 0) == "Syncing  0"
    long = progress_text("x", 1, 1, "a/" * 40 + "end.nc")
    assert long.endswith("/end.nc")
    assert "…" in long


def test_at_a_terminal_the_line_is_rewritten_and_ended() -> None:
    screen = Terminal()
    line = ProgressLine("Onboarding", screen)
    line(0, 2, "group/a")
    line.above(lambda: screen.write("Onboarded group/a\n"))
    line(2, 2)
    line.finish()
    text = screen.getvalue()
    assert text.count("\r\x1b[K") == 3  # each draw, and once to print above the bar
    assert "Onboarded group/a\nOnboarding  0/2" in text  # the bar drawn again below it
    assert text.endswith("Onboarding  2/2  100%  " + "█" * 20 + "\n")


def test_in_a_pipe_nothing_is_drawn() -> None:
    pipe = io.StringIO()
    line = ProgressLine("Syncing", pipe)
    line(1, 3, "a.nc")
    line.above(lambda: pipe.write("result\n"))
    line.finish()
    assert pipe.getvalue() == "result\n"
