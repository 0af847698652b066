"""oicp: partner certificates

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 06:00:13.472326
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hub.store.types

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "certificate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("party_fk", sa.Integer(), nullable=False),
        sa.Column("serial", sa.String(length=64), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("not_before", hub.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("not_after", hub.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("issued_at", hub.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", hub.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["party_fk"], ["party.id"], name=op.f("fk_certificate_party_fk_party"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificate")),
        sa.UniqueConstraint("fingerprint", name=op.f("uq_certificate_fingerprint")),
        sa.UniqueConstraint("serial", name=op.f("uq_certificate_serial")),
    )
    with op.batch_alter_table("certificate", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_certificate_party_fk"), ["party_fk"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("certificate", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_certificate_party_fk"))

    op.drop_table("certificate")
