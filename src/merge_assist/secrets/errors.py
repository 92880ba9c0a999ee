"""Refusals of the secrets feature, each with a sentence a person understands."""

from __future__ import annotations

from merge_assist.kit.errors import BadRequest, NotFound, ServiceUnavailable, Unprocessable


class InvalidSecretName(Unprocessable):
    """A name outside ``[A-Za-z0-9][A-Za-z0-9_.-]{0,127}``."""

    code = "invalid_secret_name"


class InvalidSecretValue(Unprocessable):
    """An empty (or otherwise unusable) value."""

    code = "invalid_secret_value"


class SecretNotFound(NotFound):
    """No secret by that name in the provider."""

    code = "secret_not_found"


class ProviderReadOnly(BadRequest):
    """The provider only reads (environment, mounted files)."""

    code = "secrets_read_only"


class UnknownProvider(BadRequest):
    """``secrets_provider`` names no provider."""

    code = "unknown_secrets_provider"


class SecretStoreError(ServiceUnavailable):
    """The backend cannot be used: unreadable, tampered, unsafe permissions, unreachable."""

    code = "secret_store_unavailable"
