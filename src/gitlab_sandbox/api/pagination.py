"""GitLab's pagination: offset (``page``/``per_page`` with ``X-*`` headers and ``Link``) and
keyset (``pagination=keyset`` ordered by id, ``Link: rel="next"`` only)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Protocol, TypeVar
from urllib.parse import urlencode

from fastapi import Request

from gitlab_sandbox.api.errors import ApiError
from gitlab_sandbox.api.params import Params

DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 100


class HasId(Protocol):
    @property
    def id(self) -> Any: ...


T = TypeVar("T")


def _per_page(params: Params) -> int:
    per_page = params.int("per_page", DEFAULT_PER_PAGE) or DEFAULT_PER_PAGE
    return min(max(per_page, 1), MAX_PER_PAGE)


def _url(request: Request, **changes: Any) -> str:
    query = dict(request.query_params.multi_items())
    query.update({k: str(v) for k, v in changes.items()})
    return f"{str(request.url).split('?', 1)[0]}?{urlencode(query)}"


def offset_page(
    request: Request, params: Params, items: Sequence[T]
) -> tuple[list[T], dict[str, str]]:
    """The requested page of ``items`` and GitLab's pagination headers for it."""
    per_page = _per_page(params)
    page = max(params.int("page", 1) or 1, 1)
    total = len(items)
    total_pages = max(math.ceil(total / per_page), 1)
    chunk = list(items[(page - 1) * per_page : page * per_page])
    headers = {
        "X-Page": str(page),
        "X-Per-Page": str(per_page),
        "X-Total": str(total),
        "X-Total-Pages": str(total_pages),
        "X-Next-Page": str(page + 1) if page < total_pages else "",
        "X-Prev-Page": str(page - 1) if 1 < page <= total_pages + 1 else "",
    }
    links = []
    if page < total_pages:
        links.append(f'<{_url(request, page=page + 1, per_page=per_page)}>; rel="next"')
    if 1 < page <= total_pages + 1:
        links.append(f'<{_url(request, page=page - 1, per_page=per_page)}>; rel="prev"')
    links.append(f'<{_url(request, page=1, per_page=per_page)}>; rel="first"')
    links.append(f'<{_url(request, page=total_pages, per_page=per_page)}>; rel="last"')
    headers["Link"] = ", ".join(links)
    return chunk, headers


def keyset_page(
    request: Request, params: Params, items: Sequence[HasId]
) -> tuple[list[Any], dict[str, str]]:
    """Keyset pagination by id: ``id_after`` (ascending) or ``id_before`` (descending)."""
    per_page = _per_page(params)
    descending = (params.str("sort") or "desc") == "desc"
    ordered = sorted(items, key=lambda item: item.id, reverse=descending)
    if descending and params.int("id_before") is not None:
        bound = params.int("id_before") or 0
        ordered = [item for item in ordered if item.id < bound]
    elif not descending and params.int("id_after") is not None:
        bound = params.int("id_after") or 0
        ordered = [item for item in ordered if item.id > bound]
    chunk = ordered[:per_page]
    headers = {"X-Per-Page": str(per_page)}
    if len(ordered) > per_page:
        key = "id_before" if descending else "id_after"
        headers["Link"] = (
            f'<{_url(request, **{key: chunk[-1].id, "per_page": per_page})}>; rel="next"'
        )
    return chunk, headers


KEYSET_UNAVAILABLE = "Keyset pagination is not yet available for this type of request"


def paginate(
    request: Request, params: Params, items: Sequence[Any], *, keyset: bool = False
) -> tuple[list[Any], dict[str, str]]:
    """Offset pagination, or keyset when asked for where GitLab offers it (``keyset``: the
    endpoint's relation is one ``Gitlab::Pagination::Keyset.available?`` accepts, ordered by
    id). Elsewhere ``pagination=keyset`` is GitLab's 405 (``lib/api/helpers/
    pagination_strategies.rb``)."""
    if params.str("pagination") == "keyset":
        if not keyset or (params.str("order_by") or "id") != "id":
            raise ApiError(405, KEYSET_UNAVAILABLE, key="error")
        return keyset_page(request, params, items)
    return offset_page(request, params, items)
