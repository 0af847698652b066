"""ledger: periods, journal entries and postings, fees, statements; append-only and zero-sum triggers

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 06:03:38.270505

The ledger's invariants (DESIGN.md "Ledger", STYLE.md 8) are enforced here by the database as well as in
``hub/ledger/journal.py``:

* entries, postings and statements refuse UPDATE and DELETE (append-only; corrections are new entries);
* a closed period refuses to change (no reopening) and refuses new entries;
* an entry's postings sum to zero per currency, and an entry gets exactly ``posting_count`` postings.
  PostgreSQL checks this at COMMIT (deferred constraint triggers), so postings may arrive one by one.
  SQLite has no deferred triggers: it checks when the entry's last posting (by ``posting_count``) is
  written, and refuses any posting after that. What SQLite cannot see is an entry left with fewer
  postings than announced; the booking code always writes all of them in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hub.store.types

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_APPEND_ONLY = ("ledger_entry", "ledger_posting", "ledger_statement")

_PG_FUNCTIONS = (
    """
    CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'ledger table % is append-only: % refused', TG_TABLE_NAME, TG_OP
            USING ERRCODE = 'restrict_violation';
    END $$
    """,
    """
    CREATE FUNCTION ledger_check_entry(entry integer) RETURNS void LANGUAGE plpgsql AS $$
    DECLARE
        expected integer;
        actual integer;
    BEGIN
        SELECT posting_count INTO expected FROM ledger_entry WHERE id = entry;
        SELECT count(*) INTO actual FROM ledger_posting WHERE entry_fk = entry;
        IF actual <> expected THEN
            RAISE EXCEPTION 'ledger entry % has % postings, not %', entry, actual, expected
                USING ERRCODE = 'check_violation';
        END IF;
        IF EXISTS (SELECT 1 FROM ledger_posting WHERE entry_fk = entry
                   GROUP BY currency HAVING sum(amount) <> 0) THEN
            RAISE EXCEPTION 'ledger entry % is unbalanced: its postings do not sum to zero', entry
                USING ERRCODE = 'check_violation';
        END IF;
    END $$
    """,
    """
    CREATE FUNCTION ledger_posting_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM ledger_check_entry(NEW.entry_fk);
        RETURN NULL;
    END $$
    """,
    """
    CREATE FUNCTION ledger_entry_complete() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM ledger_check_entry(NEW.id);
        RETURN NULL;
    END $$
    """,
    """
    CREATE FUNCTION ledger_entry_open_period() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF (SELECT status FROM ledger_period WHERE id = NEW.period_fk) = 'closed' THEN
            RAISE EXCEPTION 'settlement period % is closed: no entry can be added', NEW.period_fk
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END $$
    """,
    """
    CREATE FUNCTION ledger_period_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF OLD.status = 'closed' THEN
            RAISE EXCEPTION 'settlement period % is closed and cannot change', OLD.name
                USING ERRCODE = 'restrict_violation';
        END IF;
        IF TG_OP = 'DELETE' THEN
            RETURN OLD;
        END IF;
        RETURN NEW;
    END $$
    """,
)

_PG_TRIGGERS = (
    *(
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}"
        " FOR EACH ROW EXECUTE FUNCTION ledger_append_only()"
        for table in _APPEND_ONLY
    ),
    # Deferred to COMMIT: the postings of one entry are inserted one after the other.
    "CREATE CONSTRAINT TRIGGER ledger_posting_balanced AFTER INSERT ON ledger_posting"
    " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_posting_balanced()",
    # An entry with no posting at all fires no posting trigger: check it from the entry's side too.
    "CREATE CONSTRAINT TRIGGER ledger_entry_complete AFTER INSERT ON ledger_entry"
    " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_entry_complete()",
    "CREATE TRIGGER ledger_entry_open_period BEFORE INSERT ON ledger_entry"
    " FOR EACH ROW EXECUTE FUNCTION ledger_entry_open_period()",
    "CREATE TRIGGER ledger_period_frozen BEFORE UPDATE OR DELETE ON ledger_period"
    " FOR EACH ROW EXECUTE FUNCTION ledger_period_frozen()",
)

_SQLITE_TRIGGERS = (
    *(
        f"""
        CREATE TRIGGER {table}_no_{op_name.lower()} BEFORE {op_name} ON {table}
        BEGIN SELECT RAISE(ABORT, 'ledger table {table} is append-only: {op_name} refused'); END
        """
        for table in _APPEND_ONLY
        for op_name in ("UPDATE", "DELETE")
    ),
    # The entry is closed once it has its posting_count postings: nothing may be added after that.
    """
    CREATE TRIGGER ledger_posting_entry_closed BEFORE INSERT ON ledger_posting
    WHEN (SELECT count(*) FROM ledger_posting WHERE entry_fk = NEW.entry_fk)
         >= (SELECT posting_count FROM ledger_entry WHERE id = NEW.entry_fk)
    BEGIN SELECT RAISE(ABORT, 'ledger entry is closed: it has all its postings'); END
    """,
    # No deferred triggers in SQLite: the balance is checked when the entry's last posting is written.
    """
    CREATE TRIGGER ledger_posting_balanced AFTER INSERT ON ledger_posting
    WHEN (SELECT count(*) FROM ledger_posting WHERE entry_fk = NEW.entry_fk)
         = (SELECT posting_count FROM ledger_entry WHERE id = NEW.entry_fk)
     AND EXISTS (SELECT 1 FROM ledger_posting WHERE entry_fk = NEW.entry_fk
                 GROUP BY currency HAVING sum(amount) <> 0)
    BEGIN SELECT RAISE(ABORT, 'ledger entry is unbalanced: its postings do not sum to zero'); END
    """,
    """
    CREATE TRIGGER ledger_entry_open_period BEFORE INSERT ON ledger_entry
    WHEN (SELECT status FROM ledger_period WHERE id = NEW.period_fk) = 'closed'
    BEGIN SELECT RAISE(ABORT, 'settlement period is closed: no entry can be added'); END
    """,
    """
    CREATE TRIGGER ledger_period_no_update BEFORE UPDATE ON ledger_period WHEN OLD.status = 'closed'
    BEGIN SELECT RAISE(ABORT, 'settlement period is closed and cannot change'); END
    """,
    """
    CREATE TRIGGER ledger_period_no_delete BEFORE DELETE ON ledger_period WHEN OLD.status = 'closed'
    BEGIN SELECT RAISE(ABORT, 'settlement period is closed and cannot change'); END
    """,
)


def _create_guards() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in (*_PG_FUNCTIONS, *_PG_TRIGGERS):
            op.execute(statement)
    else:
        for statement in _SQLITE_TRIGGERS:
            op.execute(statement)


def _drop_guards() -> None:
    # Dropping the tables drops their triggers on both backends; PostgreSQL keeps the functions.
    if op.get_bind().dialect.name == "postgresql":
        for name in (
            "ledger_append_only()",
            "ledger_posting_balanced()",
            "ledger_entry_complete()",
            "ledger_check_entry(integer)",
            "ledger_entry_open_period()",
            "ledger_period_frozen()",
        ):
            op.execute(f"DROP FUNCTION IF EXISTS {name} CASCADE")


def upgrade() -> None:
    op.create_table(
        "ledger_fee",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("party", sa.String(length=8), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("fixed_units", sa.BigInteger(), nullable=False),
        sa.Column("percent_units", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", hub.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_fee")),
        sa.UniqueConstraint("party", "currency", name="uq_ledger_fee_party_currency"),
    )
    op.create_table(
        "ledger_period",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=16), nullable=False),
        sa.Column("starts_at", hub.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", hub.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("closed_at", hub.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('open', 'closed')", name=op.f("ck_ledger_period_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_period")),
        sa.UniqueConstraint("name", name=op.f("uq_ledger_period_name")),
    )
    op.create_table(
        "ledger_statement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period_fk", sa.Integer(), nullable=False),
        sa.Column("party", sa.String(length=8), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", hub.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["period_fk"],
            ["ledger_period.id"],
            name=op.f("fk_ledger_statement_period_fk_ledger_period"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_statement")),
        sa.UniqueConstraint("period_fk", "party", name="uq_ledger_statement_period_party"),
    )
    op.create_table(
        "ledger_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_cdr_fk", sa.Integer(), nullable=True),
        sa.Column("period_fk", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("cpo", sa.String(length=8), nullable=False),
        sa.Column("emsp", sa.String(length=8), nullable=False),
        sa.Column("session_date", hub.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("booked_at", hub.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reverses_entry_fk", sa.Integer(), nullable=True),
        sa.Column("posting_count", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.CheckConstraint("posting_count >= 2", name=op.f("ck_ledger_entry_posting_count")),
        sa.ForeignKeyConstraint(
            ["period_fk"],
            ["ledger_period.id"],
            name=op.f("fk_ledger_entry_period_fk_ledger_period"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["reverses_entry_fk"],
            ["ledger_entry.id"],
            name=op.f("fk_ledger_entry_reverses_entry_fk_ledger_entry"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["source_cdr_fk"], ["cdr.id"], name=op.f("fk_ledger_entry_source_cdr_fk_cdr"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_entry")),
        sa.UniqueConstraint("source_cdr_fk", name=op.f("uq_ledger_entry_source_cdr_fk")),
    )
    with op.batch_alter_table("ledger_entry", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ledger_entry_booked_at"), ["booked_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_ledger_entry_period_fk"), ["period_fk"], unique=False)

    op.create_table(
        "ledger_posting",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_fk", sa.Integer(), nullable=False),
        sa.Column("party", sa.String(length=8), nullable=False),
        sa.Column("counterparty", sa.String(length=8), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("kind IN ('cost', 'vat', 'fee')", name=op.f("ck_ledger_posting_kind")),
        sa.ForeignKeyConstraint(
            ["entry_fk"],
            ["ledger_entry.id"],
            name=op.f("fk_ledger_posting_entry_fk_ledger_entry"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_posting")),
    )
    with op.batch_alter_table("ledger_posting", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ledger_posting_entry_fk"), ["entry_fk"], unique=False)
        batch_op.create_index(batch_op.f("ix_ledger_posting_party"), ["party"], unique=False)

    _create_guards()


def downgrade() -> None:
    _drop_guards()
    with op.batch_alter_table("ledger_posting", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_posting_party"))
        batch_op.drop_index(batch_op.f("ix_ledger_posting_entry_fk"))

    op.drop_table("ledger_posting")
    with op.batch_alter_table("ledger_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_entry_period_fk"))
        batch_op.drop_index(batch_op.f("ix_ledger_entry_booked_at"))

    op.drop_table("ledger_entry")
    op.drop_table("ledger_statement")
    op.drop_table("ledger_period")
    op.drop_table("ledger_fee")
