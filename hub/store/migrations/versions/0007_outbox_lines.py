"""outbox lines: items of one line (a CDR owner's CDRs to one eMSP) are delivered in order

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 09:10:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("line", sa.String(length=96), nullable=True))
        batch_op.create_index("ix_outbox_line_id", ["line", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_line_id")
        batch_op.drop_column("line")
