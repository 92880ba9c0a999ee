"""File names of the vault: what is accepted and the sentence for what is not."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from merge_assist.gitlab.paths import clean_folder
from merge_assist.kit.errors import Unprocessable
from merge_assist.vault.names import case_clash, clean_name, parse_extensions

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
        # Issue 13, item 9: names Windows cannot create (shops clone vaults on Windows).
        ("CON.nc", "reserved device name"),
        ("con.nc", "reserved device name"),
        ("aux.nc", "reserved device name"),
        ("Nul.tar.nc", "reserved device name"),
        ("com1.nc", "reserved device name"),
        ("LPT9.tap", "reserved device name"),
        ("lpt\u00b9.nc", "reserved device name"),
        ("prn/part.nc", "reserved device name"),
        ("con /part.nc", "space"),
        ("ab:c.nc", "Windows"),
        ("what?.nc", "Windows"),
        ("star*.nc", "Windows"),
        ('quote".nc', "Windows"),
        ("a<b>.nc", "Windows"),
        ("pipe|.nc", "Windows"),
        ("folder./a.nc", "end with"),
        ("folder /a.nc", "end with"),
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


@pytest.mark.parametrize(
    "name", ["console.nc", "com10.nc", "lpt0.nc", "auxiliary/a.nc", "icon.nc", "nul-part.nc"]
)
def test_names_merely_like_devices_pass(name: str) -> None:
    assert clean_name(name, ALLOWED) == name


@pytest.mark.parametrize("folder", ["CON", "cnc/aux", "a:b", "cnc/programs.", "x/y?"])
def test_vault_folders_windows_cannot_create_are_refused(folder: str) -> None:
    with pytest.raises(Unprocessable) as refused:
        clean_folder(folder)
    assert "Windows" in refused.value.message


def test_case_clash_names_the_existing_file() -> None:
    existing = ["Mill/Part.nc", "lathe/shaft.nc"]
    assert case_clash("mill/part.nc", existing) == "Mill/Part.nc"
    assert case_clash("MILL/other.nc", existing) == "Mill/Part.nc"  # the folder, too
    assert case_clash("lathe/SHAFT.NC", existing) == "lathe/shaft.nc"
    assert case_clash("lathe/other.nc", existing) is None
    assert case_clash("Mill/Part.nc", existing) is None  # the same file: another rule
    assert case_clash("millstone/a.nc", existing) is None


@given(st.text(max_size=60))
def test_accepted_names_are_creatable_on_windows(name: str) -> None:
    try:
        cleaned = clean_name(name, ALLOWED)
    except Unprocessable:
        return
    for segment in cleaned.split("/"):
        assert not set(segment) & set(':*?"<>|')
        assert segment == segment.rstrip(" .")
        assert segment.split(".")[0].rstrip(" ").upper() not in {"CON", "PRN", "AUX", "NUL"}
