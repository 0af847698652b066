"""ocpi platform: outbox, connection checks

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 04:58:24.695112
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hub.store.types

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("party_fk", sa.Integer(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", hub.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("available_at", hub.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("delivered_at", hub.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("dead_at", hub.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["party_fk"], ["party.id"], name=op.f("fk_outbox_party_fk_party"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_available_at"), ["available_at"], unique=False)

    with op.batch_alter_table("ocpi_connection", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("checked_at", hub.store.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("encode_token", sa.Boolean(), nullable=False, server_default=sa.true()))


def downgrade() -> None:

    with op.batch_alter_table("ocpi_connection", schema=None) as batch_op:
        batch_op.drop_column("encode_token")
        batch_op.drop_column("checked_at")

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_available_at"))

    op.drop_table("outbox")
