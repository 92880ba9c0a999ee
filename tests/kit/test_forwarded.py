"""Which address a request comes from: X-Forwarded-For only from trusted proxies."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from merge_assist.kit.forwarded import client_address, parse_trusted_proxies
from merge_assist.kit.settings import Settings

PROXIES = parse_trusted_proxies("10.0.0.1, 192.168.0.0/16, ::1")


def test_without_trusted_proxies_the_peer_counts() -> None:
    assert client_address("10.0.0.1", ["203.0.113.9"], ()) == "10.0.0.1"


def test_an_untrusted_peer_cannot_choose_its_address() -> None:
    assert client_address("203.0.113.1", ["198.51.100.1"], PROXIES) == "203.0.113.1"


def test_the_nearest_untrusted_hop_is_the_client() -> None:
    # The client wrote "1.2.3.4" itself; the proxies appended what they saw.
    headers = ["1.2.3.4, 203.0.113.9", "192.168.1.1"]
    assert client_address("10.0.0.1", headers, PROXIES) == "203.0.113.9"


def test_a_garbled_hop_stops_at_the_proxy() -> None:
    assert client_address("10.0.0.1", ["not-an-ip"], PROXIES) == "10.0.0.1"
    assert client_address("::1", [], PROXIES) == "::1"


def test_only_proxies_in_the_chain_gives_the_peer() -> None:
    assert client_address("10.0.0.1", ["192.168.3.3"], PROXIES) == "10.0.0.1"


def test_a_bad_trusted_proxies_setting_is_refused_with_a_sentence() -> None:
    with pytest.raises(ValidationError, match="not an IP address or network"):
        Settings(trusted_proxies="10.0.0.1, proxy.example", _env_file=None)  # type: ignore[call-arg]
