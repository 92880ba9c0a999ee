from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from merge_assist.ingest.webhooks import MAX_KEY_CHARS, idempotency_key, parse_delivery
from merge_assist.kit.errors import BadRequest


def test_note_on_a_merge_request_names_its_iid() -> None:
    body = b'{"object_kind": "note", "project": {"id": 5}, "merge_request": {"iid": 12}}'
    delivery = parse_delivery({}, body)
    assert (delivery.gitlab_project_id, delivery.kind, delivery.object_iid) == (5, "note", 12)
    assert delivery.wakes_the_queue


def test_strange_kinds_become_unknown() -> None:
    delivery = parse_delivery({}, b'{"object_kind": "DROP TABLE x", "project": {"id": 5}}')
    assert delivery.kind == "unknown"
    assert not delivery.wakes_the_queue


def test_body_hash_is_the_last_resort() -> None:
    assert idempotency_key({}, b"abc") == "body:" + hashlib.sha256(b"abc").hexdigest()


@given(st.text(min_size=1, max_size=1000))
def test_any_key_fits_the_column(value: str) -> None:
    key = idempotency_key({"idempotency-key": value}, b"{}")
    assert 0 < len(key) <= MAX_KEY_CHARS
    assert key.isprintable()


def test_bodies_nested_too_deeply_are_a_bad_request() -> None:
    """Issue 13, item 8: a RecursionError in the JSON parser was a 500."""
    for body in (b"[" * 100_000, b'{"a":' * 50_000):
        with pytest.raises(BadRequest) as refused:
            parse_delivery({}, body)
        assert "nested too deeply" in refused.value.message
