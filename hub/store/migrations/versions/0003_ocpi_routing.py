"""ocpi routing: hub store, indexes, callbacks, cdrs, traffic

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 05:16:01.467574
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hub.store.types

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "route_index",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("country_code", sa.String(length=2), nullable=False),
        sa.Column("party_id", sa.String(length=3), nullable=False),
        sa.Column("peer_country_code", sa.String(length=2), nullable=True),
        sa.Column("peer_party_id", sa.String(length=3), nullable=True),
        sa.Column("updated_at", hub.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_route_index")),
        sa.UniqueConstraint("kind", "key", "country_code", "party_id", name="uq_route_index_key"),
    )
    with op.batch_alter_table("route_index", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_route_index_key"), ["key"], unique=False)

    op.create_table(
        "traffic",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", hub.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("protocol", sa.String(length=8), nullable=False),
        sa.Column("module", sa.String(length=32), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("party_fk", sa.Integer(), nullable=True),
        sa.Column("sender", sa.String(length=16), nullable=True),
        sa.Column("receiver", sa.String(length=16), nullable=True),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("status_code", sa.String(length=8), nullable=True),
        sa.Column("latency_ms", sa.Float(), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("correlation_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_traffic")),
    )
    with op.batch_alter_table("traffic", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_traffic_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_traffic_party_fk"), ["party_fk"], unique=False)

    op.create_table(
        "callback",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("detail", sa.String(length=40), nullable=False),
        sa.Column("target_url", sa.Text(), nullable=False),
        sa.Column("caller_party_fk", sa.Integer(), nullable=False),
        sa.Column("target_party_fk", sa.Integer(), nullable=True),
        sa.Column("sender_country_code", sa.String(length=2), nullable=False),
        sa.Column("sender_party_id", sa.String(length=3), nullable=False),
        sa.Column("receiver_country_code", sa.String(length=2), nullable=False),
        sa.Column("receiver_party_id", sa.String(length=3), nullable=False),
        sa.Column("correlation_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", hub.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", hub.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("completed_at", hub.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["caller_party_fk"],
            ["party.id"],
            name=op.f("fk_callback_caller_party_fk_party"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["target_party_fk"],
            ["party.id"],
            name=op.f("fk_callback_target_party_fk_party"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_callback")),
    )
    with op.batch_alter_table("callback", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_callback_caller_party_fk"), ["caller_party_fk"], unique=False)
        batch_op.create_index(batch_op.f("ix_callback_expires_at"), ["expires_at"], unique=False)

    op.create_table(
        "cdr",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("protocol", sa.String(length=8), nullable=False),
        sa.Column("country_code", sa.String(length=2), nullable=False),
        sa.Column("party_id", sa.String(length=3), nullable=False),
        sa.Column("cdr_id", sa.String(length=64), nullable=False),
        sa.Column("cdr_key", sa.String(length=64), nullable=False),
        sa.Column("cpo_party_fk", sa.Integer(), nullable=False),
        sa.Column("emsp_country_code", sa.String(length=2), nullable=False),
        sa.Column("emsp_party_id", sa.String(length=3), nullable=False),
        sa.Column("emsp_party_fk", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("credit", sa.Boolean(), nullable=False),
        sa.Column("credit_reference_id", sa.String(length=64), nullable=True),
        sa.Column("start_date_time", hub.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("end_date_time", hub.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_updated", hub.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("received_at", hub.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("delivery", sa.String(length=16), nullable=False),
        sa.Column("delivered_at", hub.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("emsp_location", sa.Text(), nullable=True),
        sa.Column("location_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["cpo_party_fk"], ["party.id"], name=op.f("fk_cdr_cpo_party_fk_party"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["emsp_party_fk"], ["party.id"], name=op.f("fk_cdr_emsp_party_fk_party"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cdr")),
        sa.UniqueConstraint("country_code", "party_id", "cdr_key", name="uq_cdr_source"),
        sa.UniqueConstraint("location_id", name=op.f("uq_cdr_location_id")),
    )
    with op.batch_alter_table("cdr", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cdr_cpo_party_fk"), ["cpo_party_fk"], unique=False)
        batch_op.create_index(batch_op.f("ix_cdr_last_updated"), ["last_updated"], unique=False)
        batch_op.create_index(batch_op.f("ix_cdr_received_at"), ["received_at"], unique=False)

    op.create_table(
        "ocpi_object",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("module", sa.String(length=16), nullable=False),
        sa.Column("country_code", sa.String(length=2), nullable=False),
        sa.Column("party_id", sa.String(length=3), nullable=False),
        sa.Column("object_id", sa.String(length=64), nullable=False),
        sa.Column("object_type", sa.String(length=16), nullable=False),
        sa.Column("party_fk", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("last_updated", hub.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["party_fk"], ["party.id"], name=op.f("fk_ocpi_object_party_fk_party"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ocpi_object")),
        sa.UniqueConstraint(
            "module", "country_code", "party_id", "object_id", "object_type", name="uq_ocpi_object_key"
        ),
    )
    with op.batch_alter_table("ocpi_object", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ocpi_object_last_updated"), ["last_updated"], unique=False)
        batch_op.create_index(batch_op.f("ix_ocpi_object_party_fk"), ["party_fk"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("ocpi_object", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ocpi_object_party_fk"))
        batch_op.drop_index(batch_op.f("ix_ocpi_object_last_updated"))

    op.drop_table("ocpi_object")
    with op.batch_alter_table("cdr", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cdr_received_at"))
        batch_op.drop_index(batch_op.f("ix_cdr_last_updated"))
        batch_op.drop_index(batch_op.f("ix_cdr_cpo_party_fk"))

    op.drop_table("cdr")
    with op.batch_alter_table("callback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_callback_expires_at"))
        batch_op.drop_index(batch_op.f("ix_callback_caller_party_fk"))

    op.drop_table("callback")
    with op.batch_alter_table("traffic", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_traffic_party_fk"))
        batch_op.drop_index(batch_op.f("ix_traffic_at"))

    op.drop_table("traffic")
    with op.batch_alter_table("route_index", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_route_index_key"))

    op.drop_table("route_index")
