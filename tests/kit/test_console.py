"""The console log: readable lines and a running summary at a terminal, JSON elsewhere.

The terminal is a real pseudo-terminal (``pty``): the child process decides by itself, from
``isatty``, which form to write."""

from __future__ import annotations

import json
import logging
import os
import pty
import re
import subprocess
import sys
import time

import pytest

from merge_assist.kit.console import QueueTally, readable_line, wants_text

# What the API process logs during the demo: uvicorn's access lines for webhook deliveries,
# and the queue's lines (``merging.persistence.records.append_logs``).
CHILD = r"""
import logging, sys
from merge_assist.kit.log_setup import configure_logging

configure_logging("INFO", sys.argv[1])
access = logging.getLogger("uvicorn.access")
for _ in range(3):
    access.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5", "POST", "/webhook/gitlab", "1.1", 202)
access.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5", "GET", "/api/projects", "1.1", 200)
runner = logging.getLogger("merge_assist.merging.persistence.runner")
def queue(message, iids, event=None):
    extra = {"project_id": 1, "project": "demo/widgets", "target_branch": "main",
             "iid": iids[0] if len(iids) == 1 else None}
    if event:
        extra |= {"event": event, "iids": iids}
    runner.info(message, extra=extra)
queue("!3 recognised for the queue", [3], "recognised")
queue("!4 recognised for the queue", [4], "recognised")
queue("labelled !3 Merge Assist: Ready to Merge", [3])
queue("batch started with !3, !4", [3, 4], "batch_started")
queue("!3 merged into main (0b5c1cf3)", [3], "merged")
queue("!4 rejected", [4], "rejected")
queue("retrying pipeline #9 (attempt 2 of 2)", [7])
logging.getLogger("merge_assist.gitlab").warning(
    "gitlab call refused", extra={"operation": "merge", "status": 405})
"""
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def run_child(log_format: str, *, terminal: bool) -> str:
    """The child's stderr, written to a pseudo-terminal or to a pipe."""
    command = [sys.executable, "-c", CHILD, log_format]
    if not terminal:
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=True)
        return done.stderr
    leader, follower = pty.openpty()
    child = subprocess.Popen(command, stdin=follower, stdout=follower, stderr=follower)
    os.close(follower)
    chunks = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert child.wait(timeout=10) == 0
    return b"".join(chunks).decode()


def screen_lines(raw: str) -> list[str]:
    """What a person sees: each ``\\r`` with erase-line rewrites the current line."""
    shown: list[str] = []
    for line in raw.replace("\r\n", "\n").split("\n"):
        shown.append(ANSI.sub("", line.split("\r")[-1]))
    return [line for line in shown if line.strip()]


def test_at_a_terminal_the_lines_are_readable_and_end_with_the_summary() -> None:
    raw = run_child("auto", terminal=True)
    lines = screen_lines(raw)
    assert not any(line.startswith("{") for line in lines), lines
    assert any(
        re.fullmatch(r"\d\d:\d\d:\d\d  demo/widgets  !3 recognised for the queue", line)
        for line in lines
    ), lines
    assert any(line.endswith("demo/widgets  batch started with !3, !4") for line in lines)
    assert any(
        line.endswith("demo/widgets  !7  retrying pipeline #9 (attempt 2 of 2)") for line in lines
    )
    assert any(
        "WARNING  gitlab call refused (operation=merge, status=405)" in line for line in lines
    )
    assert not any("/webhook/gitlab" in line or "/api/projects" in line for line in lines)
    assert lines[-1] == ("webhooks 3 · recognised 2 · in batch 0 · merged 1 · rejected 1")
    assert "\r\x1b[K" in raw  # the summary line is rewritten in place


def test_asked_for_json_a_terminal_gets_json_lines() -> None:
    lines = screen_lines(run_child("json", terminal=True))
    assert all(json.loads(line)["message"] for line in lines)


def test_without_a_terminal_the_log_is_json_lines() -> None:
    lines = run_child("auto", terminal=False).splitlines()
    parsed = [json.loads(line) for line in lines]
    assert sum("/webhook/gitlab" in entry["message"] for entry in parsed) == 3
    recognised = [entry for entry in parsed if entry.get("event") == "recognised"]
    assert [entry["iids"] for entry in recognised] == [[3], [4]]


def test_asked_for_text_a_pipe_gets_readable_lines_without_the_live_summary() -> None:
    lines = run_child("text", terminal=False).splitlines()
    assert any(line.endswith("demo/widgets  !4 rejected") for line in lines)
    assert not any("webhooks 3 ·" in line for line in lines)


def test_the_tally_follows_mrs_in_and_out_of_batches() -> None:
    tally = QueueTally()
    tally.count("recognised", "p", [1, 2, 3])
    tally.count("batch_started", "p", [1, 2, 3])
    tally.count("culprit", "p", [2])
    tally.count("batch_landed", "p", [1, 3])
    tally.count("merged", "p", [1])  # a landing also records each merge: counted once
    tally.count("rejected", "p", [2])
    assert tally.summary() == "webhooks 0 · recognised 3 · in batch 0 · merged 2 · rejected 1"
    tally.count("recognised", "p", [2])  # back after a new push
    assert len(tally.rejected) == 0


def test_a_readable_line_is_redacted() -> None:
    record = logging.makeLogRecord(
        {
            "name": "x",
            "levelno": logging.INFO,
            "levelname": "INFO",
            "msg": "push https://u:s3cret@h/r.git",
        }
    )
    record.url = "https://oauth2:glpat-0123456789abcdef@h/r.git"
    line = readable_line(record)
    assert "s3cret" not in line
    assert "glpat-0123456789abcdef" not in line


@pytest.mark.parametrize(("form", "tty", "text"), [("text", False, True), ("json", True, False)])
def test_the_form_asked_for_wins_over_the_terminal(form: str, tty: bool, text: bool) -> None:
    class Stream:
        def isatty(self) -> bool:
            return tty

    assert wants_text(form, Stream()) is text
