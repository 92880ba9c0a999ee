"""Merge queue: engine state, MR records, batch operations, merge history, queue logs.

Revision ID: 20261122_0300
Revises: 20261122_0200
Create Date: 2026-11-22 03:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from merge_assist.kit.db import UTCDateTime

revision: str = "20261122_0300"
down_revision: str | None = "20261122_0200"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the merge-queue tables."""
    op.create_table(
        "batch_operations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("target_branch", sa.String(length=255), nullable=False),
        sa.Column("attempt_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("probe", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("member_iids", sa.JSON(), nullable=False),
        sa.Column("landed_iids", sa.JSON(), nullable=False),
        sa.Column("culprit_iids", sa.JSON(), nullable=False),
        sa.Column("branch", sa.String(length=255), nullable=True),
        sa.Column("batch_mr_iid", sa.Integer(), nullable=True),
        sa.Column("batch_mr_url", sa.String(length=1024), nullable=True),
        sa.Column("base_sha", sa.String(length=64), nullable=True),
        sa.Column("tested_sha", sa.String(length=64), nullable=True),
        sa.Column("pipeline_id", sa.BigInteger(), nullable=True),
        sa.Column("pipeline_status", sa.String(length=32), nullable=True),
        sa.Column("landed_sha", sa.String(length=64), nullable=True),
        sa.Column("started_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_batch_operations_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batch_operations")),
        sa.UniqueConstraint(
            "project_id",
            "target_branch",
            "attempt_id",
            name=op.f("uq_batch_operations_project_id_target_branch_attempt_id"),
        ),
    )
    with op.batch_alter_table("batch_operations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_batch_operations_project_started", ["project_id", "started_at"], unique=False
        )

    op.create_table(
        "engine_states",
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("target_branch", sa.String(length=255), nullable=False),
        sa.Column("state_json", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_engine_states_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("project_id", "target_branch", name=op.f("pk_engine_states")),
    )
    op.create_table(
        "logs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=True),
        sa.Column("target_branch", sa.String(length=255), nullable=True),
        sa.Column("level", sa.String(length=8), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("iid", sa.Integer(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_logs_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_logs")),
    )
    with op.batch_alter_table("logs", schema=None) as batch_op:
        batch_op.create_index("ix_logs_project_id_id", ["project_id", "id"], unique=False)

    op.create_table(
        "merge_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("target_branch", sa.String(length=255), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("iids", sa.JSON(), nullable=False),
        sa.Column("record_key", sa.String(length=512), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_merge_history_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_merge_history")),
        sa.UniqueConstraint("record_key", name=op.f("uq_merge_history_record_key")),
    )
    with op.batch_alter_table("merge_history", schema=None) as batch_op:
        batch_op.create_index(
            "ix_merge_history_project_at", ["project_id", "created_at"], unique=False
        )

    op.create_table(
        "merge_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("iid", sa.Integer(), nullable=False),
        sa.Column("target_branch", sa.String(length=255), nullable=False),
        sa.Column("source_branch", sa.String(length=255), nullable=True),
        sa.Column("title", sa.String(length=512), nullable=False),
        sa.Column("author_username", sa.String(length=255), nullable=True),
        sa.Column("web_url", sa.String(length=1024), nullable=True),
        sa.Column("queue_state", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("strikes", sa.Integer(), nullable=False),
        sa.Column("head_sha", sa.String(length=64), nullable=True),
        sa.Column("pipeline_status", sa.String(length=32), nullable=True),
        sa.Column("pipeline_url", sa.String(length=1024), nullable=True),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("recognised_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("merged_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("rejected_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["batch_operations.id"],
            name=op.f("fk_merge_requests_batch_id_batch_operations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_merge_requests_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_merge_requests")),
        sa.UniqueConstraint("project_id", "iid", name=op.f("uq_merge_requests_project_id_iid")),
    )
    with op.batch_alter_table("merge_requests", schema=None) as batch_op:
        batch_op.create_index(
            "ix_merge_requests_project_state", ["project_id", "queue_state"], unique=False
        )


def downgrade() -> None:
    """Drop the merge-queue tables."""
    with op.batch_alter_table("merge_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_merge_requests_project_state")

    op.drop_table("merge_requests")
    with op.batch_alter_table("merge_history", schema=None) as batch_op:
        batch_op.drop_index("ix_merge_history_project_at")

    op.drop_table("merge_history")
    with op.batch_alter_table("logs", schema=None) as batch_op:
        batch_op.drop_index("ix_logs_project_id_id")

    op.drop_table("logs")
    op.drop_table("engine_states")
    with op.batch_alter_table("batch_operations", schema=None) as batch_op:
        batch_op.drop_index("ix_batch_operations_project_started")

    op.drop_table("batch_operations")
