"""Secret names: one rule for every provider, so a name valid in one is valid in all."""

from __future__ import annotations

import re

from merge_assist.secrets.errors import InvalidSecretName, InvalidSecretValue

SECRET_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")


def validate_name(name: str) -> str:
    """Return ``name`` if it is a valid secret name, else raise :class:`InvalidSecretName`.

    The rule keeps names safe as file names (no ``/``, no leading ``.``, so no traversal), as
    environment variable suffixes and as AWS Secrets Manager names.
    """
    if not isinstance(name, str) or not SECRET_NAME.fullmatch(name):
        raise InvalidSecretName(
            # The rejected text is not echoed: it may be a value typed in the wrong place.
            "That is not a valid secret name: a name starts with a letter or digit and has at "
            "most 128 letters, digits, '_', '.' or '-'."
        )
    return name


def validate_value(value: str) -> str:
    """Return ``value`` if it can be stored, else raise :class:`InvalidSecretValue`."""
    if not isinstance(value, str) or value == "":
        raise InvalidSecretValue("A secret value cannot be empty.")
    return value
