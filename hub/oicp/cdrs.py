"""Charge detail records over OICP (oicp-hub-notes §2 #7, #8, §6).

A CDR must name an open session of its CPO (400), an EvseID of the operator in the path (018), and pass
Hubject's plausibility checks (022). It is **stored before the CPO hears yes**, closes its session (one
CDR per session), and is booked in the same transaction when it has a price. OICP CDRs carry none: the hub
prices them from the CPO's pricing products (hub/oicp/pricing.py, adapters/pricing.py); ``cdr.body`` keeps
the OCPI form. The CDR then goes on at least once: unchanged to an online OICP EMP, translated to an OCPI
eMSP. A CDR no price applies to is *held* for the operator, never sent to an OCPI eMSP as free; an OICP
EMP gets it as Hubject would send it. Whatever happened to the push, GetChargeDetailRecords has it.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from adapters import pricing as cdr_pricing
from adapters.ocpi import cdrs as ocpi_cdrs
from adapters.oicp import cdr as oicp_cdr
from hub import outbox
from hub.config import Settings
from hub.errors import HubError, InconsistentEvseId, InvalidParameters, InvalidSession
from hub.ledger.booking import book_cdr
from hub.ocpi import cdrs as ocpi_delivery
from hub.oicp import directory, sessions
from hub.oicp import pricing as pricing_store
from hub.oicp.directory import Member
from hub.oicp.evse_query import evse_key
from hub.outbox import Retry
from hub.store.db import Database
from hub.store.models import Cdr, OicpEvse, OicpSession, OutboxItem
from hub.store.types import utcnow
from schemas.canonical.cdr import Cdr as CanonicalCdr
from schemas.canonical.party import PartyRef, Role, normalise_oicp_id
from schemas.oicp.v2_3 import StatusCode, StatusCodeType, eRoamingAcknowledgement, operator_id_of
from schemas.oicp.v2_3.cdr import eRoamingChargeDetailRecord
from schemas.oicp.v2_3.common import page_fields
from schemas.oicp.v2_3.endpoints import BY_NAME

if TYPE_CHECKING:
    from hub.oicp.context import OicpContext
    from hub.oicp.frontdoor import Answer, OicpCall

log = structlog.get_logger("hub.oicp.cdrs")

OICP_CDR_DELIVERY = ocpi_delivery.OICP_CDR_DELIVERY
HELD = ocpi_delivery.HELD
MAX_ENERGY_KWH = Decimal(1000)  # above: probably Wh sent (notes §6)
CLOCK_SKEW = timedelta(minutes=1)
MAX_PAGE = 2000


# --- the CPO sends a CDR (#7) ---------------------------------------------------------------------------


async def receive(call: OicpCall) -> Answer:
    record: eRoamingChargeDetailRecord = call.body
    ctx, operator_id = call.ctx, call.params["operatorID"]
    session = await sessions.require_open(ctx.db, record.session_id, cpo_party_fk=call.caller.party_fk)
    if normalise_oicp_id(operator_id_of(record.evse_id)) != normalise_oicp_id(operator_id):
        raise InconsistentEvseId(f"{record.evse_id} is not an EVSE of {operator_id}", field="EvseID")
    await check_plausible(ctx, record, utcnow())
    cpo = await directory.own_member(ctx.db, call.caller.party_fk, operator_id, Role.CPO)
    emp = await directory.by_oicp_id(ctx.db, session.provider_id or "", Role.EMSP)
    if emp is None:
        raise InvalidSession(
            f"the EMP of session {record.session_id} is no longer admitted", field="SessionID"
        )
    raw = (await call.request.read()).decode("utf-8")
    row = await _store(ctx, record, raw, cpo, emp)
    log.info("oicp.cdr_accepted", session=record.session_id, emp=emp.oicp_id, delivery=row.delivery)
    return eRoamingAcknowledgement(
        result=True,
        status_code=StatusCode.of(StatusCodeType.SUCCESS),
        session_id=record.session_id,
        cpo_partner_session_id=record.cpo_partner_session_id,
        emp_partner_session_id=record.emp_partner_session_id or session.emp_partner_session_id,
    )


async def check_plausible(ctx: OicpContext, record: eRoamingChargeDetailRecord, now: datetime) -> None:
    """Hubject's CDR checks (notes §6), each a 022 naming what is wrong."""
    if record.consumed_energy > MAX_ENERGY_KWH:
        raise InvalidParameters(
            "Please check the ConsumedEnergy value (above 1000 kWh)", field="ConsumedEnergy"
        )
    if record.consumed_energy < 0:
        raise InvalidParameters("consumed energy can't be less than 0", field="ConsumedEnergy")
    start, end = record.meter_value_start, record.meter_value_end
    if start is not None and end is not None and end < start:
        raise InvalidParameters("consumed energy can't be less than 0", field="MeterValueEnd")
    if record.charging_end < record.charging_start:
        raise InvalidParameters("ChargingEnd is before ChargingStart", field="ChargingEnd")
    if record.session_end < record.session_start:
        raise InvalidParameters("SessionEnd is before SessionStart", field="SessionEnd")
    if record.session_end > now + CLOCK_SKEW:
        raise InvalidParameters("SessionEnd is in the future", field="SessionEnd")
    if not record.signed_metering_values and await _external_calibration(ctx, record.evse_id):
        raise InvalidParameters(
            "Data Inconsistency found: the EVSE's calibration law data is External but the CDR has no"
            " SignedMeteringValues",
            field="SignedMeteringValues",
        )


async def _external_calibration(ctx: OicpContext, evse_id: str) -> bool:
    query = select(col(OicpEvse.data)).where(col(OicpEvse.evse_key) == evse_key(evse_id))
    async with ctx.db.session() as session:
        data = (await session.execute(query)).scalar()
    if not data:
        return False
    record = json.loads(data)
    return isinstance(record, dict) and record.get("CalibrationLawDataAvailability") == "External"


async def price(db: Database, cdr: CanonicalCdr, operator_id: str, provider_id: str) -> CanonicalCdr | None:
    """The CDR priced from the CPO's pricing products for this EMP (or for all); None if none applies."""
    products, evse_products = await pricing_store.products_for(db, operator_id, provider_id, cdr.evse_id)
    if not products:
        return None
    return cdr_pricing.price(cdr, products, evse_products, provider_id=provider_id)


async def _store(
    ctx: OicpContext, record: eRoamingChargeDetailRecord, raw: str, cpo: Member, emp: Member
) -> Cdr:
    canonical = oicp_cdr.to_canonical(record, cpo.ref, emp.ref)
    priced = await price(ctx.db, canonical, cpo.oicp_id, emp.oicp_id)
    body = json.dumps(ocpi_cdrs.from_canonical(priced, utcnow())) if priced is not None else raw
    row = Cdr(
        protocol="oicp",
        country_code=cpo.ref.country_code,
        party_id=cpo.ref.party_id,
        cdr_id=record.session_id,
        cdr_key=record.session_id.upper(),
        cpo_party_fk=cpo.party_fk,
        emsp_country_code=emp.ref.country_code,
        emsp_party_id=emp.ref.party_id,
        emsp_party_fk=emp.party_fk,
        body=body,
        currency=(priced.currency if priced is not None and priced.currency else "XXX"),
        start_date_time=record.session_start,
        end_date_time=record.session_end,
        last_updated=utcnow(),
        location_id=ocpi_delivery.new_location_id(),
        oicp_body=raw,
        session_id=record.session_id,
    )
    # An OICP EMP gets the CDR as Hubject sends it; an OCPI eMSP only with a price (else: held for review).
    held = not emp.is_oicp and priced is None
    if held:
        row.delivery = HELD
    try:
        async with ctx.db.transaction() as session:
            open_row = await session.get(OicpSession, record.session_id, with_for_update=True)
            if open_row is None or open_row.status != sessions.OPEN:
                raise InvalidSession(f"session {record.session_id} already has its CDR", field="SessionID")
            sessions.close(open_row)
            session.add(row)
            await session.flush()
            if not held:
                outbox.enqueue(
                    session,
                    _delivery_kind(emp),
                    {"cdr": row.id},
                    party_fk=emp.party_fk,
                    line=outbox.cdr_line(row),
                )
            await book_cdr(session, row, ctx.settings)
    except IntegrityError as exc:
        raise InvalidSession(f"session {record.session_id} already has its CDR", field="SessionID") from exc
    if not held:
        ctx.wake()
    return row


def _delivery_kind(emp: Member) -> str:
    """How the CDR reaches its EMP: unchanged over OICP, or in its OCPI form."""
    return OICP_CDR_DELIVERY if emp.is_oicp else ocpi_delivery.CDR_DELIVERY


# --- a held CDR priced later (``roamhub cdrs retry``) -------------------------------------------------


async def reprice(db: Database, settings: Settings, cdr_pk: int) -> bool:
    """Price a held CDR with the pricing products known now; booked and queued for its eMSP if it worked."""
    async with db.session() as session:
        row = await session.get(Cdr, cdr_pk)
    if row is None or row.delivery != HELD or row.oicp_body is None:
        return False
    record = eRoamingChargeDetailRecord.model_validate_json(row.oicp_body)
    cpo = await directory.by_ref(db, _cpo_ref(row), Role.CPO)
    emp = await directory.by_ref(
        db, PartyRef(country_code=row.emsp_country_code, party_id=row.emsp_party_id), Role.EMSP
    )
    if cpo is None or emp is None:
        return False
    priced = await price(db, oicp_cdr.to_canonical(record, cpo.ref, emp.ref), cpo.oicp_id, emp.oicp_id)
    if priced is None:
        return False
    async with db.transaction() as session:
        held = await session.get(Cdr, cdr_pk, with_for_update=True)
        if held is None or held.delivery != HELD:
            return False
        held.body = json.dumps(ocpi_cdrs.from_canonical(priced, utcnow()))
        held.currency = priced.currency or held.currency
        held.delivery = ocpi_delivery.PENDING
        outbox.enqueue(
            session,
            _delivery_kind(emp),
            {"cdr": held.id},
            party_fk=emp.party_fk,
            line=outbox.cdr_line(held),
        )
        await book_cdr(session, held, settings)
    log.info("oicp.cdr_priced_later", session=row.cdr_id)
    return True


# --- delivery to an OICP EMP (outbox) ------------------------------------------------------------------


async def deliver(ctx: OicpContext, item: OutboxItem) -> outbox.Finish | None:
    """Forward one stored CDR to its OICP EMP on the same path (notes §6); Retry while it cannot."""
    async with ctx.db.session() as session:
        row = await session.get(Cdr, int(item.payload["cdr"]))
    if row is None or row.delivery != ocpi_delivery.PENDING or row.oicp_body is None:
        return None
    link = await ctx.link(row.emsp_party_fk) if row.emsp_party_fk is not None else None
    operation = BY_NAME["eRoamingChargeDetailRecord"]
    if link is None or not link.offers(operation.service):
        return ocpi_delivery.marked(row, ocpi_delivery.PULL_ONLY)  # an offline EMP pulls (#8)
    cpo = await directory.by_ref(ctx.db, _cpo_ref(row), Role.CPO)
    params = {"operatorID": cpo.oicp_id if cpo else f"{row.country_code}*{row.party_id}"}
    try:
        answer = await ctx.client.call(link, operation, row.oicp_body.encode("utf-8"), params=params)
    except HubError as exc:
        raise Retry(str(exc)) from exc
    ack = answer.get("Result")
    if ack is True:
        log.info("oicp.cdr_delivered", session=row.cdr_id, emp=link.name)
        return ocpi_delivery.marked(row, ocpi_delivery.DELIVERED)
    code = (answer.get("StatusCode") or {}).get("Code")
    if code in ("021", "001", "002", "310"):
        raise Retry(f"the EMP answered {code}")
    log.error("oicp.cdr_rejected", session=row.cdr_id, code=code)
    return ocpi_delivery.marked(row, ocpi_delivery.REJECTED)


def _cpo_ref(row: Cdr) -> PartyRef:
    return PartyRef(country_code=row.country_code, party_id=row.party_id)


# --- the EMP pulls its CDRs (#8) ------------------------------------------------------------------------


async def get_records(call: OicpCall) -> Answer:
    request, ctx = call.body, call.ctx
    page = call.query_int("page", 0)
    size = max(1, call.query_int("size", 20, maximum=MAX_PAGE))
    conditions = [
        col(Cdr.emsp_party_fk) == call.caller.party_fk,
        col(Cdr.oicp_body).is_not(None),
        col(Cdr.received_at) >= request.from_,
        col(Cdr.received_at) <= request.to,
    ]
    if request.session_id:
        conditions.append(col(Cdr.session_id).in_(request.session_id))
    if request.cdr_forwarded is not None:
        delivered = col(Cdr.delivery) == ocpi_delivery.DELIVERED
        conditions.append(delivered if request.cdr_forwarded else ~delivered)
    async with ctx.db.session() as session:
        rows = (await session.execute(select(Cdr).where(*conditions).order_by(col(Cdr.id)))).scalars().all()
    bodies = [json.loads(r.oicp_body or "{}") for r in rows]
    if request.operator_ids:
        wanted = {normalise_oicp_id(o) for o in request.operator_ids}
        bodies = [b for b in bodies if normalise_oicp_id(operator_id_of(str(b.get("EvseID", "")))) in wanted]
    return page_of(bodies, page, size)


def page_of(items: list[Any], page: int, size: int) -> dict[str, Any]:
    """A Spring Data page of stored CDRs, each as the CPO sent it (notes §2.1, §6)."""
    chunk = items[page * size : (page + 1) * size]
    fields = page_fields(len(items), page, size, len(chunk))
    return {**fields, "content": chunk, "StatusCode": {"Code": "000", "Description": "Success"}}
