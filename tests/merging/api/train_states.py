"""A stored engine state with a train running, for the train view's tests.

Cars (head first) 10: !1 !2 testing on pipeline 501; 11: !3 testing on pipeline 502, retried
once; 12: !4 rebasing on car 11's tree. Probe 13: !6 !7 on pipeline 503. Suspects: !8;
cleared: !9. Depth 3. Attempt 5 is an old single attempt, not part of the train.
"""

from __future__ import annotations

from merge_assist.merging.engine.state import (
    Attempt,
    AttemptMember,
    PipelineRetry,
    TargetQueueState,
    Train,
)
from tests.merging.api.queue_rows import T0

TARGET = "a" * 40
CAR_10_TREE = "b" * 40
CAR_11_TREE = "c" * 40


def _attempt(attempt_id: int, iids: tuple[int, ...], base: str, **fields: object) -> Attempt:
    values: dict[str, object] = {"kind": "train-car", "status": "testing", "started_at": T0}
    return Attempt.model_validate(
        {
            "id": attempt_id,
            "members": [AttemptMember(iid=iid, source_sha=f"{iid:040d}") for iid in iids],
            "base_sha": base,
            **values,
            **fields,
        }
    )


def train_state(project_id: int, target_branch: str = "main") -> TargetQueueState:
    """The train described above."""
    attempts = (
        _attempt(5, (20,), TARGET, kind="single", status="done"),
        _attempt(
            10,
            (1, 2),
            TARGET,
            tested_sha=CAR_10_TREE,
            pipeline_ids=(501,),
            batch_mr_iid=40,
            batch_mr_url="https://gitlab.example.com/acme/webapp/-/merge_requests/40",
        ),
        _attempt(11, (3,), CAR_10_TREE, tested_sha=CAR_11_TREE, pipeline_ids=(502,)),
        _attempt(12, (4,), CAR_11_TREE, status="rebasing"),
        _attempt(13, (6, 7), CAR_11_TREE, probe=True, tested_sha="d" * 40, pipeline_ids=(503,)),
    )
    return TargetQueueState(
        project_id=project_id,
        target_branch=target_branch,
        target_sha=TARGET,
        attempts=attempts,
        train=Train(
            cars=(10, 11, 12),
            probes=(13,),
            depth=3,
            suspects=(((8, "8" * 40),),),
            cleared=(((9, "9" * 40),),),
        ),
        pipeline_retries=(
            PipelineRetry(pipeline_id=502, sha=CAR_11_TREE, retries=1),
            PipelineRetry(pipeline_id=999, sha="e" * 40, retries=2),
        ),
        next_id=14,
    )
