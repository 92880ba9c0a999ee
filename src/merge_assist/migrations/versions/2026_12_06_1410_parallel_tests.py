"""Project config: ``parallel_tests``, how many pipelines a failed batch may run side by side.

Existing rows get the default, 4.

Revision ID: 20261206_1410
Revises: 20261122_0600
Create Date: 2026-12-06 14:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261206_1410"
down_revision: str | None = "20261122_0600"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add ``project_config.parallel_tests`` (4 for the projects configured already)."""
    with op.batch_alter_table("project_config", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("parallel_tests", sa.Integer(), server_default="4", nullable=False)
        )


def downgrade() -> None:
    """Drop ``project_config.parallel_tests``."""
    with op.batch_alter_table("project_config", schema=None) as batch_op:
        batch_op.drop_column("parallel_tests")
