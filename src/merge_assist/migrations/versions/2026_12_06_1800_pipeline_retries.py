"""Project config: ``pipeline_retries``, how often a failed pipeline is retried before it counts.

Existing rows get the default, 1.

Revision ID: 20261206_1800
Revises: 20261206_1750
Create Date: 2026-12-06 17:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261206_1800"
down_revision: str | None = "20261206_1750"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add ``project_config.pipeline_retries`` (1 for the projects configured already)."""
    with op.batch_alter_table("project_config", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("pipeline_retries", sa.Integer(), server_default="1", nullable=False)
        )


def downgrade() -> None:
    """Drop ``project_config.pipeline_retries``."""
    with op.batch_alter_table("project_config", schema=None) as batch_op:
        batch_op.drop_column("pipeline_retries")
