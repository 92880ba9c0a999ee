"""Imports every feature's tables so the metadata is complete (Alembic, test schemas)."""

from __future__ import annotations

import merge_assist.audit.models  # noqa: F401
from merge_assist.kit.db import Base

# Feature model modules register their tables on Base.metadata when imported: one line each.
# (none yet)

metadata = Base.metadata
