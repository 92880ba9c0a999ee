"""Imports every feature's tables so the metadata is complete (Alembic, test schemas)."""

from __future__ import annotations

# Feature model modules register their tables on Base.metadata when imported: one line each.
import merge_assist.assistant.models
import merge_assist.audit.models
import merge_assist.auth.models
import merge_assist.health.alerts.models
import merge_assist.ingest.models
import merge_assist.merging.persistence.models
import merge_assist.messaging.models
import merge_assist.projects.models
import merge_assist.vault.models
import merge_assist.workers.models  # noqa: F401
from merge_assist.kit.db import Base

metadata = Base.metadata
