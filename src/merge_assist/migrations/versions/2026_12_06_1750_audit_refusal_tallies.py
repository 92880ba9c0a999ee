"""``audit_refusal_tallies``: repeated refused sign-ins are counted per window, not logged each.

Revision ID: 20261206_1750
Revises: 20261206_1740
Create Date: 2026-12-06 17:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from merge_assist.kit.db import UTCDateTime

revision: str = "20261206_1750"
down_revision: str | None = "20261206_1740"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ``audit_refusal_tallies``."""
    op.create_table(
        "audit_refusal_tallies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=100), nullable=False),
        sa.Column("target", sa.String(length=255), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("window_start", UTCDateTime(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("first_entry_id", sa.BigInteger(), nullable=True),
        sa.Column("last_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_refusal_tallies")),
        sa.UniqueConstraint(
            "action",
            "target",
            "address",
            "reason",
            "window_start",
            name=op.f("uq_audit_refusal_tallies_action_target_address_reason_window_start"),
        ),
    )
    with op.batch_alter_table("audit_refusal_tallies", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_audit_refusal_tallies_window_start"), ["window_start"], unique=False
        )


def downgrade() -> None:
    """Drop ``audit_refusal_tallies``."""
    with op.batch_alter_table("audit_refusal_tallies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_refusal_tallies_window_start"))
    op.drop_table("audit_refusal_tallies")
