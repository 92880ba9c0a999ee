"""Audit entries record their hash scheme: 1 unkeyed SHA-256 (every entry so far), 2 keyed HMAC.

Existing rows keep scheme 1; the audit service writes scheme 2 from now on, so the first new
entry seals the older ones (``audit/chain.py``).

Revision ID: 20261206_1740
Revises: 20261206_1730
Create Date: 2026-12-06 17:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261206_1740"
down_revision: str | None = "20261206_1730"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add ``audit_entries.hash_scheme`` (1 for the entries written already)."""
    with op.batch_alter_table(
        "audit_entries", schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.add_column(
            sa.Column("hash_scheme", sa.SmallInteger(), server_default="1", nullable=False)
        )


def downgrade() -> None:
    """Drop ``audit_entries.hash_scheme`` (keyed entries then no longer verify as unkeyed)."""
    with op.batch_alter_table(
        "audit_entries", schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.drop_column("hash_scheme")
