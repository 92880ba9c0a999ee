"""The merge trains API on a tier without merge trains (``ee/lib/api/merge_trains.rb``)."""

from __future__ import annotations

from gitlab_sandbox.testing import RunningSandbox
from tests.gitlab_sandbox.api.test_pipeline_statuses import _http


def test_the_merge_trains_api_is_forbidden_on_this_tier(sandbox: RunningSandbox) -> None:
    """``ee/lib/api/merge_trains.rb`` authorizes with ``read_merge_train``: 403 without the
    Premium feature; a project the caller cannot see stays a 404."""
    with _http(sandbox, "alice") as http:
        for path in ("", "/main", "/merge_requests/1"):
            answer = http.get(f"/projects/acme%2Fapp/merge_trains{path}")
            assert answer.status_code == 403
            assert answer.json() == {"message": "403 Forbidden"}
        assert http.post("/projects/acme%2Fapp/merge_trains/merge_requests/1").status_code == 403
    with _http(sandbox, "outsider") as http:
        assert http.get("/projects/acme%2Fapp/merge_trains").status_code == 404
