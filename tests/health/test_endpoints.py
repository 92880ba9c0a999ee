from __future__ import annotations

import httpx


async def test_live(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_ready_reports_database(client: httpx.AsyncClient, db_kind: str) -> None:
    response = await client.get("/api/health/ready")
    assert response.status_code == 200
    expected = "sqlite" if db_kind == "sqlite" else "postgresql"
    assert response.json()["database"] == expected


async def test_metrics_counts_requests(client: httpx.AsyncClient) -> None:
    await client.get("/api/health")
    body = (await client.get("/metrics")).text
    assert 'merge_assist_http_requests_total{method="GET",route="/api/health",status="200"}' in body


async def test_unknown_route_is_json_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/nope")
    assert response.status_code == 404
    assert response.json()["detail"] == "Not Found"


def test_validation_sentences_keep_field_names_that_look_like_locations() -> None:
    from merge_assist.kit.web import _describe_validation

    sentence = _describe_validation(
        [{"loc": ("body", "body"), "msg": "String should have at most 5000 characters"}]
    )
    assert sentence == "Invalid request: body: String should have at most 5000 characters"
    assert _describe_validation([{"loc": ("query", "limit"), "msg": "too big"}]) == (
        "Invalid request: limit: too big"
    )
