"""``kit.refusals``: the audit details of a refused action."""

from __future__ import annotations

from merge_assist.kit.errors import Conflict, TooManyRequests
from merge_assist.kit.refusals import MAX_DETAIL_CHARS, refusal_details


def test_the_details_name_the_refusal_and_keep_what_the_caller_adds() -> None:
    refusal = Conflict("Alice holds the lock.")
    assert refusal_details(refusal, vault_id=3) == {
        "vault_id": 3,
        "refusal": "conflict",
        "detail": "Alice holds the lock.",
    }


def test_a_long_sentence_is_cut() -> None:
    refusal = TooManyRequests("x" * 2000, retry_after=5)
    details = refusal_details(refusal, reason="throttled")
    assert details["reason"] == "throttled"
    assert details["refusal"] == "too_many_requests"
    assert len(details["detail"]) == MAX_DETAIL_CHARS
