"""The assistant's AI summary: instance settings, daily usage, and the rejection comment flag.

``assistant_settings`` holds one row (how the chat endpoint is reached and what may leave);
``assistant_usage`` counts each UTC day's calls and tokens for the daily budget;
``project_config.explain_on_rejection`` (off for existing projects) adds the plain diagnosis's
next step to the rejection comment.

Revision ID: 20261206_1910
Revises: 20261206_1900
Create Date: 2026-12-06 19:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from merge_assist.kit.db import UTCDateTime

revision: str = "20261206_1910"
down_revision: str | None = "20261206_1900"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ``assistant_settings`` and ``assistant_usage``; add the project flag."""
    op.create_table(
        "assistant_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("base_url", sa.String(length=1024), server_default="", nullable=False),
        sa.Column("model", sa.String(length=255), server_default="", nullable=False),
        sa.Column("send_titles", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("send_file_names", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("send_log_excerpts", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("timeout_seconds", sa.Integer(), server_default="20", nullable=False),
        sa.Column("max_request_chars", sa.Integer(), server_default="8000", nullable=False),
        sa.Column("daily_call_limit", sa.Integer(), nullable=True),
        sa.Column("daily_token_limit", sa.Integer(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "assistant_usage",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("calls", sa.Integer(), server_default="0", nullable=False),
        sa.Column("tokens", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("day"),
    )
    with op.batch_alter_table("project_config", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "explain_on_rejection", sa.Boolean(), server_default=sa.false(), nullable=False
            )
        )


def downgrade() -> None:
    """Drop the project flag and the assistant's tables."""
    with op.batch_alter_table("project_config", schema=None) as batch_op:
        batch_op.drop_column("explain_on_rejection")
    op.drop_table("assistant_usage")
    op.drop_table("assistant_settings")
