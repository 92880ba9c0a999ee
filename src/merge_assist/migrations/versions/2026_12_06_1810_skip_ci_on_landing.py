"""Project config: ``skip_ci_on_landing``, no target pipeline for the queue's own landings.

Existing rows get the default, false (GitLab runs its pipeline on the target as before).

Revision ID: 20261206_1810
Revises: 20261206_1800
Create Date: 2026-12-06 20:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261206_1810"
down_revision: str | None = "20261206_1800"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add ``project_config.skip_ci_on_landing`` (false for the projects configured already)."""
    with op.batch_alter_table("project_config", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("skip_ci_on_landing", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    """Drop ``project_config.skip_ci_on_landing``."""
    with op.batch_alter_table("project_config", schema=None) as batch_op:
        batch_op.drop_column("skip_ci_on_landing")
