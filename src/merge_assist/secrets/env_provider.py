"""Secrets from environment variables ``MERGE_ASSIST_SECRET_<NAME>`` (read-only)."""

from __future__ import annotations

import os
from collections.abc import Mapping

from merge_assist.kit.settings import Settings
from merge_assist.secrets.errors import InvalidSecretName, ProviderReadOnly
from merge_assist.secrets.names import SECRET_NAME, validate_name

ENV_PREFIX = "MERGE_ASSIST_SECRET_"
_SETTINGS_PREFIX = str(Settings.model_config.get("env_prefix", "MERGE_ASSIST_"))
# Settings fields that share the prefix (MERGE_ASSIST_SECRET_KEY is the product's signing key):
# those variables are configuration, never secrets served by this provider.
RESERVED_VARIABLES = frozenset(
    variable
    for variable in (f"{_SETTINGS_PREFIX}{field}".upper() for field in Settings.model_fields)
    if variable.startswith(ENV_PREFIX)
)


def variable_for(name: str) -> str:
    """The environment variable holding ``name``: upper-cased, ``-`` and ``.`` become ``_``."""
    validate_name(name)
    return ENV_PREFIX + name.upper().replace("-", "_").replace(".", "_")


class EnvSecretProvider:
    """Reads secrets from the process environment; operators set them, the product only reads.

    The mapping from names to variables is lossy (``gitlab-token`` and ``GITLAB_TOKEN`` are the
    same variable), so :meth:`list_names` returns the lower-cased variable suffixes.
    """

    kind = "env"
    writable = False

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._environ = os.environ if environ is None else environ

    def _variable(self, name: str) -> str:
        variable = variable_for(name)
        if variable in RESERVED_VARIABLES:
            raise InvalidSecretName(
                f"The secret name {name!r} is reserved: {variable} is a setting of the product."
            )
        return variable

    def get(self, name: str) -> str | None:
        """The value of ``MERGE_ASSIST_SECRET_<NAME>``, or ``None`` when unset or empty."""
        return self._environ.get(self._variable(name)) or None

    def set(self, name: str, value: str) -> None:
        """Refuse: the environment is set by whoever starts the process."""
        raise ProviderReadOnly(
            f"The env secrets provider is read-only: set {self._variable(name)} in the "
            "environment of the process instead."
        )

    def delete(self, name: str) -> None:
        """Refuse: the environment is set by whoever starts the process."""
        raise ProviderReadOnly(
            f"The env secrets provider is read-only: unset {self._variable(name)} in the "
            "environment of the process instead."
        )

    def list_names(self) -> list[str]:
        """Names of the set ``MERGE_ASSIST_SECRET_*`` variables, lower-cased, sorted."""
        return sorted(
            variable.removeprefix(ENV_PREFIX).lower()
            for variable, value in self._environ.items()
            if variable.startswith(ENV_PREFIX)
            and variable not in RESERVED_VARIABLES
            and value
            and SECRET_NAME.fullmatch(variable.removeprefix(ENV_PREFIX))
        )
