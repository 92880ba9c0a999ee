"""Progress of a long operation (a vault sync, onboarding many projects) for a person watching.

Services take an optional ``Progress`` callback (``done``, ``total``, what is being done) and
know nothing of terminals. The command line passes a ``ProgressLine``: at a terminal one line,
rewritten in place (``Syncing cam-programs  12/40  30%  ███░░░░░░░  programs/op10.nc``); elsewhere
(a pipe, a log file) nothing until ``finish``, so logs stay free of carriage returns.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import IO

Progress = Callable[[int, int, str], None]
BAR_WIDTH = 20
MAX_ITEM_CHARS = 40
_CLEAR_LINE = "\r\x1b[K"


def progress_text(label: str, done: int, total: int, item: str = "") -> str:
    """``label  done/total  pct%  bar  item`` (no bar when the total is unknown: 0)."""
    if total <= 0:
        return f"{label}  {done}" + (f"  {item}" if item else "")
    fraction = min(max(done / total, 0.0), 1.0)
    filled = round(fraction * BAR_WIDTH)
    bar = "█" * filled + "░" * (BAR_WIDTH - filled)
    shown = item if len(item) <= MAX_ITEM_CHARS else "…" + item[-(MAX_ITEM_CHARS - 1) :]
    return f"{label}  {done}/{total}  {fraction:4.0%}  {bar}" + (f"  {shown}" if shown else "")


class ProgressLine:
    """A ``Progress`` that draws one line on ``stream`` when it is a terminal."""

    def __init__(self, label: str, stream: IO[str] | None = None) -> None:
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        isatty = getattr(self.stream, "isatty", None)
        self.live = bool(isatty and isatty())
        self.drawn = False
        self._last = ""

    def __call__(self, done: int, total: int, item: str = "") -> None:
        if not self.live:
            return
        self._last = progress_text(self.label, done, total, item)
        self.stream.write(_CLEAR_LINE + self._last)
        self.stream.flush()
        self.drawn = True

    def above(self, write: Callable[[], None]) -> None:
        """Run ``write`` (which prints a line) with the bar out of its way, then draw it again."""
        if self.drawn:
            self.stream.write(_CLEAR_LINE)
            self.stream.flush()
        write()
        if self.drawn:
            self.stream.write(self._last)
            self.stream.flush()

    def finish(self) -> None:
        """End the line (a terminal keeps the last state of the bar)."""
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()
            self.drawn = False
