"""The address a request comes from, believing ``X-Forwarded-For`` only from trusted proxies.

Behind a reverse proxy every request arrives from the proxy's address, so throttling by the
peer address would lock every user out together. The proxy names the real client in
``X-Forwarded-For``, but anybody can send that header: it is believed only when the peer is
one of ``MERGE_ASSIST_TRUSTED_PROXIES`` (none by default). Then the header is read from the
right (the hop the nearest proxy added) and the first address that is not itself a trusted
proxy is the client; everything to its left was written by the client and is ignored.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from starlette.requests import HTTPConnection

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_trusted_proxies(text: str) -> tuple[IPNetwork, ...]:
    """``"10.0.0.1, 192.168.0.0/16"`` into networks; ``ValueError`` with a sentence otherwise."""
    networks: list[IPNetwork] = []
    for entry in (part.strip() for part in text.split(",")):
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError as exc:
            raise ValueError(
                f"{entry!r} in the trusted proxies is not an IP address or network "
                "(e.g. '10.0.0.1, 192.168.0.0/16')"
            ) from exc
    return tuple(networks)


def _address(text: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _trusted(address: IPAddress | None, networks: Iterable[IPNetwork]) -> bool:
    return address is not None and any(address in network for network in networks)


def client_address(
    peer: str | None, forwarded_for: Iterable[str], trusted: tuple[IPNetwork, ...]
) -> str | None:
    """The client's address: ``peer``, or from ``forwarded_for`` (every ``X-Forwarded-For``
    header, in order) when ``peer`` is a trusted proxy."""
    if peer is None or not trusted or not _trusted(_address(peer), trusted):
        return peer
    hops = [hop.strip() for header in forwarded_for for hop in header.split(",")]
    for hop in reversed([hop for hop in hops if hop]):
        address = _address(hop)
        if address is None:
            return peer  # a garbled hop: do not guess beyond the proxy
        if not _trusted(address, trusted):
            return str(address)
    return peer


def connection_address(connection: HTTPConnection, trusted: tuple[IPNetwork, ...]) -> str:
    """The client address of a request or a socket (``client_address``); "unknown" when the
    server was given no peer (a test transport, a Unix socket)."""
    peer = connection.client.host if connection.client is not None else None
    forwarded = connection.headers.getlist("x-forwarded-for")
    return client_address(peer, forwarded, trusted) or "unknown"
