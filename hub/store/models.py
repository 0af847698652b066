"""The hub's tables. Schema changes go through Alembic migrations (``hub/store/migrations``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Text,
    UniqueConstraint,
    text,
)
from sqlmodel import Field, SQLModel

from hub.store.types import UTCDateTime, utcnow

# Stable constraint names, so migrations can refer to them on both backends.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata: MetaData = SQLModel.metadata


def _party_fk() -> Any:
    return Column(Integer, ForeignKey("party.id", ondelete="CASCADE"), nullable=False, index=True)


class Party(SQLModel, table=True):
    """A partner the operator admitted: one platform, speaking one protocol, in one or more roles."""

    __tablename__ = "party"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    protocol: str = Field(max_length=8)
    status: str = Field(max_length=16, default="PLANNED")
    base_url: str | None = Field(default=None, max_length=255)
    # OICP: the partner's CA bundle (PEM) for verifying it when the hub calls it, and per-service base
    # URLs ({"charging": url, "cdrmgmt": null, ...}; null = service not offered, missing = base_url).
    oicp_ca: str | None = Field(default=None, sa_type=Text)
    oicp_services: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PartyRole(SQLModel, table=True):
    """One (country, party, role) a partner may speak for; unique across the hub."""

    __tablename__ = "party_role"
    __table_args__ = (UniqueConstraint("country_code", "party_id", "role", name="uq_party_role_identity"),)

    id: int | None = Field(default=None, primary_key=True)
    party_fk: int = Field(sa_column=_party_fk())
    country_code: str = Field(max_length=2)
    party_id: str = Field(max_length=3)
    role: str = Field(max_length=8)
    oicp_id: str | None = Field(default=None, max_length=16, unique=True)


class CredentialToken(SQLModel, table=True):
    """A token a partner presents to the hub, kept only as its SHA-256 hash.

    ``kind`` is ``A`` (one-time registration token) or ``C`` (the token of a registered platform).
    ``expires_at`` bounds a token's life, e.g. the old token C's grace period after a re-key.
    """

    __tablename__ = "credential_token"

    id: int | None = Field(default=None, primary_key=True)
    party_fk: int = Field(sa_column=_party_fk())
    kind: str = Field(max_length=1)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class OcpiConnection(SQLModel, table=True):
    """How the hub calls a registered OCPI platform: its version, endpoints and token B (encrypted)."""

    __tablename__ = "ocpi_connection"

    party_fk: int = Field(
        sa_column=Column(Integer, ForeignKey("party.id", ondelete="CASCADE"), primary_key=True)
    )
    version: str = Field(max_length=8)
    versions_url: str = Field(max_length=255)
    token_b: str = Field(sa_type=Text)
    endpoints: list[dict[str, str]] = Field(default_factory=list, sa_type=JSON)
    roles: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    registered_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    checked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Many 2.1.1/2.2 peers expect the raw token rather than Base64 (2.2.1 d2 note); learnt on registration.
    encode_token: bool = True


class Agreement(SQLModel, table=True):
    """A roaming agreement: this CPO and this eMSP may exchange traffic (policy ``explicit``)."""

    __tablename__ = "agreement"
    __table_args__ = (
        UniqueConstraint(
            "cpo_country_code", "cpo_party_id", "emsp_country_code", "emsp_party_id", name="uq_agreement_pair"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    cpo_country_code: str = Field(max_length=2)
    cpo_party_id: str = Field(max_length=3)
    emsp_country_code: str = Field(max_length=2)
    emsp_party_id: str = Field(max_length=3)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


_OUTBOX_PENDING = text("delivered_at IS NULL AND dead_at IS NULL")


class OutboxItem(SQLModel, table=True):
    """Durable work for the hub's background dispatcher: committed with the change that caused it.

    Workers claim due items with ``FOR UPDATE SKIP LOCKED`` (PostgreSQL), so several hub processes
    share the queue and none delivers an item another is working on.
    """

    __tablename__ = "outbox"
    # The claim reads undone items only; delivered and dead ones stay as the record, so the indexes it
    # walks are partial: their size follows the work still to do, not the history (migration 0008).
    __table_args__ = (
        Index("ix_outbox_line_id", "line", "id"),
        Index("ix_outbox_pending", "id", sqlite_where=_OUTBOX_PENDING, postgresql_where=_OUTBOX_PENDING),
        Index(
            "ix_outbox_pending_line",
            "line",
            "id",
            sqlite_where=_OUTBOX_PENDING,
            postgresql_where=_OUTBOX_PENDING,
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=32)
    party_fk: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("party.id", ondelete="CASCADE"), nullable=True)
    )
    # Items of one line are delivered strictly one after another, in id order (a CDR owner's CDRs to one
    # eMSP); an item waits while an earlier one of its line is undone. None: no order is kept.
    line: str | None = Field(default=None, max_length=96)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    available_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    attempts: int = 0
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    dead_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, sa_type=Text)


class HubObject(SQLModel, table=True):
    """An OCPI object broadcast to the hub (TO = hub): kept, merged with later patches, served for GET All.

    ``body`` is the JSON text as the owner sent it (merged patches re-serialised with numbers kept as
    written), so what the hub serves is what was sent. Keys are upper-cased: ids are CiStrings.
    """

    __tablename__ = "ocpi_object"
    __table_args__ = (
        UniqueConstraint(
            "module", "country_code", "party_id", "object_id", "object_type", name="uq_ocpi_object_key"
        ),
        # A token by its UID, whoever published it (AuthorizeStart, migration 0009).
        Index("ix_ocpi_object_module_object_id", "module", "object_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    module: str = Field(max_length=16)
    country_code: str = Field(max_length=2)
    party_id: str = Field(max_length=3)
    object_id: str = Field(max_length=64)
    object_type: str = Field(default="", max_length=16)
    party_fk: int = Field(sa_column=_party_fk())
    body: str = Field(sa_type=Text)
    last_updated: datetime = Field(sa_type=UTCDateTime, index=True)


class RouteIndex(SQLModel, table=True):
    """What open routing learnt from traffic: which party owns a location, session, reservation or token."""

    __tablename__ = "route_index"
    __table_args__ = (UniqueConstraint("kind", "key", "country_code", "party_id", name="uq_route_index_key"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)
    key: str = Field(max_length=80, index=True)
    country_code: str = Field(max_length=2)
    party_id: str = Field(max_length=3)
    # The other side, where the object has one (a session's eMSP, a reservation's eMSP).
    peer_country_code: str | None = Field(default=None, max_length=2)
    peer_party_id: str | None = Field(default=None, max_length=3)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Callback(SQLModel, table=True):
    """A hub URL standing in for a partner's URL: a command's ``response_url``, a CDR's ``Location``.

    The id is unguessable; only ``caller_party_fk`` may use it, and it stops working at ``expires_at``.
    """

    __tablename__ = "callback"

    id: str = Field(primary_key=True, max_length=64)
    kind: str = Field(max_length=24)
    detail: str = Field(default="", max_length=40)
    target_url: str = Field(sa_type=Text)
    caller_party_fk: int = Field(sa_column=_party_fk())
    target_party_fk: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("party.id", ondelete="CASCADE"), nullable=True)
    )
    sender_country_code: str = Field(max_length=2)
    sender_party_id: str = Field(max_length=3)
    receiver_country_code: str = Field(max_length=2)
    receiver_party_id: str = Field(max_length=3)
    correlation_id: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Cdr(SQLModel, table=True):
    """A charge detail record the hub accepted: stored before the CPO hears yes, delivered at least once.

    Unique on (CPO country, CPO party, CDR id): a re-POST finds this row instead of creating a second one.
    """

    __tablename__ = "cdr"
    __table_args__ = (UniqueConstraint("country_code", "party_id", "cdr_key", name="uq_cdr_source"),)

    id: int | None = Field(default=None, primary_key=True)
    protocol: str = Field(default="ocpi", max_length=8)
    country_code: str = Field(max_length=2)
    party_id: str = Field(max_length=3)
    cdr_id: str = Field(max_length=64)
    cdr_key: str = Field(max_length=64)
    cpo_party_fk: int = Field(sa_column=_party_fk())
    emsp_country_code: str = Field(max_length=2)
    emsp_party_id: str = Field(max_length=3)
    emsp_party_fk: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("party.id", ondelete="SET NULL"), nullable=True)
    )
    body: str = Field(sa_type=Text)
    currency: str = Field(max_length=3)
    credit: bool = False
    credit_reference_id: str | None = Field(default=None, max_length=64)
    start_date_time: datetime = Field(sa_type=UTCDateTime)
    end_date_time: datetime = Field(sa_type=UTCDateTime)
    last_updated: datetime = Field(sa_type=UTCDateTime, index=True)
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    # pending -> delivered | dead (see hub/ocpi/cdrs.py)
    delivery: str = Field(default="pending", max_length=16)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    emsp_location: str | None = Field(default=None, sa_type=Text)
    location_id: str = Field(max_length=64, unique=True)
    # The CDR as OICP writes it (cdrmgmt v2.2): the original of an OICP CPO's CDR, or the translation of an
    # OCPI CDR bound for an OICP EMP. ``body`` is always the OCPI 2.2.1 form (priced, or held unpriced).
    oicp_body: str | None = Field(default=None, sa_type=Text)
    session_id: str | None = Field(default=None, max_length=64, index=True)


class TrafficRecord(SQLModel, table=True):
    """One message in or out of the hub, for the operator: ids, parties, outcome, latency; never tokens."""

    __tablename__ = "traffic"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime, index=True)
    direction: str = Field(max_length=3)
    protocol: str = Field(max_length=8)
    module: str = Field(default="", max_length=32)
    method: str = Field(max_length=8)
    path: str = Field(sa_type=Text)
    party_fk: int | None = Field(default=None, index=True)
    sender: str | None = Field(default=None, max_length=16)
    receiver: str | None = Field(default=None, max_length=16)
    http_status: int | None = None
    status_code: str | None = Field(default=None, max_length=8)
    latency_ms: float | None = None
    request_id: str | None = Field(default=None, max_length=64)
    correlation_id: str | None = Field(default=None, max_length=64)


class Certificate(SQLModel, table=True):
    """A client certificate the hub's partner CA issued (OICP mutual TLS, DESIGN.md "OICP security").

    A presented certificate is accepted only if its fingerprint is here, unrevoked and unexpired; it maps
    to one partner, and through the partner's roles to its OperatorIDs and ProviderIDs.
    """

    __tablename__ = "certificate"

    id: int | None = Field(default=None, primary_key=True)
    party_fk: int = Field(sa_column=_party_fk())
    serial: str = Field(max_length=64, unique=True)
    fingerprint: str = Field(max_length=64, unique=True)  # SHA-256 of the DER certificate, hex
    subject: str = Field(max_length=255)
    not_before: datetime = Field(sa_type=UTCDateTime)
    not_after: datetime = Field(sa_type=UTCDateTime)
    issued_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


# --- settlement ledger (hub/ledger; DESIGN.md "Ledger") ---------------------------------------------
# Entries, postings and statements are append-only: triggers in migration 0005 refuse UPDATE and DELETE,
# and refuse an entry whose postings do not sum to zero per currency.


class LedgerPeriod(SQLModel, table=True):
    """A settlement period (``2026-11`` when monthly): open, then closed for good (hub/ledger/periods.py)."""

    __tablename__ = "ledger_period"
    __table_args__ = (CheckConstraint("status IN ('open', 'closed')", name="status"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=16, unique=True)
    starts_at: datetime = Field(sa_type=UTCDateTime)
    ends_at: datetime = Field(sa_type=UTCDateTime)
    status: str = Field(default="open", max_length=8)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class JournalEntry(SQLModel, table=True):
    """One balanced journal entry; exactly one per source CDR (unique ``source_cdr_fk``).

    ``posting_count`` is how many postings the entry has: once they are all written the entry is closed,
    which lets SQLite (no deferred triggers) check the balance when the last posting arrives.
    """

    __tablename__ = "ledger_entry"
    __table_args__ = (CheckConstraint("posting_count >= 2", name="posting_count"),)

    id: int | None = Field(default=None, primary_key=True)
    source_cdr_fk: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("cdr.id", ondelete="RESTRICT"), nullable=True, unique=True),
    )
    period_fk: int = Field(
        sa_column=Column(
            Integer, ForeignKey("ledger_period.id", ondelete="RESTRICT"), nullable=False, index=True
        )
    )
    kind: str = Field(max_length=8)
    cpo: str = Field(max_length=8)
    emsp: str = Field(max_length=8)
    session_date: datetime = Field(sa_type=UTCDateTime)
    booked_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    reverses_entry_fk: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("ledger_entry.id", ondelete="RESTRICT"), nullable=True),
    )
    posting_count: int
    note: str | None = Field(default=None, sa_type=Text)


class JournalPosting(SQLModel, table=True):
    """One leg of an entry: ``party`` is owed ``amount`` (10⁻⁴ units) by ``counterparty`` (< 0: owes it)."""

    __tablename__ = "ledger_posting"
    __table_args__ = (CheckConstraint("kind IN ('cost', 'vat', 'fee')", name="kind"),)

    id: int | None = Field(default=None, primary_key=True)
    entry_fk: int = Field(
        sa_column=Column(
            Integer, ForeignKey("ledger_entry.id", ondelete="RESTRICT"), nullable=False, index=True
        )
    )
    party: str = Field(max_length=8, index=True)
    counterparty: str = Field(max_length=8)
    kind: str = Field(max_length=8)
    currency: str = Field(max_length=3)
    amount: int = Field(sa_type=BigInteger)


class LedgerFee(SQLModel, table=True):
    """The hub's fee for one party in one currency: fixed per CDR and/or a percentage of the cost excl. VAT.

    Both are integers in units of 10⁻⁴ (``percent_units`` 15000 is 1.5 %). Changing a fee affects later
    bookings only: entries keep the fee they were booked with.
    """

    __tablename__ = "ledger_fee"
    __table_args__ = (UniqueConstraint("party", "currency", name="uq_ledger_fee_party_currency"),)

    id: int | None = Field(default=None, primary_key=True)
    party: str = Field(max_length=8)
    currency: str = Field(max_length=3)
    fixed_units: int = Field(default=0, sa_type=BigInteger)
    percent_units: int = Field(default=0, sa_type=BigInteger)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class LedgerStatement(SQLModel, table=True):
    """A party's statement for a closed period, frozen as JSON when the period closed."""

    __tablename__ = "ledger_statement"
    __table_args__ = (UniqueConstraint("period_fk", "party", name="uq_ledger_statement_period_party"),)

    id: int | None = Field(default=None, primary_key=True)
    period_fk: int = Field(
        sa_column=Column(Integer, ForeignKey("ledger_period.id", ondelete="RESTRICT"), nullable=False)
    )
    party: str = Field(max_length=8)
    body: str = Field(sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


# --- OICP (hub/oicp; oicp-hub-notes) ------------------------------------------------------------------


class OicpSession(SQLModel, table=True):
    """A session the hub minted the SessionID for (notes §1 "Sessions"): open until its one CDR arrives.

    ``cpo_party_fk``/``operator_id`` and ``emp_party_fk``/``provider_id`` name the two ends (either may be
    an OCPI party when the session crosses protocols); ``ocpi_ref`` links an OCPI session or command.
    """

    __tablename__ = "oicp_session"

    session_id: str = Field(primary_key=True, max_length=36)
    kind: str = Field(default="charging", max_length=12)
    status: str = Field(default="open", max_length=8)
    cpo_party_fk: int = Field(sa_column=_party_fk())
    operator_id: str = Field(max_length=16)
    emp_party_fk: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("party.id", ondelete="SET NULL"), nullable=True)
    )
    provider_id: str | None = Field(default=None, max_length=16)
    evse_id: str | None = Field(default=None, max_length=48)
    identification: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    authorized_by: str = Field(default="online", max_length=8)
    cpo_partner_session_id: str | None = Field(default=None, max_length=250)
    emp_partner_session_id: str | None = Field(default=None, max_length=250)
    ocpi_ref: str | None = Field(default=None, max_length=120, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class OicpEvse(SQLModel, table=True):
    """An EVSE a CPO pushed (PushEvseData) and its status (PushEvseStatus), with tombstones for deltas.

    ``evse_key`` is the EvseID normalised (upper case, no ``*``); ``updated_at`` drives LastCall pulls.
    """

    __tablename__ = "oicp_evse"

    id: int | None = Field(default=None, primary_key=True)
    operator_party_fk: int = Field(sa_column=_party_fk())
    operator_id: str = Field(max_length=16, index=True)
    operator_name: str | None = Field(default=None, max_length=100)
    evse_key: str = Field(max_length=48, unique=True)
    evse_id: str = Field(max_length=48)
    data: str | None = Field(default=None, sa_type=Text)
    status: str | None = Field(default=None, max_length=16)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    status_updated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    deleted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class OicpPricing(SQLModel, table=True):
    """Dynamic pricing a CPO pushed: a pricing product (``kind`` product) or an EVSE's product list (evse).

    ``provider_id`` is the EMP it is offered to, or ``*`` for all (notes §2, #17 to #20).
    """

    __tablename__ = "oicp_pricing"
    __table_args__ = (
        UniqueConstraint("kind", "operator_key", "provider_id", "item_key", name="uq_oicp_pricing_item"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=8)
    operator_party_fk: int = Field(sa_column=_party_fk())
    operator_key: str = Field(max_length=16)
    provider_id: str = Field(max_length=16)
    item_key: str = Field(max_length=64)
    body: str = Field(sa_type=Text)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    deleted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class OicpAuthData(SQLModel, table=True):
    """Authentication data an EMP pushed (offline authorisation, notes §2 #9): one row per medium.

    ``lookup_key`` is the UID or EvcoID, normalised; a PIN is kept only as a hash inside ``record``.
    """

    __tablename__ = "oicp_auth_data"
    __table_args__ = (UniqueConstraint("provider_party_fk", "lookup_key", name="uq_oicp_auth_data_key"),)

    id: int | None = Field(default=None, primary_key=True)
    provider_party_fk: int = Field(sa_column=_party_fk())
    provider_id: str = Field(max_length=16)
    lookup_key: str = Field(max_length=64, index=True)
    record: str = Field(sa_type=Text)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
