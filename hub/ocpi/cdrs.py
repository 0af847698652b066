"""CDRs through the hub: never lost (DESIGN.md, "CDRs"; ocpi-hub-notes §6.3, checklist 45 to 47).

A CDR is validated and **committed before the CPO hears yes**, with its delivery queued in the same
transaction. It is idempotent on (CPO country, CPO party, CDR id): a re-POST gets the same ``Location`` and
causes no second delivery. Delivery to the eMSP is at least once, retried with back-off while the eMSP is
unreachable (operator option ``[ocpi] cdr_retry``), and dead-lettered for the operator when it never works.
Whatever happened to the push, the eMSP can GET its CDRs from the hub, and the CPO can GET a CDR through
the ``Location`` the hub gave it.
"""

from __future__ import annotations

import secrets

import structlog
from aiohttp import web
from sqlalchemy import and_, bindparam, or_, select, update
from sqlmodel import col

from hub.errors import Forbidden, HubError, NotFound
from hub.ocpi.broadcast import list_response, single_response, to_hub
from hub.ocpi.context import OcpiContext
from hub.ocpi.endpoints import find_endpoint
from hub.ocpi.hubstore import page_of_bodies
from hub.ocpi.pagination import page_headers, page_request
from hub.ocpi.relay import Inbound, answer, connection_of, send
from hub.oicp import from_ocpi
from hub.outbox import Finish, Handler, Retry, cdr_line
from hub.store.models import Cdr, OutboxItem, Party
from hub.store.rows import new_row
from hub.store.types import utcnow
from hub.validation import parse_model
from schemas.canonical.party import ConnectionStatus, PartyRef, Protocol, Role
from schemas.ocpi.v2_2_1 import CDR

log = structlog.get_logger("hub.ocpi.cdrs")

CDR_DELIVERY = "cdr"
OICP_CDR_DELIVERY = "oicp_cdr"  # to an OICP EMP: hub/oicp/cdrs.py delivers it
PENDING, DELIVERED, REJECTED, DEAD, PULL_ONLY = "pending", "delivered", "rejected", "dead", "pull-only"
HELD = "held"  # an OICP CDR no price applies to: waits for the operator, never sent to an OCPI eMSP as free


def location_url(ctx: OcpiContext, row: Cdr) -> str:
    """The hub URL the CPO gets as ``Location``: it proxies the eMSP's, whenever that exists."""
    return ctx.url(f"/ocpi/2.2.1/receiver/cdrs/{row.location_id}")


# --- POST from the CPO -------------------------------------------------------------------------------


def is_post(inbound: Inbound) -> bool:
    return inbound.module == "cdrs" and inbound.interface == "RECEIVER" and inbound.method == "POST"


async def post(inbound: Inbound) -> web.StreamResponse:
    cdr = parse_model(CDR, inbound.json)
    owner = PartyRef(country_code=cdr.country_code, party_id=cdr.party_id)
    if owner != inbound.sender:
        log.warning("security.cdr_owner_refused", platform=inbound.caller.party_fk, claimed=str(owner))
        raise Forbidden(
            f"{inbound.sender} may post only its own CDRs, not those of {owner}", field="party_id"
        )
    emsp = inbound.routing.receiver
    if emsp is None or to_hub(inbound):
        # Open routing (or TO = hub, which is never a broadcast for CDRs): the token owner (§6.3).
        emsp = PartyRef(country_code=cdr.cdr_token.country_code, party_id=cdr.cdr_token.party_id)
    target = await inbound.core.resolve(emsp, prefer=Role.EMSP)
    await inbound.core.check_agreement(inbound.sender, inbound.sender_roles, target.ref, target.roles)
    oicp = None
    if target.protocol == Protocol.OICP:  # translated once, now: the OICP EMP gets it pushed or pulls it
        oicp = await from_ocpi.oicp_cdr_body(from_ocpi.oicp_ctx(inbound), inbound.json, owner, target.ref)
    # Committed (with its delivery and its ledger entry) before the CPO hears yes; a re-POST finds the first.
    kind = OICP_CDR_DELIVERY if oicp else CDR_DELIVERY
    row, created = await inbound.ctx.cdr_writer.store(
        _row(inbound, cdr, target.ref, target.party_fk, oicp), kind
    )
    if created:
        inbound.ctx.wake(cdr_line(row))
        log.info("cdr.accepted", cdr=row.cdr_id, cpo=str(owner), emsp=str(target.ref), credit=row.credit)
    else:
        log.info("cdr.duplicate", cdr=row.cdr_id, cpo=str(owner))
    return inbound.ok(headers={"Location": location_url(inbound.ctx, row)}, status=201 if created else 200)


def new_location_id() -> str:
    """The opaque id of a stored CDR's URL at the hub (the ``Location`` its CPO is given): 160 random bits."""
    return secrets.token_hex(20)


def _row(inbound: Inbound, cdr: CDR, emsp: PartyRef, emsp_fk: int, oicp: tuple[str, str] | None) -> Cdr:
    return new_row(  # the writer inserts it with Core: SQLModel's constructor cost 140 us a CDR
        Cdr,
        protocol="ocpi",
        country_code=cdr.country_code.upper(),
        party_id=cdr.party_id.upper(),
        cdr_id=cdr.id,
        cdr_key=cdr.id.upper(),
        cpo_party_fk=inbound.caller.party_fk,
        emsp_country_code=emsp.country_code,
        emsp_party_id=emsp.party_id,
        emsp_party_fk=emsp_fk,
        body=inbound.body.decode("utf-8"),
        currency=cdr.currency,
        credit=bool(cdr.credit),
        credit_reference_id=cdr.credit_reference_id,
        start_date_time=cdr.start_date_time,
        end_date_time=cdr.end_date_time,
        last_updated=cdr.last_updated,
        location_id=new_location_id(),
        session_id=oicp[0] if oicp else cdr.session_id,
        oicp_body=oicp[1] if oicp else None,
    )


# --- delivery to the eMSP (outbox) -------------------------------------------------------------------


async def deliver(ctx: OcpiContext, item: OutboxItem) -> Finish | None:
    """Push one stored CDR to its eMSP; raise Retry while that is not possible yet. The CDR's new state is
    written with the outbox's own mark of the item (one transaction)."""
    async with ctx.db.session() as session:
        row = await session.get(Cdr, int(item.payload["cdr"]))
        party = await session.get(Party, row.emsp_party_fk) if row and row.emsp_party_fk else None
    return await _deliver_row(ctx, row, party)


async def prepare(ctx: OcpiContext, items: list[OutboxItem]) -> Handler:
    """:func:`deliver` for a claimed batch: its CDRs and their eMSPs read in one session, not one each.

    A line's CDRs go one after another, and reading each just before its POST was half of every step.
    What is read here is at most one batch old when its POST goes out (a batch is a few dozen CDRs).
    """
    ids = {int(item.payload["cdr"]) for item in items}
    async with ctx.db.session() as session:
        rows = {
            row.id: row for row in (await session.execute(select(Cdr).where(col(Cdr.id).in_(ids)))).scalars()
        }
        wanted = {row.emsp_party_fk for row in rows.values() if row.emsp_party_fk is not None}
        parties = {
            party.id: party
            for party in (await session.execute(select(Party).where(col(Party.id).in_(wanted)))).scalars()
        }

    async def deliver_prepared(item: OutboxItem) -> Finish | None:
        row = rows.get(int(item.payload["cdr"]))
        party = parties.get(row.emsp_party_fk) if row is not None and row.emsp_party_fk else None
        return await _deliver_row(ctx, row, party)

    return deliver_prepared


async def _deliver_row(ctx: OcpiContext, row: Cdr | None, party: Party | None) -> Finish | None:
    if row is None or row.delivery != PENDING:
        return None
    if party is None or party.status != ConnectionStatus.CONNECTED:
        return _retry_or_stop(ctx, row, f"eMSP {row.emsp_country_code}-{row.emsp_party_id} is not connected")
    assert party is not None and party.id is not None
    connection = await connection_of(ctx, party.id)
    url = find_endpoint(connection.endpoints, "cdrs", "RECEIVER") if connection else None
    if connection is None or url is None:
        return marked(row, PULL_ONLY)  # an offline eMSP pulls its CDRs (GET on the hub)
    try:
        reply = await send(
            ctx,
            connection,
            "POST",
            url,
            sender=PartyRef(country_code=row.country_code, party_id=row.party_id),
            receiver=PartyRef(country_code=row.emsp_country_code, party_id=row.emsp_party_id),
            body=row.body.encode("utf-8"),
        )
    except HubError as exc:
        return _retry_or_stop(ctx, row, str(exc))
    if reply.status < 300 and reply.status_code == 1000:
        log.info("cdr.delivered", cdr=row.cdr_id, emsp=f"{row.emsp_country_code}-{row.emsp_party_id}")
        return marked(row, DELIVERED, location=reply.headers.get("Location"))
    if reply.status >= 500 or reply.status_code is None or reply.status_code >= 3000:
        return _retry_or_stop(ctx, row, f"eMSP answered HTTP {reply.status}, OCPI {reply.status_code}")
    # The eMSP refused the CDR itself (2xxx): sending it again will not change its mind.
    log.error("cdr.rejected", cdr=row.cdr_id, http=reply.status, ocpi=reply.status_code)
    return marked(row, REJECTED)


def _retry_or_stop(ctx: OcpiContext, row: Cdr, reason: str) -> Finish:
    if ctx.settings.ocpi.cdr_retry:
        raise Retry(reason)
    log.info("cdr.not_retried", cdr=row.cdr_id, reason=reason)
    return marked(row, PULL_ONLY)


def marked(row: Cdr, state: str, *, location: str | None = None) -> Finish:
    """The CDR's new delivery state, written in the transaction that marks its outbox item done."""
    if state == DELIVERED:
        return Finish(_SET_DELIVERED, {"cdr_fk": row.id, "at": utcnow(), "location": location})
    return Finish(_SET_STATE, {"cdr_fk": row.id, "state": state})


# One UPDATE each, no read (loading each delivered CDR, body and all, to change three columns was most of
# that transaction); on the table, so a batch's marks run as one executemany outside the ORM.
_CDR_TABLE = Cdr.__table__  # type: ignore[attr-defined]
_SET_STATE = (
    update(_CDR_TABLE).where(_CDR_TABLE.c.id == bindparam("cdr_fk")).values(delivery=bindparam("state"))
)
_SET_DELIVERED = (
    update(_CDR_TABLE)
    .where(_CDR_TABLE.c.id == bindparam("cdr_fk"))
    .values(delivery=DELIVERED, delivered_at=bindparam("at"), emsp_location=bindparam("location"))
)


async def dead(ctx: OcpiContext, item: OutboxItem) -> None:
    """The outbox gave up: the CDR stays available to pull and shows as dead to the operator."""
    async with ctx.db.transaction() as session:
        row = await session.get(Cdr, int(item.payload["cdr"]))
        if row is not None and row.delivery == PENDING:
            row.delivery = DEAD
            log.error("cdr.dead_letter", cdr=row.cdr_id, emsp=f"{row.emsp_country_code}-{row.emsp_party_id}")


# --- GET through the Location the hub handed out -----------------------------------------------------


def is_location_get(inbound: Inbound) -> bool:
    return (
        inbound.module == "cdrs"
        and inbound.interface == "RECEIVER"
        and inbound.method == "GET"
        and len(inbound.segments) == 1
    )


async def location_get(inbound: Inbound) -> web.StreamResponse:
    """Only the CPO that posted the CDR may read it back; the eMSP's copy when it has one."""
    async with inbound.ctx.db.session() as session:
        row = (await session.execute(select(Cdr).where(col(Cdr.location_id) == inbound.segments[0]))).scalar()
    if row is not None and row.cpo_party_fk != inbound.caller.party_fk:
        log.warning("security.cdr_read_refused", platform=inbound.caller.party_fk, cdr=row.id)
    if row is None or row.cpo_party_fk != inbound.caller.party_fk:
        raise NotFound("no such CDR for this platform")
    emsp = PartyRef(country_code=row.emsp_country_code, party_id=row.emsp_party_id)
    if row.emsp_location and row.emsp_party_fk is not None:
        connection = await connection_of(inbound.ctx, row.emsp_party_fk)
        if connection is not None:
            reply = await send(
                inbound.ctx, connection, "GET", row.emsp_location, sender=inbound.sender, receiver=emsp
            )
            return answer(inbound, reply, emsp)
    return single_response(inbound, row.body)


# --- an eMSP pulls its CDRs from the hub -------------------------------------------------------------


def is_pull(inbound: Inbound) -> bool:
    return (
        inbound.module == "cdrs"
        and inbound.interface == "SENDER"
        and inbound.method == "GET"
        and to_hub(inbound)
    )


async def pull(inbound: Inbound) -> web.StreamResponse:
    """GET All via the hub: the caller's own CDRs (as eMSP), paginated, whatever happened to the push."""
    mine = [
        and_(col(Cdr.emsp_country_code) == ref.country_code, col(Cdr.emsp_party_id) == ref.party_id)
        for ref in _own_parties(inbound)
    ]
    page = page_request(inbound.request, inbound.ctx.settings.ocpi.page_limit)
    found, total = await page_of_bodies(inbound.ctx.db, Cdr, page, or_(*mine))
    headers = page_headers(inbound.ctx.url(inbound.request.path), inbound.request, page, total)
    return list_response(inbound, found, headers)


def _own_parties(inbound: Inbound) -> list[PartyRef]:
    return [
        PartyRef(country_code=str(r["country_code"]), party_id=str(r["party_id"]))
        for r in inbound.own.roles
        if str(r["role"]) == Role.EMSP.value
    ]
