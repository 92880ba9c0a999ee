"""``GET /api/projects/{id}/stats``: numbers checked by hand on known rows."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from merge_assist.merging.api import endpoints
from tests.conftest import MakeAccount
from tests.merging.api.queue_rows import Sessions, add, add_mr, add_project, history

NOW = datetime(2026, 11, 20, 12, 30, tzinfo=UTC)


def hm(hour: int, minute: int = 0) -> datetime:
    return NOW.replace(hour=hour, minute=minute)


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(endpoints, "utcnow", lambda: NOW)


async def test_stats_over_known_rows(
    client: httpx.AsyncClient, sessions: Sessions, make_account: MakeAccount
) -> None:
    viewer = await make_account("vera", "viewer")
    project = await add_project(sessions)
    other = await add_project(sessions, "acme/tools")
    merged = {
        1: (hm(9), hm(10, 10)),  # 4200 s
        2: (hm(10), hm(10, 20)),  # 1200 s
        3: (hm(11), hm(11, 5)),  # 300 s
        4: (hm(11, 30), hm(12, 15)),  # 2700 s
        6: (hm(9), hm(9, 59)),  # before the window
    }
    for iid, (recognised, landed) in merged.items():
        await add_mr(
            sessions, project, iid, state="merged", recognised_at=recognised, merged_at=landed
        )
    # !5 was never stamped as recognised: it counts as merged, not in the durations.
    await add_mr(sessions, project, 5, state="merged", merged_at=hm(12, 20), unrecognised=True)
    await add_mr(sessions, project, 7, state="waiting")
    await add_mr(sessions, other, 1, state="merged", recognised_at=hm(10), merged_at=hm(10, 1))
    await add(
        sessions,
        history(
            project, "struck", [1], "s1", details={"cause": "pipeline_failed"}, created_at=hm(10)
        ),
        history(
            project, "struck", [2], "s2", details={"cause": "pipeline_failed"}, created_at=hm(11)
        ),
        history(project, "struck", [3], "s3", details={"reason": "conflict"}, created_at=hm(12)),
        history(
            project,
            "rejected",
            [3],
            "r3",
            details={"reasons": "pipeline failed 3 times"},
            created_at=hm(12),
        ),
        history(project, "struck", [4], "s4", details={}, created_at=hm(12, 1)),
        history(project, "struck", [6], "s6", details={"cause": "old"}, created_at=hm(9, 59)),
        history(project, "merged", [1], "m1", details={"reason": "x"}, created_at=hm(10, 10)),
        history(other, "struck", [1], "o1", details={"cause": "elsewhere"}, created_at=hm(10)),
    )

    response = await client.get(
        f"/api/projects/{project}/stats", params={"hours": 3}, headers=viewer
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["window_hours"] == 3
    per_hour = [(datetime.fromisoformat(h["hour"]), h["merged"]) for h in body["merged_per_hour"]]
    assert per_hour == [(hm(10), 2), (hm(11), 1), (hm(12), 2)]
    # durations 300, 1200, 2700, 4200: median (1200 + 2700) / 2; p95 at rank 2.85
    assert body["time_to_merge"] == {
        "count": 4,
        "median_seconds": 1950.0,
        "p95_seconds": 3975.0,  # 2700 + 0.85 * (4200 - 2700)
    }
    assert body["failures_by_reason"] == [
        {
            "reason": "Pipeline failed",
            "kind": "pipeline_failed",
            "count": 3,
            "messages": [
                {"message": "pipeline_failed", "count": 2},
                {"message": "pipeline failed 3 times", "count": 1},
            ],
        },
        {
            "reason": "Conflict",
            "kind": "conflict",
            "count": 1,
            "messages": [{"message": "conflict", "count": 1}],
        },
        {
            "reason": "Other",
            "kind": "other",
            "count": 1,
            "messages": [{"message": "unknown", "count": 1}],
        },
    ]

    day = (await client.get(f"/api/projects/{project}/stats", headers=viewer)).json()
    assert len(day["merged_per_hour"]) == 24
    assert sum(h["merged"] for h in day["merged_per_hour"]) == 6
    assert day["time_to_merge"]["count"] == 5


async def test_empty_window_and_bad_input(
    client: httpx.AsyncClient, sessions: Sessions, make_account: MakeAccount
) -> None:
    viewer = await make_account("vera", "viewer")
    project = await add_project(sessions)
    url = f"/api/projects/{project}/stats"

    empty = (await client.get(url, params={"hours": 1}, headers=viewer)).json()
    assert empty["merged_per_hour"] == [{"hour": "2026-11-20T12:00:00Z", "merged": 0}]
    assert empty["time_to_merge"] == {"count": 0, "median_seconds": None, "p95_seconds": None}
    assert empty["failures_by_reason"] == []
    for hours in (0, 745, "a day"):
        refused = await client.get(url, params={"hours": hours}, headers=viewer)
        assert refused.status_code == 422, hours
    assert (await client.get("/api/projects/999/stats", headers=viewer)).status_code == 404
