"""Vault: ``vaults``, ``vault_files`` and ``vault_locks`` (one lock per file, unique).

Revision ID: 20261122_0600
Revises: 20261122_0500
Create Date: 2026-11-22 06:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from merge_assist.kit.db import UTCDateTime

revision: str = "20261122_0600"
down_revision: str | None = "20261122_0500"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the vault tables."""
    op.create_table(
        "vaults",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("backend", sa.String(length=16), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=True),
        sa.Column("folder", sa.String(length=1024), nullable=False),
        sa.Column("branch", sa.String(length=255), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("backend IN ('local', 'gitlab')", name=op.f("ck_vaults_backend")),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_vaults_project_id_projects"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vaults")),
        sa.UniqueConstraint("name", name=op.f("uq_vaults_name")),
    )
    op.create_index(op.f("ix_vaults_project_id"), "vaults", ["project_id"])
    op.create_table(
        "vault_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vault_id", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=1024), nullable=False),
        sa.Column("current_version", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(
            ["vault_id"],
            ["vaults.id"],
            name=op.f("fk_vault_files_vault_id_vaults"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vault_files")),
        sa.UniqueConstraint("vault_id", "path", name=op.f("uq_vault_files_vault_id_path")),
    )
    op.create_table(
        "vault_locks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("file_id", sa.Integer(), nullable=False),
        sa.Column("holder_id", sa.Integer(), nullable=False),
        sa.Column("since", UTCDateTime(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("base_version", sa.String(length=64), nullable=False),
        sa.CheckConstraint(
            "length(reason) >= 1 AND length(reason) <= 500",
            name=op.f("ck_vault_locks_reason_length"),
        ),
        sa.ForeignKeyConstraint(
            ["file_id"],
            ["vault_files.id"],
            name=op.f("fk_vault_locks_file_id_vault_files"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["holder_id"],
            ["users.id"],
            name=op.f("fk_vault_locks_holder_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vault_locks")),
        sa.UniqueConstraint("file_id", name=op.f("uq_vault_locks_file_id")),
    )
    op.create_index(op.f("ix_vault_locks_holder_id"), "vault_locks", ["holder_id"])


def downgrade() -> None:
    """Drop the vault tables (locks and file records; the repositories stay on disk/GitLab)."""
    op.drop_index(op.f("ix_vault_locks_holder_id"), table_name="vault_locks")
    op.drop_table("vault_locks")
    op.drop_table("vault_files")
    op.drop_index(op.f("ix_vaults_project_id"), table_name="vaults")
    op.drop_table("vaults")
