"""GitLab identities: who signed in with a GitLab token, and that token encrypted.

Revision ID: 20261122_0500
Revises: 20261122_0400
Create Date: 2026-11-22 05:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from merge_assist.kit.db import UTCDateTime

revision: str = "20261122_0500"
down_revision: str | None = "20261122_0400"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ``gitlab_identities``."""
    op.create_table(
        "gitlab_identities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("gitlab_user_id", sa.BigInteger(), nullable=False),
        sa.Column("gitlab_username", sa.String(length=255), nullable=False),
        sa.Column("token_encrypted", sa.Text(), nullable=False),
        sa.Column("scopes", sa.String(length=1024), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=True),
        sa.Column("validated_at", UTCDateTime(), nullable=False),
        sa.Column("expiry_warned_for", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_gitlab_identities_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gitlab_identities")),
        sa.UniqueConstraint("user_id", name=op.f("uq_gitlab_identities_user_id")),
    )
    op.create_index(
        op.f("ix_gitlab_identities_gitlab_user_id"), "gitlab_identities", ["gitlab_user_id"]
    )


def downgrade() -> None:
    """Drop ``gitlab_identities``."""
    op.drop_index(op.f("ix_gitlab_identities_gitlab_user_id"), table_name="gitlab_identities")
    op.drop_table("gitlab_identities")
