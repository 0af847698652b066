"""ocpi_object by module and object id: a token found by its UID whoever published it

AuthorizeStart with an RFID UID asks for the tokens every candidate eMSP published under that UID. The
unique key leads with the owner, so without its own index the look-up read every token of every eMSP,
on every call: a hub's cost per authorisation grew with the number of tokens it holds.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 03:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_ocpi_object_module_object_id", "ocpi_object", ["module", "object_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_ocpi_object_module_object_id", table_name="ocpi_object")
