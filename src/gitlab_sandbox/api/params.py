"""Request parameters as Grape reads them: query string and body (JSON or form) merged.

GitLab accepts every parameter in either place, lists as arrays, ``name[]`` repetitions or
comma-separated strings, and booleans as ``true``/``false``/``1``/``0``.
"""

from __future__ import annotations

import builtins
import datetime as dt
import json
from typing import Any

from fastapi import Request

from gitlab_sandbox.api.errors import ApiError, invalid, missing

_TRUE = {"true", "1", "yes", "on", "t"}
_FALSE = {"false", "0", "no", "off", "f", ""}


class Params:
    """The merged parameters of one request, with typed accessors raising Grape's 400s."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values

    def __contains__(self, name: builtins.str) -> builtins.bool:
        return name in self.values

    def raw(self, name: builtins.str) -> Any:
        return self.values.get(name)

    def str(self, name: builtins.str, default: builtins.str | None = None) -> builtins.str | None:
        value = self.values.get(name)
        if value is None:
            return default
        if isinstance(value, list | dict):
            raise invalid(name)
        return str(value)

    def required_str(self, *names: builtins.str) -> builtins.list[builtins.str]:
        """The values of required string parameters; ``x is missing`` when absent or empty."""
        absent = [n for n in names if not (self.str(n) or "").strip()]
        if absent:
            raise missing(*absent)
        return [str(self.str(n)) for n in names]

    def int(self, name: builtins.str, default: builtins.int | None = None) -> builtins.int | None:
        value = self.values.get(name)
        if value is None or value == "":
            return default
        try:
            return int(value)
        except (TypeError, ValueError):
            raise invalid(name) from None

    def bool(
        self, name: builtins.str, default: builtins.bool | None = None
    ) -> builtins.bool | None:
        value = self.values.get(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise invalid(name)

    def list(self, name: builtins.str) -> builtins.list[builtins.str] | None:
        """A list given as an array, ``name[]`` repetitions or a comma-separated string."""
        value = self.values.get(name)
        if value is None:
            return None
        items = value if isinstance(value, list) else str(value).split(",")
        return [str(item).strip() for item in items if str(item).strip()]

    def int_list(self, name: builtins.str) -> builtins.list[builtins.int] | None:
        items = self.list(name)
        if items is None:
            return None
        try:
            return [int(item) for item in items]
        except ValueError:
            raise invalid(name) from None

    def datetime(self, name: builtins.str) -> dt.datetime | None:
        text = self.str(name)
        if not text:
            return None
        try:
            return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise invalid(name) from None


def _merge_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for key, value in pairs:
        if key.endswith("[]"):
            merged.setdefault(key[:-2], []).append(value)
        else:
            merged[key] = value
    return merged


async def read_params(request: Request) -> Params:
    """Query parameters overlaid with the body's (JSON object or form fields)."""
    values = _merge_pairs(list(request.query_params.multi_items()))
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        values.update(await _body_values(request))
    return Params(values)


async def _body_values(request: Request) -> dict[str, Any]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.form()
        return _merge_pairs([(k, v) for k, v in form.multi_items() if isinstance(v, str)])
    body = await request.body()
    if not body.strip():
        return {}
    try:
        decoded = json.loads(body)
    except ValueError:
        raise ApiError(400, "The request body is not valid JSON.", key="error") from None
    if not isinstance(decoded, dict):
        raise ApiError(400, "The request body must be a JSON object.", key="error")
    return {k.removesuffix("[]"): v for k, v in decoded.items()}
