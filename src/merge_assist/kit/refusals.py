"""A refused action in the audit log: the one shape of its details.

An action refused with a ``MergeAssistError`` is audited with ``success`` false and these
details: what the caller adds (ids, the client's address, a finer ``reason``), then ``refusal``,
the error's code, and ``detail``, the sentence the person was given (at most 500 characters).
Every feature builds them here — the vault's refused actions, refused and throttled sign-ins, a
reused refresh token — whichever way it appends to the log (``audit.service.record`` or the
``AuditSink`` the auth feature is given), so one query finds every refusal and what was said.
"""

from __future__ import annotations

from typing import Any

from merge_assist.kit.errors import MergeAssistError

MAX_DETAIL_CHARS = 500


def refusal_details(refusal: MergeAssistError, **details: Any) -> dict[str, Any]:
    """The audit details of ``refusal``: the caller's ``details``, its code and its sentence."""
    return {**details, "refusal": refusal.code, "detail": refusal.message[:MAX_DETAIL_CHARS]}
