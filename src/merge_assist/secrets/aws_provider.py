"""Secrets in AWS Secrets Manager, stored as ``<prefix><name>`` (``merge-assist/<name>``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from merge_assist.kit.settings import Settings
from merge_assist.secrets.errors import SecretNotFound, SecretStoreError
from merge_assist.secrets.names import SECRET_NAME, validate_name, validate_value

DEFAULT_PREFIX = "merge-assist/"
# Deleted secrets stay recoverable for this long (AWS allows 7 to 30 days); setting the name
# again restores it first.
RECOVERY_WINDOW_DAYS = 7

T = TypeVar("T")


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _scheduled_for_deletion(error: ClientError) -> bool:
    message = str(error.response.get("Error", {}).get("Message", ""))
    return _error_code(error) == "InvalidRequestException" and "deleted" in message.lower()


class AwsSecretProvider:
    """Reads and writes secrets in AWS Secrets Manager; rotation is AWS's business."""

    kind = "aws"
    writable = True

    def __init__(
        self, client: Any, *, prefix: str = DEFAULT_PREFIX, page_size: int | None = None
    ) -> None:
        self._client = client
        self.prefix = prefix
        self._pagination = {"PageSize": page_size} if page_size else {}

    @classmethod
    def from_settings(cls, settings: Settings) -> AwsSecretProvider:
        """A client for ``settings.aws_region`` (and ``aws_endpoint_url``, e.g. LocalStack)."""
        try:
            client = boto3.client(
                "secretsmanager",
                region_name=settings.aws_region,
                endpoint_url=settings.aws_endpoint_url,
            )
        except BotoCoreError as error:
            raise SecretStoreError(
                f"AWS Secrets Manager cannot be used: {error}. Set MERGE_ASSIST_AWS_REGION "
                "(or AWS_DEFAULT_REGION) and AWS credentials."
            ) from error
        return cls(client)

    def _secret_id(self, name: str) -> str:
        return self.prefix + validate_name(name)

    def _call(self, action: str, call: Callable[[], T]) -> T:
        """Run an AWS call, turning transport and service failures into a sentence."""
        try:
            return call()
        except ClientError as error:
            raise SecretStoreError(
                f"AWS Secrets Manager refused to {action}: {_error_code(error)}."
            ) from error
        except BotoCoreError as error:
            raise SecretStoreError(
                f"AWS Secrets Manager could not be reached to {action}: {error}"
            ) from error

    def get(self, name: str) -> str | None:
        """The value of ``<prefix><name>``, or ``None`` if absent or scheduled for deletion."""
        secret_id = self._secret_id(name)

        def fetch() -> str | None:
            try:
                response = self._client.get_secret_value(SecretId=secret_id)
            except ClientError as error:
                if _error_code(error) == "ResourceNotFoundException" or _scheduled_for_deletion(
                    error
                ):
                    return None
                raise
            value = response.get("SecretString")
            return str(value) if value is not None else None

        return self._call(f"read {name!r}", fetch)

    def set(self, name: str, value: str) -> None:
        """Put a new version of ``<prefix><name>``, creating (or restoring) it if needed."""
        secret_id = self._secret_id(name)
        validate_value(value)

        def store() -> None:
            try:
                description = self._client.describe_secret(SecretId=secret_id)
            except ClientError as error:
                if _error_code(error) != "ResourceNotFoundException":
                    raise
                try:
                    self._client.create_secret(Name=secret_id, SecretString=value)
                    return
                except ClientError as create_error:
                    # Another writer created it between our two calls: put over it.
                    if _error_code(create_error) != "ResourceExistsException":
                        raise
            else:
                if description.get("DeletedDate"):
                    # Scheduled for deletion (by delete() or by hand): AWS refuses new
                    # values until the secret is restored.
                    self._client.restore_secret(SecretId=secret_id)
            self._client.put_secret_value(SecretId=secret_id, SecretString=value)

        self._call(f"store {name!r}", store)

    def delete(self, name: str) -> None:
        """Schedule ``<prefix><name>`` for deletion (recoverable for a week)."""
        if self.get(name) is None:
            raise SecretNotFound(f"There is no secret named {name!r} in AWS Secrets Manager.")
        secret_id = self._secret_id(name)
        self._call(
            f"delete {name!r}",
            lambda: self._client.delete_secret(
                SecretId=secret_id, RecoveryWindowInDays=RECOVERY_WINDOW_DAYS
            ),
        )

    def list_names(self) -> list[str]:
        """Names under the prefix (every page), without the prefix, sorted."""

        def collect() -> list[str]:
            names: list[str] = []
            pages = self._client.get_paginator("list_secrets").paginate(
                Filters=[{"Key": "name", "Values": [self.prefix]}],
                PaginationConfig=self._pagination,
            )
            for page in pages:
                for entry in page.get("SecretList", []):
                    full_name = str(entry.get("Name", ""))
                    name = full_name.removeprefix(self.prefix)
                    # The name filter matches words, not only the prefix: check it ourselves.
                    if full_name.startswith(self.prefix) and SECRET_NAME.fullmatch(name):
                        names.append(name)
            return sorted(set(names))

        return self._call("list secrets", collect)
