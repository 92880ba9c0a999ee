"""Fault injection middleware on a real ASGI app: rates, statuses, time-outs, exclusions."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from gitlab_sandbox.faults import FaultInjector, FaultMiddleware, FaultRule


def build_app(injector: FaultInjector) -> FastAPI:
    app = FastAPI()

    @app.get("/api/v4/projects/{project_id}")
    async def project(project_id: int) -> dict[str, int]:
        return {"id": project_id}

    @app.put("/api/v4/projects/{project_id}")
    async def edit(project_id: int) -> dict[str, int]:
        return {"id": project_id}

    @app.post("/-/sandbox/faults")
    async def admin() -> dict[str, bool]:
        return {"ok": True}

    app.add_middleware(FaultMiddleware, injector=injector)
    return app


@pytest.fixture
def injector() -> FaultInjector:
    return FaultInjector(seed=5)


@pytest.fixture
async def client(injector: FaultInjector) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=build_app(injector))
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as http:
        yield http


async def test_no_rules_no_faults(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v4/projects/1")
    assert response.status_code == 200
    assert response.json() == {"id": 1}


async def test_error_rate_one_answers_the_configured_status(
    client: httpx.AsyncClient, injector: FaultInjector
) -> None:
    injector.set_rules([FaultRule(path=r"^/api/v4/projects/\d+$", error_rate=1.0, statuses=(503,))])
    responses = [await client.get("/api/v4/projects/1") for _ in range(5)]
    assert [r.status_code for r in responses] == [503] * 5
    assert responses[0].json() == {"message": "503 Service Unavailable"}
    counters = injector.snapshot()["rules"][0]["counters"]
    assert counters["matched"] == 5
    assert counters["errors"] == {"503": 5}


async def test_429_is_gitlabs_throttled_answer(
    client: httpx.AsyncClient, injector: FaultInjector
) -> None:
    """``lib/gitlab/rack_attack.rb``: ``text/plain`` "Retry later" with
    ``throttled_response_headers`` (``RateLimit-*``) and ``Retry-After``."""
    injector.set_rules([FaultRule(path="projects", error_rate=1.0, statuses=(429,), retry_after=7)])
    before = int(time.time())
    response = await client.get("/api/v4/projects/1")
    assert response.status_code == 429
    assert response.headers["content-type"] == "text/plain"
    assert response.text == "Retry later\n"
    assert response.headers["retry-after"] == "7"
    assert response.headers["ratelimit-remaining"] == "0"
    assert int(response.headers["ratelimit-limit"]) < int(response.headers["ratelimit-observed"])
    assert response.headers["ratelimit-name"] == "throttle_authenticated_api"
    assert before + 7 <= int(response.headers["ratelimit-reset"]) <= before + 8
    assert response.headers["ratelimit-resettime"].endswith(" GMT")


async def test_method_filter_and_first_rule_wins(
    client: httpx.AsyncClient, injector: FaultInjector
) -> None:
    injector.set_rules(
        [
            FaultRule(path="projects", method="PUT", error_rate=1.0, statuses=(500,)),
            FaultRule(path="projects", error_rate=1.0, statuses=(502,)),
        ]
    )
    assert (await client.put("/api/v4/projects/1")).status_code == 500
    assert (await client.get("/api/v4/projects/1")).status_code == 502


async def test_admin_paths_are_never_faulted(
    client: httpx.AsyncClient, injector: FaultInjector
) -> None:
    injector.set_rules([FaultRule(path=".*", error_rate=1.0, timeout_rate=1.0)])
    response = await client.post("/-/sandbox/faults")
    assert response.status_code == 200
    assert injector.snapshot()["rules"][0]["counters"]["matched"] == 0


async def test_error_rate_is_roughly_honoured_and_seeded(client: httpx.AsyncClient) -> None:
    sequences = []
    for _ in range(2):
        injector = FaultInjector([FaultRule(path="projects", error_rate=0.3)], seed=9)
        transport = httpx.ASGITransport(app=build_app(injector))
        async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as http:
            sequences.append(
                [(await http.get("/api/v4/projects/2")).status_code for _ in range(400)]
            )
    assert sequences[0] == sequences[1]
    failures = sum(code != 200 for code in sequences[0])
    assert 80 < failures < 160
    assert {code for code in sequences[0] if code != 200} <= {500, 502, 503}


async def test_timeouts_answer_504_and_latency_passes_through(
    client: httpx.AsyncClient, injector: FaultInjector
) -> None:
    injector.set_rules(
        [
            FaultRule(path="projects/1$", timeout_rate=1.0, timeout_seconds=0.01),
            FaultRule(path="projects/2$", latency_ms=5),
        ]
    )
    timed_out = await client.get("/api/v4/projects/1")
    delayed = await client.get("/api/v4/projects/2")
    assert timed_out.status_code == 504
    assert delayed.status_code == 200
    rules = injector.snapshot()["rules"]
    assert rules[0]["counters"]["timeouts"] == 1
    assert rules[1]["counters"]["delayed"] == 1


def test_configure_from_json_and_reset(injector: FaultInjector) -> None:
    injector.configure(
        {
            "rules": [
                {
                    "path": "merge_requests",
                    "method": "PUT",
                    "error_rate": 0.5,
                    "statuses": [429],
                    "retry_after": 3,
                }
            ],
            "seed": 77,
            "slow_rebase_seconds": 120,
            "long_checking_seconds": 30.5,
        }
    )
    snapshot = injector.snapshot()
    assert snapshot["seed"] == 77
    assert snapshot["rules"][0]["statuses"] == [429]
    assert injector.slow_rebase.seconds == 120
    assert injector.long_checking.seconds == 30.5
    injector.reset()
    assert injector.rules == []
    assert injector.slow_rebase.seconds == 0


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"rules": [{"path": "("}]}, "not a valid regex"),
        ({"rules": [{"path": "x", "error_rate": 2}]}, "between 0 and 1"),
        ({"rules": [{"path": "x", "statuses": [404]}]}, "statuses must be chosen"),
        ({"rules": [{"path": "x", "statuses": 500}]}, "list of HTTP status codes"),
        ({"rules": [{"path": "x", "colour": "red"}]}, "Unknown fault rule fields: colour"),
        ({"rules": [{"method": "GET"}]}, "needs a 'path'"),
        ({"rules": {}}, "rules must be a list"),
        ({"seed": "x"}, "seed must be an integer"),
        ({"slow_rebase_seconds": -1}, "at least 0"),
        ({"speed": 3}, "Unknown fault settings: speed"),
    ],
)
def test_bad_settings_are_refused_with_a_sentence(
    injector: FaultInjector, settings: dict[str, object], message: str
) -> None:
    injector.set_rules([FaultRule(path="keep")])
    with pytest.raises(ValueError, match=message):
        injector.configure(settings)
    assert [rule.path for rule in injector.rules] == ["keep"]  # nothing half-applied
