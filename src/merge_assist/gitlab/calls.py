"""What one GitLab call is, and how its URL, query and body are spelled."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal
from urllib.parse import quote, urlsplit

import httpx

AuthKind = Literal["api", "lfs"]
API_SUFFIX = "/api/v4"


@dataclass
class Call:
    """One logical GitLab call, possibly sent several times."""

    method: str
    url: str
    endpoint: str
    operation: str
    params: Mapping[str, Any] | None = None
    json: Any = None
    auth: AuthKind = "api"
    retry_safe: bool = False
    timeout: httpx.Timeout | None = None
    headers: dict[str, str] = field(default_factory=dict)


def encode_segment(value: object) -> str:
    """One URL path segment: ``group/app`` → ``group%2Fapp``, ``a b`` → ``a%20b``."""
    return quote(str(value), safe="")


def fill_template(template: str, path_params: Mapping[str, object] | None) -> str:
    """``/projects/{project}/x`` with every parameter encoded as a single path segment."""
    if not path_params:
        return template
    return template.format(**{k: encode_segment(v) for k, v in path_params.items()})


def split_base_url(base_url: str) -> tuple[str, str]:
    """(web root, API root) from ``https://host[/prefix]`` with or without ``/api/v4``."""
    root = base_url.strip().rstrip("/")
    if not root.startswith(("http://", "https://")):
        raise ValueError("The GitLab URL must start with http:// or https://.")
    if root.endswith(API_SUFFIX):
        root = root[: -len(API_SUFFIX)]
    parts = urlsplit(root)
    if parts.username or parts.password:
        raise ValueError("The GitLab URL must not carry credentials; pass the token separately.")
    return root, root + API_SUFFIX


def clean_params(params: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Drop unset parameters and spell booleans as GitLab expects (``true``/``false``)."""
    if params is None:
        return None
    cleaned: dict[str, Any] = {}
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            cleaned[key] = "true" if value else "false"
        elif isinstance(value, datetime):
            cleaned[key] = value.isoformat()
        else:
            cleaned[key] = value
    return cleaned


def drop_none(body: Any) -> Any:
    """A JSON object body without its unset (None) fields; other bodies unchanged."""
    if isinstance(body, dict):
        return {key: value for key, value in body.items() if value is not None}
    return body
