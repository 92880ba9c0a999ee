"""Projects and their configuration: GitLab details and webhook of projects, ``project_config``.

Revision ID: 20261122_0200
Revises: 20261122_0100
Create Date: 2026-11-22 02:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from merge_assist.kit.db import UTCDateTime

revision: str = "20261122_0200"
down_revision: str | None = "20261122_0100"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NEW_PROJECT_COLUMNS = (
    "web_url",
    "default_branch",
    "is_active",
    "webhook_id",
    "webhook_secret_encrypted",
)


def upgrade() -> None:
    """Add the GitLab details and webhook columns to ``projects``; create ``project_config``."""
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.add_column(sa.Column("web_url", sa.String(length=1024), nullable=True))
        batch_op.add_column(sa.Column("default_branch", sa.String(length=255), nullable=True))
        batch_op.add_column(
            sa.Column("is_active", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch_op.add_column(sa.Column("webhook_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("webhook_secret_encrypted", sa.Text(), nullable=True))
    op.create_table(
        "project_config",
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("target_branches", sa.JSON(), nullable=False),
        sa.Column("strategy", sa.String(length=16), nullable=False),
        sa.Column("batch_size", sa.Integer(), nullable=False),
        sa.Column("train_depth", sa.Integer(), nullable=False),
        sa.Column("polling_interval_seconds", sa.Integer(), nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("webhook_enabled", sa.Boolean(), nullable=False),
        sa.Column("max_rejections", sa.Integer(), nullable=False),
        sa.Column("landing", sa.String(length=16), nullable=False),
        sa.Column("ai_debug_enabled", sa.Boolean(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_project_config_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("project_id", name=op.f("pk_project_config")),
    )


def downgrade() -> None:
    """Drop ``project_config`` and the columns this revision added to ``projects``."""
    op.drop_table("project_config")
    with op.batch_alter_table("projects", schema=None) as batch_op:
        for column in reversed(_NEW_PROJECT_COLUMNS):
            batch_op.drop_column(column)
