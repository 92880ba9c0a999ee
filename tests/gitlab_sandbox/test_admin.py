"""The /-/sandbox/ admin endpoints: token guard, seeding, faults, stats, clock, green-main."""

from __future__ import annotations

import gitlab
import httpx

from gitlab_sandbox.testing import run_sandbox

SCENARIO = {
    "ci": {"duration_seconds": [1, 1]},
    "users": [{"username": "root", "admin": True}, {"username": "bot", "bot": True}],
    "projects": [
        {
            "path": "g/p",
            "owner": "root",
            "members": {"bot": "developer"},
            "protected_branches": [{"name": "main", "merge_access_level": "developer"}],
            "merge_requests": [
                {"source_branch": "f", "title": "F", "author": "bot", "files": {"f.txt": "f\n"}}
            ],
        }
    ],
}


def test_admin_token_is_required() -> None:
    with run_sandbox(SCENARIO) as sandbox:
        assert httpx.get(f"{sandbox.url}/-/sandbox/stats").status_code == 401
        wrong = httpx.get(
            f"{sandbox.url}/-/sandbox/stats", headers={"Authorization": "Bearer nope"}
        )
        assert wrong.status_code == 401
        assert sandbox.stats()["merge_requests"]["opened"] == 1


def test_seed_endpoint_returns_tokens() -> None:
    with run_sandbox(SCENARIO) as sandbox:
        created = sandbox.admin("POST", "seed", {"users": [{"username": "newbie"}]})
        token = created["tokens"]["newbie"]
        user = httpx.get(f"{sandbox.api_url}/user", headers={"PRIVATE-TOKEN": token}).json()
        assert user["username"] == "newbie"


def test_fault_rules_and_accounting() -> None:
    with run_sandbox(SCENARIO) as sandbox:
        gl = gitlab.Gitlab(
            sandbox.url, private_token=sandbox.token_for("bot"), retry_transient_errors=False
        )
        gl.projects.get("g/p")
        sandbox.faults(rules=[{"path": "^/api/v4/projects", "error_rate": 1.0, "statuses": [503]}])
        response = httpx.get(
            f"{sandbox.api_url}/projects/g%2Fp", headers={"PRIVATE-TOKEN": sandbox.token_for("bot")}
        )
        assert response.status_code == 503
        sandbox.faults(rules=[])
        assert gl.projects.get("g/p").id == 1
        calls = sandbox.stats()["calls"]
        bot_calls = next(count for label, count in calls["by_token"].items() if "(bot)" in label)
        assert bot_calls == 3
        assert sandbox.token_for("bot") not in str(calls)


def test_clock_and_green_main() -> None:
    with run_sandbox(SCENARIO, clock_speed=0) as sandbox:
        before = sandbox.admin("GET", "clock")
        after = sandbox.advance_clock(30)
        assert after["monotonic"] - before["monotonic"] >= 30
        sandbox.advance_clock(5)
        sandbox.wait_for_pipelines()
        mr = (
            gitlab.Gitlab(sandbox.url, private_token=sandbox.token_for("bot"))
            .projects.get("g/p")
            .mergerequests.get(1)
        )
        mr.merge()
        sandbox.catch_up()  # the merge's push reactions (and the green-main record) follow
        sandbox.advance_clock(5)
        sandbox.wait_for_pipelines()
        report = sandbox.green_main()["projects"][0]
        assert report["project"] == "g/p"
        assert [tip["how"] for tip in report["tips"]] == ["merge"]
        assert report["tips"][0]["ci"] == "passed"


def test_reset_forgets_everything() -> None:
    with run_sandbox(SCENARIO) as sandbox:
        sandbox.admin("POST", "reset")
        assert sandbox.stats()["projects"] == 0
        gone = httpx.get(
            f"{sandbox.api_url}/user", headers={"PRIVATE-TOKEN": sandbox.token_for("bot")}
        )
        assert gone.status_code == 401


def test_pipelines_endpoint_tells_when_each_pipeline_ran() -> None:
    """Benchmarks add up runner time from these simulated start and finish times."""
    with run_sandbox({**SCENARIO, "ci": {"duration_seconds": [7, 7]}}, clock_speed=0) as sandbox:
        waiting = sandbox.pipelines()
        assert waiting
        assert waiting[0]["finished_at"] is None
        sandbox.advance_clock(10)
        finished = sandbox.wait_for_pipelines()
        listed = sandbox.pipelines()
        assert [p["id"] for p in listed] == [p["id"] for p in finished]
        first = listed[0]
        assert first["status"] == "success"
        assert first["created_at"] <= first["started_at"] < first["finished_at"]
        assert first["duration"] == 7
        assert first["attempt"] == 1
