"""Text or binary is decided by content; binary files get a metadata diff only."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from merge_assist.vault.diffing import MAX_TEXT_DIFF_BYTES, VersionFacts, compare, is_text

WHEN = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def _facts(version: str, content: bytes, author: str = "Alice") -> VersionFacts:
    import hashlib

    return VersionFacts(version, len(content), hashlib.sha256(content).hexdigest(), author, WHEN)


def test_is_text_by_content_not_extension() -> None:
    assert is_text(b"G21\nG0 X0\n")
    assert is_text("Ünïcode comment\n".encode())
    assert is_text(b"")
    assert not is_text(b"G21\x00binary")
    assert not is_text(b"\xff\xfe\xfa")


def test_text_files_get_a_unified_diff() -> None:
    old, new = b"G0 X0\nG1 X1\n", b"G0 X0\nG1 X2\n"
    result = compare("a.nc", _facts("1" * 40, old), old, _facts("2" * 40, new, "Bob"), new)
    assert result.kind == "text"
    assert result.unified is not None
    assert "-G1 X1\n+G1 X2\n" in result.unified
    assert "a/a.nc@111111111111" in result.unified
    changed = {c.field for c in result.changes if c.changed}
    assert changed == {"content_sha256", "author"}
    assert not result.identical


def test_binary_files_get_metadata_only() -> None:
    old, new = b"\x00\x01abc", b"\x00\x01abcd"
    result = compare("a.mcam", _facts("1" * 40, old), old, _facts("2" * 40, new), new)
    assert result.kind == "binary"
    assert result.unified is None
    sizes = next(c for c in result.changes if c.field == "size")
    assert (sizes.old, sizes.new, sizes.changed) == (5, 6, True)


def test_huge_text_is_compared_by_metadata() -> None:
    big = b"G0\n" * (MAX_TEXT_DIFF_BYTES // 3 + 1)
    result = compare("a.nc", _facts("1" * 40, b"G0\n"), b"G0\n", _facts("2" * 40, big), big)
    assert result.kind == "too_large"
    assert result.unified is None


@given(st.binary(max_size=200), st.binary(max_size=200))
def test_binary_bytes_never_reach_a_text_diff(old: bytes, new: bytes) -> None:
    result = compare("x.mcam", _facts("1" * 40, old), old, _facts("2" * 40, new), new)
    if b"\x00" in old or b"\x00" in new:
        assert result.kind == "binary"
        assert result.unified is None
    assert result.identical == (old == new)
