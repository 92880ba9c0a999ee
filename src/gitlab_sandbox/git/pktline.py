"""git's pkt-line framing and the receive-pack request/report formats (pure, no I/O)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import IO

FLUSH = b"0000"
_MAX_PAYLOAD = 65516  # 65520-byte packets minus the 4-byte length
_SIDEBAND_PAYLOAD = 65515  # one more byte for the band number
_COMMAND = re.compile(rb"^([0-9a-f]{40}) ([0-9a-f]{40}) (\S+)$")


class PktLineError(ValueError):
    """The request is not well-formed pkt-line data."""


def pkt_line(payload: bytes) -> bytes:
    """One pkt-line packet (4 hex digits of length, then the payload)."""
    if len(payload) > _MAX_PAYLOAD:
        raise PktLineError("pkt-line payload too long")
    return f"{len(payload) + 4:04x}".encode() + payload


def read_pkt_line(stream: IO[bytes]) -> bytes | None:
    """The next packet's payload, or None for a flush packet."""
    header = stream.read(4)
    if len(header) != 4:
        raise PktLineError("the request ended inside a pkt-line")
    try:
        length = int(header, 16)
    except ValueError as error:
        raise PktLineError("bad pkt-line length") from error
    if length == 0:
        return None
    if length < 4:
        raise PktLineError("unexpected special pkt-line packet")
    payload = stream.read(length - 4)
    if len(payload) != length - 4:
        raise PktLineError("the request ended inside a pkt-line")
    return payload


@dataclass
class PushCommands:
    """The ref updates a ``git push`` asks for, and the capabilities its client announced."""

    commands: list[tuple[str, str, str]] = field(default_factory=list)  # (old, new, ref)
    capabilities: set[str] = field(default_factory=set)
    options: list[str] = field(default_factory=list)  # push options (``git push -o``)


def parse_push_commands(stream: IO[bytes]) -> PushCommands:
    """Read the command section of a receive-pack request (up to its flush packet)."""
    parsed = PushCommands()
    first = True
    while (payload := read_pkt_line(stream)) is not None:
        line = payload.rstrip(b"\n")
        if line.startswith(b"shallow "):
            continue
        if first:
            line, _, capabilities = line.partition(b"\0")
            parsed.capabilities = set(capabilities.decode(errors="replace").split())
            first = False
        match = _COMMAND.match(line)
        if match is None:
            raise PktLineError("bad receive-pack command")
        old, new, ref = (part.decode(errors="surrogateescape") for part in match.groups())
        parsed.commands.append((old, new, ref))
    if "push-options" in parsed.capabilities and parsed.commands:
        # The options follow the commands, each in a packet, up to their own flush.
        while (payload := read_pkt_line(stream)) is not None:
            parsed.options.append(payload.rstrip(b"\n").decode(errors="replace"))
    return parsed


def sideband(band: int, data: bytes, *, chunk: int = _SIDEBAND_PAYLOAD) -> bytes:
    """``data`` wrapped in side-band packets of one band (1 data, 2 progress, 3 error)."""
    return b"".join(
        pkt_line(bytes([band]) + data[start : start + chunk])
        for start in range(0, len(data), chunk)
    )


def refusal_report(push: PushCommands, message: str) -> bytes:
    """A receive-pack result refusing every ref the way GitLab's pre-receive check does:
    ``message`` on the remote's stderr band, then ``ng <ref> pre-receive hook declined``."""
    wants_report = bool({"report-status", "report-status-v2"} & push.capabilities)
    uses_sideband = bool({"side-band-64k", "side-band"} & push.capabilities)
    reason = "pre-receive hook declined" if uses_sideband else f"GitLab: {message}"
    report = b""
    if wants_report:
        report = pkt_line(b"unpack ok\n")
        for _, _, ref in push.commands:
            report += pkt_line(f"ng {ref} {reason}\n".encode(errors="surrogateescape"))
        report += FLUSH
    if not uses_sideband:
        return report
    chunk = _SIDEBAND_PAYLOAD if "side-band-64k" in push.capabilities else 995
    notice = f"GitLab: {message}\n".encode()
    return sideband(2, notice, chunk=chunk) + sideband(1, report, chunk=chunk) + FLUSH
