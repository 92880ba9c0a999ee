from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from merge_assist.audit import chain
from merge_assist.audit.chain import (
    GENESIS_HASH,
    KEYED_SCHEME,
    UNKEYED_SCHEME,
    ChainWalker,
    EntryFields,
    StoredLink,
    compute_hash,
    compute_keyed_hash,
)

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


KEY = b"k" * 32


def _sealed_chain(
    length: int, *, keyed_from: int = 1, key: bytes = KEY
) -> list[tuple[StoredLink, EntryFields]]:
    """``length`` linked entries; unkeyed before ``keyed_from``, keyed from it."""
    rows, prev = [], GENESIS_HASH
    for index in range(1, length + 1):
        fields = dataclasses.replace(FIELDS, target_id=str(index))
        if index >= keyed_from:
            scheme, digest = KEYED_SCHEME, compute_keyed_hash(fields, prev, key)
        else:
            scheme, digest = UNKEYED_SCHEME, compute_hash(fields, prev)
        rows.append((StoredLink(index, scheme, prev, digest), fields))
        prev = digest
    return rows


def test_walker_accepts_a_sealed_chain() -> None:
    walker = ChainWalker(KEY)
    assert all(walker.check(*row) is None for row in _sealed_chain(5))
    assert walker.checked == 5
    assert (walker.unkeyed, walker.first_keyed_id) == (0, 1)


def test_walker_names_the_entry_after_a_gap() -> None:
    rows = _sealed_chain(4)
    del rows[1]
    walker = ChainWalker(KEY)
    assert walker.check(*rows[0]) is None
    broken = walker.check(*rows[1])
    assert broken is not None
    assert broken.entry_id == 3
    assert "does not link to entry #1" in broken.reason


def test_keyed_hashes_need_the_key() -> None:
    """A chain re-hashed under another key (or none) does not verify under the audit key."""
    walker = ChainWalker(KEY)
    broken = walker.check(*_sealed_chain(1, key=b"x" * 32)[0])
    assert broken is not None
    assert "audit key" in broken.reason
    assert compute_keyed_hash(FIELDS, GENESIS_HASH, KEY) != compute_hash(FIELDS, GENESIS_HASH)


def test_walker_checks_old_unkeyed_entries_then_keyed_ones() -> None:
    walker = ChainWalker(KEY)
    assert all(walker.check(*row) is None for row in _sealed_chain(5, keyed_from=4))
    assert (walker.checked, walker.unkeyed, walker.first_keyed_id) == (5, 3, 4)


def test_an_unkeyed_entry_after_keyed_ones_is_a_break() -> None:
    rows = _sealed_chain(3)
    last_link, last_fields = rows[2]
    forged = compute_hash(last_fields, last_link.prev_hash)
    rows[2] = (StoredLink(3, UNKEYED_SCHEME, last_link.prev_hash, forged), last_fields)
    walker = ChainWalker(KEY)
    assert walker.check(*rows[0]) is None
    assert walker.check(*rows[1]) is None
    broken = walker.check(*rows[2])
    assert broken is not None
    assert broken.entry_id == 3
    assert "written without the audit key" in broken.reason


def test_an_unknown_scheme_is_a_break() -> None:
    link, fields = _sealed_chain(1)[0]
    broken = ChainWalker(KEY).check(StoredLink(1, 7, link.prev_hash, link.entry_hash), fields)
    assert broken is not None
    assert "unknown hash scheme 7" in broken.reason
