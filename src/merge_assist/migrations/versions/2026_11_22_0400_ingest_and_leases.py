"""Ingest and leases: the webhook event inbox, project leases, worker heartbeats.

Revision ID: 20261122_0400
Revises: 20261122_0300
Create Date: 2026-11-22 04:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from merge_assist.kit.db import UTCDateTime

revision: str = "20261122_0400"
down_revision: str | None = "20261122_0300"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the inbox, lease and heartbeat tables."""
    op.create_table(
        "worker_heartbeats",
        sa.Column("worker_id", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("hostname", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen", UTCDateTime(timezone=True), nullable=False),
        sa.Column("stopped_at", UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("worker_id", name=op.f("pk_worker_heartbeats")),
    )
    op.create_table(
        "event_inbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=False),
        sa.Column("event_kind", sa.String(length=32), nullable=False),
        sa.Column("object_iid", sa.Integer(), nullable=True),
        sa.Column("received_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("processed_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_event_inbox_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_inbox")),
        sa.UniqueConstraint(
            "project_id", "idempotency_key", name=op.f("uq_event_inbox_project_id_idempotency_key")
        ),
    )
    with op.batch_alter_table("event_inbox", schema=None) as batch_op:
        batch_op.create_index(
            "ix_event_inbox_project_processed", ["project_id", "processed_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_event_inbox_received_at"), ["received_at"], unique=False
        )

    op.create_table(
        "project_leases",
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("owner", sa.String(length=255), nullable=False),
        sa.Column("token", sa.BigInteger(), nullable=False),
        sa.Column("acquired_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("renewed_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_project_leases_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("project_id", name=op.f("pk_project_leases")),
    )
    with op.batch_alter_table("project_leases", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_project_leases_expires_at"), ["expires_at"], unique=False
        )


def downgrade() -> None:
    """Drop the inbox, lease and heartbeat tables."""
    with op.batch_alter_table("project_leases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_project_leases_expires_at"))

    op.drop_table("project_leases")
    with op.batch_alter_table("event_inbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_inbox_received_at"))
        batch_op.drop_index("ix_event_inbox_project_processed")

    op.drop_table("event_inbox")
    op.drop_table("worker_heartbeats")
