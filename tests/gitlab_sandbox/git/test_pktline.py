"""pkt-line framing, receive-pack command parsing and refusal reports (pure)."""

from __future__ import annotations

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gitlab_sandbox.git.pktline import (
    FLUSH,
    PktLineError,
    PushCommands,
    parse_push_commands,
    pkt_line,
    read_pkt_line,
    refusal_report,
    sideband,
)

OLD = "a" * 40
NEW = "b" * 40


@given(st.binary(max_size=2000))
def test_pkt_line_round_trip(payload: bytes) -> None:
    stream = io.BytesIO(pkt_line(payload) + FLUSH)
    assert read_pkt_line(stream) == payload
    assert read_pkt_line(stream) is None


def test_pkt_line_length_is_hex_including_header() -> None:
    assert pkt_line(b"unpack ok\n") == b"000eunpack ok\n"


@pytest.mark.parametrize("raw", [b"00", b"zzzz", b"0003", b"0010short"])
def test_malformed_packets_are_refused(raw: bytes) -> None:
    with pytest.raises(PktLineError):
        read_pkt_line(io.BytesIO(raw))


def test_parse_push_commands_with_capabilities_and_shallow() -> None:
    body = (
        pkt_line(f"shallow {OLD}".encode())
        + pkt_line(
            f"{OLD} {NEW} refs/heads/main\0 report-status side-band-64k agent=git/2".encode()
        )
        + pkt_line(f"{'0' * 40} {NEW} refs/heads/new\n".encode())
        + FLUSH
        + b"PACK..."
    )
    stream = io.BytesIO(body)
    parsed = parse_push_commands(stream)
    assert parsed.commands == [(OLD, NEW, "refs/heads/main"), ("0" * 40, NEW, "refs/heads/new")]
    assert parsed.capabilities == {"report-status", "side-band-64k", "agent=git/2"}
    assert stream.read() == b"PACK..."


def test_parse_refuses_garbage_commands() -> None:
    with pytest.raises(PktLineError):
        parse_push_commands(io.BytesIO(pkt_line(b"hello") + FLUSH))


def test_refusal_report_with_sideband() -> None:
    push = PushCommands([(OLD, NEW, "refs/heads/main")], {"report-status", "side-band-64k"})
    report = refusal_report(push, "You are not allowed to push code to protected branches.")
    notice = pkt_line(b"\x02GitLab: You are not allowed to push code to protected branches.\n")
    status = pkt_line(b"unpack ok\n") + pkt_line(b"ng refs/heads/main pre-receive hook declined\n")
    assert report == notice + pkt_line(b"\x01" + status + FLUSH) + FLUSH


def test_refusal_report_without_sideband_puts_reason_in_ng_line() -> None:
    push = PushCommands([(OLD, NEW, "refs/heads/main")], {"report-status"})
    report = refusal_report(push, "No.")
    assert (
        report == pkt_line(b"unpack ok\n") + pkt_line(b"ng refs/heads/main GitLab: No.\n") + FLUSH
    )


def test_sideband_splits_long_data() -> None:
    framed = sideband(1, b"x" * 70000)
    stream = io.BytesIO(framed)
    first, second = read_pkt_line(stream), read_pkt_line(stream)
    assert first is not None
    assert second is not None
    assert first[0] == second[0] == 1
    assert len(first) - 1 + len(second) - 1 == 70000
