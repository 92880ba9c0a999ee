"""``merging.api.trains``: the train view from a stored state, without a database."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from merge_assist.merging.api.trains import (
    SeenPipeline,
    TrainFacts,
    attempt_ids,
    depth_now,
    member_iids,
    shows_train,
    train_out,
)
from merge_assist.merging.engine.state import TargetQueueState, Train
from merge_assist.merging.schemas import TrainMemberOut
from tests.merging.api.train_states import train_state
from tests.merging.engine.test_train import Driver, config, three_cars_tested, world

WEB = "https://gitlab.example.com/acme/webapp"


def _facts(**changes: object) -> TrainFacts:
    members = {
        iid: TrainMemberOut(iid=iid, title=f"Change {iid}", web_url=f"{WEB}/-/merge_requests/{iid}")
        for iid in (1, 2, 3, 4, 6, 7, 9)
    }
    values: dict[str, object] = {
        "strategy": "train",
        "train_depth": 4,
        "members": members,
        "pipelines": {10: SeenPipeline(501, "running"), 13: SeenPipeline(503, "failed")},
        "project_web_url": WEB + "/",
    }
    return TrainFacts(**{**values, **changes})  # type: ignore[arg-type]


def test_cars_head_first_with_members_pipelines_and_retries() -> None:
    view = train_out(train_state(7), _facts())

    assert (view.target_branch, view.strategy, view.depth, view.train_depth) == (
        "main",
        "train",
        3,
        4,
    )
    assert [(car.position, car.attempt_id, car.status) for car in view.cars] == [
        (1, 10, "testing"),
        (2, 11, "testing"),
        (3, 12, "building"),  # rebasing shows as building
    ]
    head = view.cars[0]
    assert [(m.iid, m.title, m.web_url) for m in head.members] == [
        (1, "Change 1", f"{WEB}/-/merge_requests/1"),
        (2, "Change 2", f"{WEB}/-/merge_requests/2"),
    ]
    assert head.pipeline is not None
    assert head.pipeline.model_dump() == {
        "id": 501,
        "status": "running",
        "web_url": f"{WEB}/-/pipelines/501",
        "retries": 0,
    }
    assert (head.base_sha, head.tested_sha) == ("aaaaaaaa", "bbbbbbbb")
    assert (head.batch_mr_iid, head.batch_mr_url) == (40, f"{WEB}/-/merge_requests/40")
    second = view.cars[1]
    # No batch operation row seen yet: the attempt's pipeline, status unknown, retried once.
    assert second.pipeline is not None
    assert (second.pipeline.id, second.pipeline.status, second.pipeline.retries) == (502, None, 1)
    assert (second.base_sha, second.tested_sha) == ("bbbbbbbb", "cccccccc")
    third = view.cars[2]
    assert (third.pipeline, third.tested_sha, third.base_sha) == (None, None, "cccccccc")


def test_probes_suspects_and_cleared_groups() -> None:
    view = train_out(train_state(7), _facts())

    assert len(view.probes) == 1
    probe = view.probes[0]
    assert (probe.attempt_id, probe.status, probe.base_sha) == (13, "testing", "cccccccc")
    assert [m.iid for m in probe.members] == [6, 7]
    assert probe.pipeline is not None
    assert (probe.pipeline.id, probe.pipeline.status) == (503, "failed")
    # !8 has no MR row: shown by iid alone.
    assert [[(m.iid, m.title) for m in g.members] for g in view.suspects] == [[(8, None)]]
    assert [[m.iid for m in g.members] for g in view.cleared] == [[9]]


def test_no_project_link_no_pipeline_link() -> None:
    view = train_out(train_state(7), _facts(project_web_url=None))

    assert view.cars[0].pipeline is not None
    assert view.cars[0].pipeline.web_url is None


def test_an_empty_train_has_the_full_depth() -> None:
    view = train_out(TargetQueueState.empty(7, "main"), _facts(train_depth=4))

    assert (view.cars, view.probes, view.suspects, view.cleared) == ([], [], [], [])
    assert view.depth == 4


def test_ids_and_iids_the_train_names() -> None:
    state = train_state(7)

    assert attempt_ids(state) == {10, 11, 12, 13}
    assert member_iids(state) == {1, 2, 3, 4, 6, 7, 8, 9}  # not !20 of the old single attempt


def test_which_branches_show_a_train() -> None:
    busy = train_state(7)
    idle = TargetQueueState.empty(7, "main")

    assert shows_train(idle, "train", configured=True)
    assert not shows_train(idle, "train", configured=False)
    assert not shows_train(idle, "batch", configured=True)
    # Cars in flight after a switch of strategy, or on a branch no longer configured.
    assert shows_train(busy, "batch", configured=True)
    assert shows_train(busy, "single", configured=False)
    suspects_only = idle.model_copy(update={"train": Train(suspects=(((8, "8" * 40),),))})
    assert shows_train(suspects_only, "single", configured=True)


@given(st.integers(min_value=0, max_value=20), st.integers(min_value=1, max_value=10))
def test_depth_stays_within_one_and_the_maximum(depth: int, train_depth: int) -> None:
    shown = depth_now(depth, train_depth)

    assert 1 <= shown <= train_depth
    if depth == 0:  # not started yet: the maximum
        assert shown == train_depth
    elif depth <= train_depth:
        assert shown == depth


def test_the_view_of_a_train_the_engine_ran() -> None:
    """A state the engine stored with the head car still testing, a failed car's member probed."""
    w = world([1, 2, 3, 4, 5], bad_pair=frozenset({1, 2}))  # !2 breaks only with !1
    driver = Driver(w, config())
    driver.until(lambda: three_cars_tested(driver))
    head = driver.cars()[0]
    assert head.tested_sha is not None
    w.held.add(head.tested_sha)  # the head's pipeline keeps running
    driver.until(lambda: driver.state.train.probes != ())
    state = TargetQueueState.from_json(driver.state.to_json())

    view = train_out(state, _facts(train_depth=3, pipelines={}))

    assert [car.attempt_id for car in view.cars] == list(state.train.cars)
    assert [car.position for car in view.cars] == list(range(1, len(view.cars) + 1))
    assert [m.iid for m in view.cars[0].members] == [1]
    assert [m.iid for m in view.cars[1].members] == [3]  # rebuilt without !2
    assert view.cars[0].pipeline is not None
    assert view.cars[0].pipeline.id == head.pipeline_ids[-1]
    assert view.depth == 2  # one less after the failed car
    assert [[m.iid for m in probe.members] for probe in view.probes] == [[2]]
