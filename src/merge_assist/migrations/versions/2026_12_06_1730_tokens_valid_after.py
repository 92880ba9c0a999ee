"""Users: ``tokens_valid_after``, the instant before which their access tokens stop working.

Set when a user signs out everywhere, gets a new password, is deactivated or has their roles
changed; an access token issued (``iat``) before it is refused. Existing rows get NULL (every
token that has not expired stays valid).

Revision ID: 20261206_1730
Revises: 20261206_1410
Create Date: 2026-12-06 17:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from merge_assist.kit.db import UTCDateTime

revision: str = "20261206_1730"
down_revision: str | None = "20261206_1410"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add ``users.tokens_valid_after`` (NULL: no token revoked yet)."""
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tokens_valid_after", UTCDateTime(), nullable=True))


def downgrade() -> None:
    """Drop ``users.tokens_valid_after``."""
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("tokens_valid_after")
