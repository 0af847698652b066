"""outbox pending indexes: the dispatcher's claim reads only undone items, however long the history

Delivered and dead items stay in the table (they are the delivery record), so the claim's scan in id
order and its "an earlier item of the line is undone" check grew with every item ever delivered. Partial
indexes over the undone items keep both proportional to the work still to do.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 03:10:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PENDING = sa.text("delivered_at IS NULL AND dead_at IS NULL")


def upgrade() -> None:
    for name, columns in (("ix_outbox_pending", ["id"]), ("ix_outbox_pending_line", ["line", "id"])):
        op.create_index(
            name, "outbox", columns, unique=False, sqlite_where=_PENDING, postgresql_where=_PENDING
        )


def downgrade() -> None:
    op.drop_index("ix_outbox_pending_line", table_name="outbox")
    op.drop_index("ix_outbox_pending", table_name="outbox")
