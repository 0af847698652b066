"""foundation: parties, roles, credentials, agreements

Revision ID: 0001
Revises:
Create Date: 2026-11-23 04:49:36.023541
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hub.store.types

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "agreement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cpo_country_code", sa.String(length=2), nullable=False),
        sa.Column("cpo_party_id", sa.String(length=3), nullable=False),
        sa.Column("emsp_country_code", sa.String(length=2), nullable=False),
        sa.Column("emsp_party_id", sa.String(length=3), nullable=False),
        sa.Column("created_at", hub.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreement")),
        sa.UniqueConstraint(
            "cpo_country_code", "cpo_party_id", "emsp_country_code", "emsp_party_id", name="uq_agreement_pair"
        ),
    )
    op.create_table(
        "party",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("protocol", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("base_url", sa.String(length=255), nullable=True),
        sa.Column("created_at", hub.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", hub.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_party")),
    )
    op.create_table(
        "credential_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("party_fk", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=1), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", hub.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", hub.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", hub.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["party_fk"], ["party.id"], name=op.f("fk_credential_token_party_fk_party"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credential_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_credential_token_token_hash")),
    )
    with op.batch_alter_table("credential_token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_credential_token_party_fk"), ["party_fk"], unique=False)

    op.create_table(
        "ocpi_connection",
        sa.Column("party_fk", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=8), nullable=False),
        sa.Column("versions_url", sa.String(length=255), nullable=False),
        sa.Column("token_b", sa.Text(), nullable=False),
        sa.Column("endpoints", sa.JSON(), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("registered_at", hub.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", hub.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["party_fk"], ["party.id"], name=op.f("fk_ocpi_connection_party_fk_party"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("party_fk", name=op.f("pk_ocpi_connection")),
    )
    op.create_table(
        "party_role",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("party_fk", sa.Integer(), nullable=False),
        sa.Column("country_code", sa.String(length=2), nullable=False),
        sa.Column("party_id", sa.String(length=3), nullable=False),
        sa.Column("role", sa.String(length=8), nullable=False),
        sa.Column("oicp_id", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["party_fk"], ["party.id"], name=op.f("fk_party_role_party_fk_party"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_party_role")),
        sa.UniqueConstraint("country_code", "party_id", "role", name="uq_party_role_identity"),
        sa.UniqueConstraint("oicp_id", name=op.f("uq_party_role_oicp_id")),
    )
    with op.batch_alter_table("party_role", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_party_role_party_fk"), ["party_fk"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("party_role", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_party_role_party_fk"))

    op.drop_table("party_role")
    op.drop_table("ocpi_connection")
    with op.batch_alter_table("credential_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_credential_token_party_fk"))

    op.drop_table("credential_token")
    op.drop_table("party")
    op.drop_table("agreement")
