"""Messaging: ``messages`` and per-recipient read/delete state in ``message_recipients``.

Revision ID: 20261122_0100
Revises: 20261121_1100
Create Date: 2026-11-22 01:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from merge_assist.kit.db import UTCDateTime

revision: str = "20261122_0100"
down_revision: str | None = "20261121_1100"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ``messages`` and ``message_recipients`` with their indexes."""
    op.create_table(
        "messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sender_id", sa.Integer(), nullable=True),
        sa.Column("sender_kind", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("related_file", sa.String(length=1024), nullable=True),
        sa.Column("related_mr", sa.String(length=300), nullable=True),
        sa.Column("is_broadcast", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "sender_kind IN ('user', 'system')", name=op.f("ck_messages_sender_kind")
        ),
        sa.ForeignKeyConstraint(
            ["sender_id"],
            ["users.id"],
            name=op.f("fk_messages_sender_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
    )
    op.create_index(op.f("ix_messages_created_at"), "messages", ["created_at"])
    op.create_index("ix_messages_sender_id_created_at", "messages", ["sender_id", "created_at"])
    op.create_table(
        "message_recipients",
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("read_at", UTCDateTime(), nullable=True),
        sa.Column("deleted_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_message_recipients_message_id_messages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_message_recipients_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("message_id", "user_id", name=op.f("pk_message_recipients")),
    )
    op.create_index(
        "ix_message_recipients_user_id_read_at", "message_recipients", ["user_id", "read_at"]
    )


def downgrade() -> None:
    """Drop the messaging tables (and every message with them)."""
    op.drop_index("ix_message_recipients_user_id_read_at", table_name="message_recipients")
    op.drop_table("message_recipients")
    op.drop_index("ix_messages_sender_id_created_at", table_name="messages")
    op.drop_index(op.f("ix_messages_created_at"), table_name="messages")
    op.drop_table("messages")
