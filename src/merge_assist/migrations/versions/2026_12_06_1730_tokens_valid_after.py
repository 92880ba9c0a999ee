"""Users: ``tokens_valid_after``; GitLab identities: ``token_encrypted`` may be NULL.

``users.tokens_valid_after`` is the instant before which the user's access tokens stop working:
set when they sign out everywhere, get a new password or are deactivated; an access token
issued (``iat``) before it is refused. Existing rows get NULL (no token ended yet).

``gitlab_identities.token_encrypted`` becomes NULL when the stored GitLab token is forgotten
(the identity row, with the GitLab username, stays). The downgrade deletes the identities whose
token was forgotten (their owners sign in with a token again).

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
    """Add ``users.tokens_valid_after``; let ``gitlab_identities.token_encrypted`` be NULL."""
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tokens_valid_after", UTCDateTime(), nullable=True))
    with op.batch_alter_table("gitlab_identities", schema=None) as batch_op:
        batch_op.alter_column("token_encrypted", existing_type=sa.Text(), nullable=True)


def downgrade() -> None:
    """Drop ``users.tokens_valid_after``; identities without a token are deleted."""
    op.execute("DELETE FROM gitlab_identities WHERE token_encrypted IS NULL")
    with op.batch_alter_table("gitlab_identities", schema=None) as batch_op:
        batch_op.alter_column("token_encrypted", existing_type=sa.Text(), nullable=False)
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("tokens_valid_after")
