"""The batch strategy, step by step: build, test, land exactly the tested commit, bisect."""

from __future__ import annotations

from merge_assist.merging.engine.actions import BuildBatch
from merge_assist.merging.engine.config import EngineConfig
from merge_assist.merging.engine.decide import Decision
from merge_assist.merging.engine.observations import (
    BatchBuildResult,
    BatchMRResult,
    BuiltMember,
    MergeResult,
    Pipeline,
    PushResult,
)
from merge_assist.merging.engine.state import Phase
from tests.merging.engine.factories import (
    TARGET_SHA,
    empty_state,
    kinds,
    observe,
    of_kind,
    sha,
    snapshot,
    step,
)

BATCH_LABEL = "Merge Assist: Batch Merge Request"


def config(landing: str = "push", size: int = 3, parallel: int = 1) -> EngineConfig:
    # Without retries: these tests are about the bisection (test_retries.py covers retries).
    return EngineConfig(
        strategy="batch",
        landing=landing,
        batch_size=size,
        parallel_tests=parallel,
        pipeline_retries=0,
    )


MRS = (snapshot(1), snapshot(2, priority=1), snapshot(3), snapshot(4))


def build(decision: Decision, cfg: EngineConfig, conflicts: tuple[int, ...] = ()) -> Decision:
    """Answer the build of the attempt just started: one push, each member merged or not."""
    (built,) = of_kind(decision, "build_batch")
    assert built.base_sha == TARGET_SHA
    return step(decision.state, observe(*MRS, results=(built_result(built, conflicts),)), cfg)


def built_result(built: BuildBatch, conflicts: tuple[int, ...] = ()) -> BatchBuildResult:
    members = []
    head, merged = built.base_sha, ""
    for member in built.members:
        if member.iid in conflicts:
            members.append(BuiltMember(iid=member.iid, status="conflict", prefix_sha=head))
        else:
            merged += str(member.iid)
            head = sha(f"p{merged}")  # !2 then !1 then !3 on the target: sha("p213")
            members.append(BuiltMember(iid=member.iid, status="merged", prefix_sha=head))
    return BatchBuildResult(
        attempt_id=built.attempt_id, status="built", sha=head, members=tuple(members)
    )


def test_a_batch_takes_the_next_ready_mrs_in_queue_order() -> None:
    decision = step(empty_state(), observe(*MRS), config())
    assert decision.state.batch_run is not None
    assert decision.state.batch_run.bisect.pending == (2, 1, 3)
    phases = {mr.iid: mr.phase for mr in decision.state.merge_requests}
    assert phases == {1: Phase.MERGING, 2: Phase.MERGING, 3: Phase.MERGING, 4: Phase.READY}
    built = build(decision, config())
    (batch_mr,) = of_kind(built, "create_batch_mr")
    assert batch_mr.labels == (BATCH_LABEL,)
    (run,) = of_kind(built, "run_pipeline")
    assert run.sha == sha("p213")
    assert run.ref == batch_mr.branch


def pass_pipeline(decision: Decision, cfg: EngineConfig, status: str = "success") -> Decision:
    (run,) = of_kind(decision, "run_pipeline")
    created = BatchMRResult(
        attempt_id=run.attempt_id,
        status="created",
        iid=77,
        web_url="https://gitlab.example/g/p/-/merge_requests/77",
    )
    ran = Pipeline(id=500, sha=run.sha, status=status)
    return step(decision.state, observe(*MRS, results=(created,), pipelines=(ran,)), cfg)


def test_push_landing_moves_the_target_to_exactly_the_tested_commit() -> None:
    cfg = config("push")
    landing = pass_pipeline(build(step(empty_state(), observe(*MRS), cfg), cfg), cfg)
    (push,) = of_kind(landing, "push_target")
    assert (push.sha, push.expected_old_sha) == (sha("p213"), TARGET_SHA)
    announced = [c for c in of_kind(landing, "post_comment") if c.template == "batch_in_progress"]
    assert {c.iid for c in announced} == {1, 2, 3}
    assert "merge_requests/77" in announced[0].body
    pushed = PushResult(attempt_id=push.attempt_id, status="pushed", new_sha=sha("p213"))
    merged = tuple(s.model_copy(update={"state": "merged"}) for s in MRS[:3]) + MRS[3:]
    after = step(landing.state, observe(*merged, target_sha=sha("p213"), results=(pushed,)), cfg)
    comments = [c for c in of_kind(after, "post_comment") if c.template == "merged_batch"]
    assert {c.iid for c in comments} == {1, 2, 3}
    assert "close_batch_mr" in kinds(after)
    assert "delete_branch" in kinds(after)
    assert after.state.batch_run is not None  # the next run (!4) started at once
    assert after.state.batch_run.bisect.pending == (4,)


def test_merge_api_landing_merges_the_batch_mr_with_the_tested_sha() -> None:
    cfg = config("merge_api")
    landing = pass_pipeline(build(step(empty_state(), observe(*MRS), cfg), cfg), cfg)
    (merge,) = of_kind(landing, "merge_mr")
    assert (merge.iid, merge.sha, merge.expected_target_sha) == (77, sha("p213"), TARGET_SHA)
    result = MergeResult(iid=77, status="merged", merge_sha=sha("M"))
    after = step(landing.state, observe(*MRS, target_sha=sha("M"), results=(result,)), cfg)
    assert {c.iid for c in of_kind(after, "post_comment")} >= {1, 2, 3}


def test_a_merged_batch_mr_is_a_landing_before_gitlab_marks_its_members_merged() -> None:
    """The worker died right after the merge API merged the batch MR. GitLab marks the members
    merged a moment after the target moved (PostReceive): until then the batch MR, merged at
    the tested head, tells that the batch landed, not that the target moved under it."""
    cfg = config("merge_api")
    built = build(step(empty_state(), observe(*MRS), cfg), cfg)
    (run,) = of_kind(built, "run_pipeline")
    created = BatchMRResult(attempt_id=run.attempt_id, status="created", iid=77, web_url="u")
    testing = step(built.state, observe(*MRS, results=(created,)), cfg)
    assert not of_kind(testing, "merge_mr")  # its pipeline has not passed yet
    batch_mr = snapshot(77, head_sha=sha("p213"), state="merged", bot_is_assignee=False)
    after = step(testing.state, observe(*MRS, batch_mr, target_sha=sha("M")), cfg)
    rebuilt = {m.iid for built in of_kind(after, "build_batch") for m in built.members}
    assert rebuilt == {4}  # the next batch: none of the MRs that landed
    merged = [c for c in of_kind(after, "post_comment") if c.template == "merged_batch"]
    assert {c.iid for c in merged} == {1, 2, 3}


def test_a_batch_mr_whose_iid_was_lost_tells_the_landing_by_its_branch() -> None:
    """The step that learnt the batch MR's iid, saw the pipeline pass and merged it was lost:
    the observer lists the MR of the attempt's branch, merged at the tested head."""
    cfg = config("merge_api")
    built = build(step(empty_state(), observe(*MRS), cfg), cfg)
    (attempt,) = [a for a in built.state.attempts if a.active]
    assert (attempt.status, attempt.batch_mr_iid) == ("testing", None)
    batch_mr = snapshot(
        77,
        head_sha=sha("p213"),
        state="merged",
        source_branch=attempt.branch,
        bot_is_assignee=False,
    )
    after = step(built.state, observe(*MRS, batch_mr, target_sha=sha("M")), cfg)
    rebuilt = {m.iid for built in of_kind(after, "build_batch") for m in built.members}
    assert rebuilt == {4}
    merged = [c for c in of_kind(after, "post_comment") if c.template == "merged_batch"]
    assert {c.iid for c in merged} == {1, 2, 3}


def test_a_conflicting_member_is_struck_and_the_others_go_on() -> None:
    cfg = config()
    built = build(step(empty_state(), observe(*MRS), cfg), cfg, conflicts=(1,))
    (comment,) = of_kind(built, "post_comment")
    assert (comment.iid, comment.template) == (1, "batch_conflict")
    assert "attempt 1/3" in comment.body
    mr = built.state.merge_request(1)
    assert (mr.strikes, mr.blocked) == (1, True)
    assert built.state.batch_run.bisect.pending == (2, 3)
    assert len(of_kind(built, "build_batch")) == 1  # the next attempt, without !1
    assert of_kind(built, "delete_branch")
    rebuilt = build(built, cfg)
    assert [m.iid for m in rebuilt.state.attempts[0].members] == [2, 3]


def test_a_red_batch_is_bisected() -> None:
    cfg = config()
    failed = pass_pipeline(build(step(empty_state(), observe(*MRS), cfg), cfg), cfg, "failed")
    run = failed.state.batch_run
    assert run is not None
    assert run.bisect.known_failing == 3
    (branch,) = of_kind(failed, "build_batch")
    assert branch.base_sha == TARGET_SHA
    (attempt,) = [a for a in failed.state.attempts if a.active]
    assert [m.iid for m in attempt.members] == [2]
    assert not attempt.probe
    # nobody is blamed before the culprit is known
    assert {c.template for c in of_kind(failed, "post_comment")} == {"batch_in_progress"}


def isolation_round(cfg: EngineConfig) -> Decision:
    """!2, !1, !3 fail together; the round's trials are built and their pipelines started."""
    failed = pass_pipeline(build(step(empty_state(), observe(*MRS), cfg), cfg), cfg, "failed")
    builds = of_kind(failed, "build_batch")
    results = tuple(built_result(b) for b in builds)
    return step(failed.state, observe(*MRS, results=results), cfg)


def omitted_by_sha(decision: Decision) -> dict[str, int]:
    """Each isolation trial's tested sha → the member it leaves out."""
    found = {}
    for attempt in decision.state.attempts:
        if attempt.active and attempt.plan is not None and attempt.plan.omitted is not None:
            found[attempt.tested_sha or ""] = attempt.plan.omitted
    return found


def finish_round(decision: Decision, cfg: EngineConfig, passing: set[int]) -> Decision:
    pipelines = tuple(
        Pipeline(id=600 + n, sha=tested, status="success" if left_out in passing else "failed")
        for n, (tested, left_out) in enumerate(omitted_by_sha(decision).items())
    )
    return step(decision.state, observe(*MRS, pipelines=pipelines), cfg)


def test_a_red_batch_runs_leave_one_out_trials_side_by_side() -> None:
    cfg = config(parallel=4)
    failed = pass_pipeline(build(step(empty_state(), observe(*MRS), cfg), cfg), cfg, "failed")
    builds = of_kind(failed, "build_batch")
    assert sorted(tuple(m.iid for m in b.members) for b in builds) == [(1, 3), (2, 1), (2, 3)]
    assert all(b.base_sha == TARGET_SHA for b in builds)
    assert {c.template for c in of_kind(failed, "post_comment")} == {"batch_in_progress"}
    started = isolation_round(cfg)
    assert len(of_kind(started, "run_pipeline")) == 3
    assert not of_kind(started, "create_batch_mr")  # trials get no batch MR unless landed


def test_the_only_passing_omission_lands_and_names_the_culprit() -> None:
    cfg = config(parallel=4)
    round_ = isolation_round(cfg)
    settled = finish_round(round_, cfg, passing={1})
    (push,) = of_kind(settled, "push_target")
    landing = next(a for a in settled.state.attempts if a.active)
    assert [m.iid for m in landing.members] == [2, 3]
    assert push.sha == landing.tested_sha
    assert len(of_kind(settled, "delete_branch")) == 2  # the two other trials
    (blame,) = [c for c in of_kind(settled, "post_comment") if c.template == "batch_failed"]
    assert blame.iid == 1  # blamed as soon as the round settles, landed beside it
    assert "only together" not in blame.body
    assert settled.state.merge_request(1).strikes == 1
    pushed = PushResult(attempt_id=push.attempt_id, status="pushed", new_sha=push.sha)
    merged = tuple(s.model_copy(update={"state": "merged"}) for s in MRS if s.iid in (2, 3))
    rest = tuple(s for s in MRS if s.iid not in (2, 3))
    after = step(
        settled.state, observe(*merged, *rest, target_sha=push.sha, results=(pushed,)), cfg
    )
    landed = [c.iid for c in of_kind(after, "post_comment") if c.template == "merged_batch"]
    assert sorted(landed) == [2, 3]


def test_two_passing_omissions_are_a_pair_and_the_later_one_is_struck() -> None:
    cfg = config(parallel=4)
    settled = finish_round(isolation_round(cfg), cfg, passing={1, 3})
    (push,) = of_kind(settled, "push_target")
    landing = next(a for a in settled.state.attempts if a.active)
    assert push.sha == landing.tested_sha
    assert [m.iid for m in landing.members] == [2, 1]  # without !3, the later of the pair
    (blame,) = [c for c in of_kind(settled, "post_comment") if c.template == "batch_failed"]
    assert blame.iid == 3
    assert "only together with !1" in blame.body


def test_when_every_omission_passes_nobody_is_blamed() -> None:
    """The whole set failed but every trial without one member passed: a flaky failure,
    or a failure of all three together. One trial lands; the member left out is tried again."""
    cfg = config(parallel=4)
    settled = finish_round(isolation_round(cfg), cfg, passing={1, 2, 3})
    (push,) = of_kind(settled, "push_target")
    pushed = PushResult(attempt_id=push.attempt_id, status="pushed", new_sha=push.sha)
    after = step(settled.state, observe(*MRS, target_sha=push.sha, results=(pushed,)), cfg)
    assert not [c for c in of_kind(after, "post_comment") if c.template == "batch_failed"]
    run = after.state.batch_run
    assert run is not None
    assert run.bisect.landed == (2, 1)
    assert run.bisect.pending == (3,)
    (retry,) = of_kind(after, "build_batch")
    assert [m.iid for m in retry.members] == [3]


def test_when_every_omission_fails_prefixes_run_side_by_side() -> None:
    """Several culprits: no omission passes. The failing set's prefixes run side by side; the
    longest passing one lands and the member after it is the culprit."""
    cfg = config(parallel=4)
    settled = finish_round(isolation_round(cfg), cfg, passing=set())
    run = settled.state.batch_run
    assert run is not None
    assert run.bisect.isolation is not None
    assert run.bisect.isolation.exhausted
    builds = of_kind(settled, "build_batch")
    assert sorted(tuple(m.iid for m in b.members) for b in builds) == [(2,), (2, 1)]
    results = tuple(built_result(b) for b in builds)
    started = step(settled.state, observe(*MRS, results=results), cfg)
    prefixes = {
        a.tested_sha: len(a.members)
        for a in started.state.attempts
        if a.active and a.plan is not None and a.plan.prefix
    }
    pipelines = tuple(
        Pipeline(id=700 + n, sha=tested or "", status="success" if size == 1 else "failed")
        for n, (tested, size) in enumerate(prefixes.items())
    )
    after = step(started.state, observe(*MRS, pipelines=pipelines), cfg)
    (push,) = of_kind(after, "push_target")
    landing = next(a for a in after.state.attempts if a.active)
    assert [m.iid for m in landing.members] == [2]
    assert push.sha == landing.tested_sha
    (blame,) = [c for c in of_kind(after, "post_comment") if c.template == "batch_failed"]
    assert blame.iid == 1


def test_with_one_test_at_a_time_a_failed_batch_is_halved() -> None:
    cfg = config(parallel=1)
    failed = pass_pipeline(build(step(empty_state(), observe(*MRS), cfg), cfg), cfg, "failed")
    (halving,) = of_kind(failed, "build_batch")
    assert [m.iid for m in halving.members] == [2]


def test_a_culprit_rejected_at_once_does_not_stop_the_landing_beside_it() -> None:
    cfg = config(parallel=4).model_copy(update={"max_rejections": 1})
    settled = finish_round(isolation_round(cfg), cfg, passing={1})
    (push,) = of_kind(settled, "push_target")
    landing = next(a for a in settled.state.attempts if a.active)
    assert [m.iid for m in landing.members] == [2, 3]
    assert push.sha == landing.tested_sha
    assert landing.branch not in {d.branch for d in of_kind(settled, "delete_branch")}
    assert settled.state.merge_request(1) is None  # rejected and gone
    assert 1 in settled.state.rejected
