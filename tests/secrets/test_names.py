from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from merge_assist.secrets.errors import InvalidSecretName, InvalidSecretValue
from merge_assist.secrets.names import SECRET_NAME, validate_name, validate_value

valid_names = st.from_regex(SECRET_NAME, fullmatch=True)


@given(name=valid_names)
def test_valid_names_pass_unchanged(name: str) -> None:
    assert validate_name(name) == name
    assert "/" not in name
    assert not name.startswith(".")


@pytest.mark.parametrize(
    "name",
    ["", ".hidden", "..", "../etc/passwd", "a/b", "-dash", "_under", "a b", "x" * 129, "é"],
)
def test_invalid_names_are_refused_without_echo(name: str) -> None:
    with pytest.raises(InvalidSecretName) as caught:
        validate_name(name)
    assert caught.value.status_code == 422
    if name:
        assert name not in caught.value.message


def test_longest_name_is_accepted() -> None:
    assert validate_name("a" * 128) == "a" * 128


def test_empty_value_is_refused() -> None:
    with pytest.raises(InvalidSecretValue, match="empty"):
        validate_value("")
    assert validate_value(" ") == " "
