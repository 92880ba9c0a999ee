"""File names of the vault: what is accepted and the sentence for what is not."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from merge_assist.kit.errors import Unprocessable
from merge_assist.vault.names import clean_name, parse_extensions

ALLOWED = parse_extensions(".mcam,.nc,.tap,.emcam,.vnc")


def test_parse_extensions_normalises() -> None:
    assert parse_extensions(" MCAM, .nc ,,tap") == frozenset({".mcam", ".nc", ".tap"})
    assert frozenset({".mcam", ".nc", ".tap", ".emcam", ".vnc"}) == ALLOWED


@pytest.mark.parametrize(
    "name",
    ["part.mcam", "lathe/shaft.NC", "a b/c-d_e.tap", "Ünïcode/ファイル.emcam", "x" * 250 + ".vnc"],
)
def test_good_names_pass(name: str) -> None:
    assert clean_name(name, ALLOWED) == name


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("", "empty"),
        ("../up.nc", "'..'"),
        ("a/./b.nc", "'.'"),
        ("a//b.nc", "empty"),
        ("/abs.nc", "absolute"),
        ("C:/win.nc", "absolute"),
        ("a\\b.nc", "'\\'"),
        ("tab\there.nc", "control"),
        ("nul\x00.nc", "control"),
        ("rtl\u202e.nc", "control"),
        ("x" * 256 + ".nc", "at most 255"),
        ("a/" * 20 + "b.nc", "folders deep"),
        ("readme.txt", "allowed extensions"),
        (".nc", "allowed extensions"),
        (".git/config.nc", "reserved"),
        ("trailing.nc.", "end with"),
        ("lead /a.nc", "space"),
    ],
)
def test_bad_names_are_refused_with_a_sentence(name: str, words: str) -> None:
    with pytest.raises(Unprocessable) as refused:
        clean_name(name, ALLOWED)
    assert words in refused.value.message


@given(st.text(max_size=300))
def test_accepted_names_never_escape_the_vault(name: str) -> None:
    try:
        cleaned = clean_name(name, ALLOWED)
    except Unprocessable:
        return
    parts = cleaned.split("/")
    assert ".." not in parts
    assert "" not in parts
    assert not cleaned.startswith("/")
    assert all(len(part) <= 255 for part in parts)
    assert all(ch >= " " for ch in cleaned)
    assert "." + cleaned.rsplit(".", 1)[-1].lower() in ALLOWED
