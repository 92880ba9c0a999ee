"""Pure CI rules: markers, semantic conflicts, flakes and durations from the seed."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gitlab_sandbox.ci.rules import (
    CiRules,
    decide,
    find_marker,
    judge_content,
    pipeline_duration,
    tree_digest,
)

CLEAN = {"README.md": b"hello\n", "src/app.py": b"print('hi')\n"}


def test_clean_tree_passes() -> None:
    rules = CiRules()
    verdict = decide(rules, 1, judge_content(rules, CLEAN), 1)
    assert verdict.passed
    assert verdict.reason == ""


def test_marker_inside_a_comment_breaks_ci_and_says_where() -> None:
    rules = CiRules()
    files = {**CLEAN, "src/app.py": b"x = 1\n# sandbox-ci: fail\n"}
    verdict = decide(rules, 1, judge_content(rules, files), 1)
    assert not verdict.passed
    assert "src/app.py (line 2)" in verdict.reason
    assert "sandbox-ci: fail" in verdict.reason
    assert not verdict.flaky


def test_fail_together_needs_every_marker_of_the_group() -> None:
    rules = CiRules(fail_together=[["conflict-a", "conflict-b"]])
    only_a = {**CLEAN, "a.txt": b"# conflict-a\n"}
    both = {**only_a, "b.txt": b"// conflict-b\n"}
    assert decide(rules, 1, judge_content(rules, only_a), 1).passed
    verdict = decide(rules, 1, judge_content(rules, both), 1)
    assert not verdict.passed
    assert "semantic conflict" in verdict.reason
    assert "a.txt" in verdict.reason
    assert "b.txt" in verdict.reason


def test_when_markers_make_a_manual_or_delayed_job_and_leave_the_verdict_alone() -> None:
    """``when: manual`` / ``when: delayed`` (``doc/ci/jobs/job_control.md``) only change how
    the job starts; the manual marker wins over the delayed one."""
    rules = CiRules(manual_marker="ci-manual", delayed_marker="ci-delayed")
    manual = {**CLEAN, "deploy.sh": b"# ci-manual\n"}
    delayed = {**CLEAN, "later.sh": b"# ci-delayed\n"}
    assert judge_content(rules, CLEAN).when == "on_success"
    assert judge_content(rules, manual).when == "manual"
    assert judge_content(rules, delayed).when == "delayed"
    assert judge_content(rules, {**manual, **delayed}).when == "manual"
    assert judge_content(CiRules(), manual).when == "on_success"
    broken = {**manual, "x.py": b"# sandbox-ci: fail\n"}
    assert judge_content(rules, broken).when == "manual"
    assert not decide(rules, 1, judge_content(rules, broken), 1).passed


def test_digest_depends_on_content_not_order() -> None:
    reordered = dict(reversed(list(CLEAN.items())))
    assert tree_digest(CLEAN) == tree_digest(reordered)
    assert tree_digest(CLEAN) != tree_digest({**CLEAN, "README.md": b"hello!\n"})
    assert tree_digest({"ab": b"c"}) != tree_digest({"a": b"bc"})


def test_find_marker_reports_first_path() -> None:
    hit = find_marker({"z.txt": b"m\n", "a.txt": b"\n\nm"}, "m")
    assert hit is not None
    assert (hit.path, hit.line) == ("a.txt", 3)
    assert find_marker(CLEAN, "absent") is None


def test_flake_rate_is_roughly_honoured_over_many_trees() -> None:
    rules = CiRules(flake_rate=0.2)
    trees = [{"n.txt": str(n).encode()} for n in range(2000)]
    flakes = [not decide(rules, 7, judge_content(rules, tree), 1).passed for tree in trees]
    assert 0.15 < sum(flakes) / len(flakes) < 0.25


def test_a_flake_can_pass_on_retry_and_is_deterministic() -> None:
    rules = CiRules(flake_rate=0.5)
    trees = [judge_content(rules, {"n.txt": str(n).encode()}) for n in range(200)]
    first = [decide(rules, 3, tree, 1) for tree in trees]
    assert first == [decide(rules, 3, tree, 1) for tree in trees]
    flaky = [tree for tree, verdict in zip(trees, first, strict=True) if not verdict.passed]
    assert any(decide(rules, 3, tree, 2).passed for tree in flaky)
    assert all(verdict.flaky for verdict in first if not verdict.passed)


@given(st.integers(), st.integers(min_value=1, max_value=10**9), st.integers(1, 5))
def test_durations_stay_in_range_and_repeat(seed: int, pipeline_id: int, attempt: int) -> None:
    rules = CiRules(duration_seconds=(30.0, 90.0))
    duration = pipeline_duration(rules, seed, pipeline_id, attempt)
    assert 30.0 <= duration <= 90.0
    assert duration == pipeline_duration(rules, seed, pipeline_id, attempt)


def test_different_seeds_draw_different_durations() -> None:
    rules = CiRules()
    first = [pipeline_duration(rules, 1, n) for n in range(20)]
    second = [pipeline_duration(rules, 2, n) for n in range(20)]
    assert first != second


@pytest.mark.parametrize(
    "kwargs",
    [
        {"duration_seconds": (10.0, 5.0)},
        {"flake_rate": 1.5},
        {"runner_capacity": 0},
        {"fail_marker": ""},
        {"fail_together": [[]]},
        {"manual_marker": ""},
        {"delayed_marker": ""},
        {"delay_seconds": -1.0},
    ],
)
def test_rejects_impossible_rules(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"must|needs"):
        CiRules(**kwargs)
