"""oicp: sessions, EVSE data and status, pricing, authentication data, CDR columns

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 07:39:37.767692
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hub.store.types

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "oicp_auth_data",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider_party_fk", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.String(length=16), nullable=False),
        sa.Column("lookup_key", sa.String(length=64), nullable=False),
        sa.Column("record", sa.Text(), nullable=False),
        sa.Column("updated_at", hub.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["provider_party_fk"],
            ["party.id"],
            name=op.f("fk_oicp_auth_data_provider_party_fk_party"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oicp_auth_data")),
        sa.UniqueConstraint("provider_party_fk", "lookup_key", name="uq_oicp_auth_data_key"),
    )
    with op.batch_alter_table("oicp_auth_data", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_oicp_auth_data_lookup_key"), ["lookup_key"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_oicp_auth_data_provider_party_fk"), ["provider_party_fk"], unique=False
        )

    op.create_table(
        "oicp_evse",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("operator_party_fk", sa.Integer(), nullable=False),
        sa.Column("operator_id", sa.String(length=16), nullable=False),
        sa.Column("operator_name", sa.String(length=100), nullable=True),
        sa.Column("evse_key", sa.String(length=48), nullable=False),
        sa.Column("evse_id", sa.String(length=48), nullable=False),
        sa.Column("data", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=True),
        sa.Column("created_at", hub.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", hub.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status_updated_at", hub.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("deleted_at", hub.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["operator_party_fk"],
            ["party.id"],
            name=op.f("fk_oicp_evse_operator_party_fk_party"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oicp_evse")),
        sa.UniqueConstraint("evse_key", name=op.f("uq_oicp_evse_evse_key")),
    )
    with op.batch_alter_table("oicp_evse", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_oicp_evse_operator_id"), ["operator_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_oicp_evse_operator_party_fk"), ["operator_party_fk"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_oicp_evse_updated_at"), ["updated_at"], unique=False)

    op.create_table(
        "oicp_pricing",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("operator_party_fk", sa.Integer(), nullable=False),
        sa.Column("operator_key", sa.String(length=16), nullable=False),
        sa.Column("provider_id", sa.String(length=16), nullable=False),
        sa.Column("item_key", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("updated_at", hub.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", hub.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["operator_party_fk"],
            ["party.id"],
            name=op.f("fk_oicp_pricing_operator_party_fk_party"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oicp_pricing")),
        sa.UniqueConstraint("kind", "operator_key", "provider_id", "item_key", name="uq_oicp_pricing_item"),
    )
    with op.batch_alter_table("oicp_pricing", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_oicp_pricing_operator_party_fk"), ["operator_party_fk"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_oicp_pricing_updated_at"), ["updated_at"], unique=False)

    op.create_table(
        "oicp_session",
        sa.Column("session_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("cpo_party_fk", sa.Integer(), nullable=False),
        sa.Column("operator_id", sa.String(length=16), nullable=False),
        sa.Column("emp_party_fk", sa.Integer(), nullable=True),
        sa.Column("provider_id", sa.String(length=16), nullable=True),
        sa.Column("evse_id", sa.String(length=48), nullable=True),
        sa.Column("identification", sa.JSON(), nullable=True),
        sa.Column("authorized_by", sa.String(length=8), nullable=False),
        sa.Column("cpo_partner_session_id", sa.String(length=250), nullable=True),
        sa.Column("emp_partner_session_id", sa.String(length=250), nullable=True),
        sa.Column("ocpi_ref", sa.String(length=120), nullable=True),
        sa.Column("created_at", hub.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", hub.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["cpo_party_fk"],
            ["party.id"],
            name=op.f("fk_oicp_session_cpo_party_fk_party"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["emp_party_fk"],
            ["party.id"],
            name=op.f("fk_oicp_session_emp_party_fk_party"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("session_id", name=op.f("pk_oicp_session")),
    )
    with op.batch_alter_table("oicp_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_oicp_session_cpo_party_fk"), ["cpo_party_fk"], unique=False)
        batch_op.create_index(batch_op.f("ix_oicp_session_ocpi_ref"), ["ocpi_ref"], unique=False)

    with op.batch_alter_table("cdr", schema=None) as batch_op:
        batch_op.add_column(sa.Column("oicp_body", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("session_id", sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_cdr_session_id"), ["session_id"], unique=False)

    with op.batch_alter_table("party", schema=None) as batch_op:
        batch_op.add_column(sa.Column("oicp_ca", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("oicp_services", sa.JSON(), nullable=True))


def downgrade() -> None:

    with op.batch_alter_table("party", schema=None) as batch_op:
        batch_op.drop_column("oicp_services")
        batch_op.drop_column("oicp_ca")

    with op.batch_alter_table("cdr", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cdr_session_id"))
        batch_op.drop_column("session_id")
        batch_op.drop_column("oicp_body")

    with op.batch_alter_table("oicp_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oicp_session_ocpi_ref"))
        batch_op.drop_index(batch_op.f("ix_oicp_session_cpo_party_fk"))

    op.drop_table("oicp_session")
    with op.batch_alter_table("oicp_pricing", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oicp_pricing_updated_at"))
        batch_op.drop_index(batch_op.f("ix_oicp_pricing_operator_party_fk"))

    op.drop_table("oicp_pricing")
    with op.batch_alter_table("oicp_evse", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oicp_evse_updated_at"))
        batch_op.drop_index(batch_op.f("ix_oicp_evse_operator_party_fk"))
        batch_op.drop_index(batch_op.f("ix_oicp_evse_operator_id"))

    op.drop_table("oicp_evse")
    with op.batch_alter_table("oicp_auth_data", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oicp_auth_data_provider_party_fk"))
        batch_op.drop_index(batch_op.f("ix_oicp_auth_data_lookup_key"))

    op.drop_table("oicp_auth_data")
