"""The green-main record: tips of protected branches and whether their exact tree passed CI."""

from __future__ import annotations

from datetime import UTC, datetime

from gitlab_sandbox.clock import SandboxClock
from gitlab_sandbox.greenmain import GreenMainRecord

START = datetime(2026, 5, 1, tzinfo=UTC)


def test_report_classifies_each_tip() -> None:
    clock = SandboxClock(speed=0, start=START)
    record = GreenMainRecord(clock)
    record.mark_tree_result("tree-1", passed=True)  # tested on the MR branch before merging
    record.record_tip("acme/shop", "main", "sha-1", "tree-1", how="merge")
    clock.advance(60)
    record.record_tip("acme/shop", "main", "sha-2", "tree-2", how="push")
    record.record_tip("acme/shop", "main", "sha-3", "tree-3", how="merge")
    record.mark_tree_result("tree-2", passed=False)
    report = record.report("acme/shop")
    assert [row["ci"] for row in report["tips"]] == ["passed", "failed", "untested"]
    assert report["summary"] == {"tips": 3, "passed": 1, "failed": 1, "untested": 1}
    assert report["green"] is False
    first, second = report["tips"][0], report["tips"][1]
    assert first["moved_at"] == START.isoformat()
    assert (second["how"], second["previous_sha"]) == ("push", "sha-1")


def test_a_later_success_on_the_same_tree_turns_a_tip_green() -> None:
    record = GreenMainRecord()
    record.record_tip("p", "main", "sha-merge", "tree-x", how="merge")
    record.mark_tree_result("tree-x", passed=False)  # a flake
    assert record.tree_status("tree-x") == "failed"
    record.mark_tree_result("tree-x", passed=True)  # the retry passed
    report = record.report("p")
    assert report["green"] is True
    assert report["summary"]["passed"] == 1


def test_same_sha_is_not_a_new_tip_and_projects_are_separate() -> None:
    record = GreenMainRecord()
    assert record.record_tip("p", "main", "a", "t") is not None
    assert record.record_tip("p", "main", "a", "t") is None
    record.record_tip("p", "release", "a", "t")
    record.record_tip("q", "main", "b", "u")
    assert [t.branch for t in record.tips("p")] == ["main", "release"]
    assert [t.sha for t in record.tips("p", "release")] == ["a"]
    assert record.projects() == ["p", "q"]
    assert record.report("q")["summary"]["untested"] == 1
    assert record.report("empty") == {
        "project": "empty",
        "tips": [],
        "summary": {"tips": 0, "passed": 0, "failed": 0, "untested": 0},
        "green": True,
    }
    record.reset()
    assert record.projects() == []
