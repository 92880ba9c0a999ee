from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from merge_assist.audit import chain
from merge_assist.audit.chain import GENESIS_HASH, ChainWalker, EntryFields, compute_hash

FIELDS = EntryFields(
    occurred_at=datetime(2026, 1, 2, 3, 4, 5, 600_000, tzinfo=UTC),
    actor_id=7,
    actor_name="alice",
    action="vault.checkout",
    target_type="file",
    target_id="42",
    success=True,
    details={"path": "a/b.psd", "nested": {"n": 1}},
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=10,
)


def test_hash_is_deterministic_and_hex() -> None:
    first = compute_hash(FIELDS, GENESIS_HASH)
    assert first == compute_hash(dataclasses.replace(FIELDS), GENESIS_HASH)
    assert len(first) == 64
    int(first, 16)


def test_same_instant_in_another_timezone_hashes_the_same() -> None:
    shifted = FIELDS.occurred_at.astimezone(timezone(timedelta(hours=2)))
    assert compute_hash(dataclasses.replace(FIELDS, occurred_at=shifted), "a" * 64) == (
        compute_hash(FIELDS, "a" * 64)
    )


@pytest.mark.parametrize(
    "change",
    [
        {"occurred_at": FIELDS.occurred_at + timedelta(microseconds=1)},
        {"actor_id": 8},
        {"actor_id": None},
        {"actor_name": "mallory"},
        {"action": "vault.checkin"},
        {"target_type": "lock"},
        {"target_id": "43"},
        {"success": False},
        {"details": {"path": "a/b.psd", "nested": {"n": 2}}},
    ],
)
def test_every_field_is_sealed(change: dict[str, Any]) -> None:
    assert compute_hash(dataclasses.replace(FIELDS, **change), GENESIS_HASH) != compute_hash(
        FIELDS, GENESIS_HASH
    )


def test_prev_hash_is_sealed() -> None:
    assert compute_hash(FIELDS, GENESIS_HASH) != compute_hash(FIELDS, "f" * 64)


@settings(max_examples=60, deadline=None)
@given(details=st.dictionaries(st.text(max_size=8), json_values, max_size=4))
def test_normalised_details_hash_like_their_round_trip(details: dict[str, Any]) -> None:
    clean, _dropped = chain.normalise_details(details)
    again, dropped_again = chain.normalise_details(clean)
    assert again == clean
    assert dropped_again == []


@settings(max_examples=60, deadline=None)
@given(details=st.dictionaries(st.text(max_size=12), json_values, max_size=5))
def test_no_secret_named_key_survives_at_any_depth(details: dict[str, Any]) -> None:
    clean, _dropped = chain.normalise_details({"outer": details, **details})

    def keys(value: Any) -> list[str]:
        found: list[str] = []
        if isinstance(value, dict):
            for key, item in value.items():
                found += [key, *keys(item)]
        elif isinstance(value, list):
            for item in value:
                found += keys(item)
        return found

    assert not any(chain.is_secret_key(key) for key in keys(clean))


def test_secret_keys_are_dropped_and_reported() -> None:
    clean, dropped = chain.normalise_details(
        {
            "password": "hunter2",
            "user": {"name": "bob", "Refresh_Token": "x", "token_id": 9},
            "items": [{"api_key": "k", "ok": 1}],
            "passed": True,
        }
    )
    assert clean == {"user": {"name": "bob", "token_id": 9}, "items": [{"ok": 1}], "passed": True}
    assert sorted(dropped) == ["items[0].api_key", "password", "user.Refresh_Token"]


def test_non_json_details_are_refused() -> None:
    with pytest.raises(TypeError, match="JSON-serialisable"):
        chain.normalise_details({"when": datetime.now(UTC)})
    with pytest.raises(TypeError, match="JSON-serialisable"):
        chain.normalise_details({"ratio": float("nan")})


@pytest.mark.parametrize("action", ["vault.checkout", "auth.login", "merge.batch_started"])
def test_dotted_actions_are_accepted(action: str) -> None:
    chain.validate_action(action)


@pytest.mark.parametrize("action", ["", "Vault.Checkout", "vault checkout", ".x", "x" * 101])
def test_other_actions_are_refused(action: str) -> None:
    with pytest.raises(ValueError, match="dotted"):
        chain.validate_action(action)


def _sealed_chain(length: int) -> list[tuple[int, EntryFields, str, str]]:
    rows, prev = [], GENESIS_HASH
    for index in range(1, length + 1):
        fields = dataclasses.replace(FIELDS, target_id=str(index))
        digest = compute_hash(fields, prev)
        rows.append((index, fields, prev, digest))
        prev = digest
    return rows


def test_walker_accepts_a_sealed_chain() -> None:
    walker = ChainWalker()
    assert all(walker.check(*row) is None for row in _sealed_chain(5))
    assert walker.checked == 5


def test_walker_names_the_entry_after_a_gap() -> None:
    rows = _sealed_chain(4)
    del rows[1]
    walker = ChainWalker()
    assert walker.check(*rows[0]) is None
    broken = walker.check(*rows[1])
    assert broken is not None
    assert broken.entry_id == 3
    assert "does not link to entry #1" in broken.reason
