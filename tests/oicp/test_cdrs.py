"""CDRs over OICP: session checks, Hubject's plausibility checks, store-before-answer, forward, pull (§6)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from hub.simulators.oicp import OicpPartner
from hub.simulators.oicp_samples import sample_cdr, sample_evse_record, sample_pricing_record
from hub.store.models import Cdr, JournalEntry
from tests.oicp.conftest import OicpHub, PartnerFactory, assert_valid_traffic

UID = "AABBCCDD"
EVSE = "DE*CPO*E1"


async def authorized(cpo: OicpPartner) -> str:
    answer = await cpo.authorize_start(UID, EVSE)
    assert answer["AuthorizationStatus"] == "Authorized", answer
    return str(answer["SessionID"])


def cdr_for(session_id: str, kwh: str = "11.5", **overrides: Any) -> Any:
    end = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    return sample_cdr(session_id, EVSE, UID, end - timedelta(hours=1), end, Decimal(kwh), **overrides)


async def stored(hub: OicpHub) -> list[Cdr]:
    async with hub.db.session() as session:
        return list((await session.execute(select(Cdr).order_by(Cdr.id))).scalars())  # type: ignore[arg-type]


async def test_a_cdr_is_stored_closes_its_session_and_reaches_the_emp_unchanged(
    oicp_hub: OicpHub, partner: PartnerFactory
) -> None:
    cpo = await partner("cpo", "DE", "CPO")
    emp = await partner("emp", "DE", "EMP", tokens=[UID])
    session_id = await authorized(cpo)
    ack = await cpo.send_cdr(cdr_for(session_id))
    assert (ack["Result"], ack["StatusCode"]["Code"], ack["SessionID"]) == (True, "000", session_id)
    rows = await stored(oicp_hub)
    assert [(r.protocol, r.cdr_id) for r in rows] == [("oicp", session_id)]
    await oicp_hub.settle()
    received = emp.received_for("eRoamingChargeDetailRecord")
    assert len(received) == 1
    assert received[0].raw == rows[0].oicp_body.encode()  # forwarded as the CPO wrote it
    assert received[0].path == "/api/oicp/cdrmgmt/v22/operators/DE*CPO/charge-detail-record"
    again = await cpo.send_cdr(cdr_for(session_id))
    assert (again["Result"], again["StatusCode"]["Code"]) == (False, "400")  # one CDR per session
    assert len(await stored(oicp_hub)) == 1
    assert_valid_traffic(cpo, emp)


async def test_session_evse_and_plausibility_checks(partner: PartnerFactory) -> None:
    cpo = await partner("cpo", "DE", "CPO")
    other = await partner("cpo", "DE", "OTH")
    await partner("emp", "DE", "EMP", tokens=[UID])
    session_id = await authorized(cpo)
    assert (await other.send_cdr(cdr_for(session_id, EvseID="DE*OTH*E1")))["StatusCode"]["Code"] == "400"
    wrong_evse = cdr_for(session_id)
    wrong_evse.evse_id = "DE*OTH*E1"
    assert (await cpo.send_cdr(wrong_evse))["StatusCode"]["Code"] == "018"
    checks = {
        "ConsumedEnergy": cdr_for(session_id, kwh="1500"),
        "ChargingEnd": cdr_for(session_id, charging_end=datetime(2020, 1, 1, tzinfo=UTC)),
        "SessionEnd": cdr_for(session_id, session_end=datetime.now(UTC) + timedelta(hours=2)),
        "MeterValueEnd": cdr_for(session_id, meter_value_start=Decimal(20), meter_value_end=Decimal(5)),
    }
    for field, record in checks.items():
        answer = await cpo.send_cdr(record)
        assert (answer["Result"], answer["StatusCode"]["Code"]) == (False, "022"), field
        assert field in answer["StatusCode"]["AdditionalInfo"]
    assert (await cpo.send_cdr(cdr_for(session_id)))["Result"] is True  # the session stayed open


async def test_external_calibration_needs_signed_values(partner: PartnerFactory) -> None:
    cpo = await partner("cpo", "DE", "CPO")
    await partner("emp", "DE", "EMP", tokens=[UID])
    record = sample_evse_record(EVSE, calibration_law_data_availability="External")
    assert (await cpo.push_evse_data("fullLoad", [record], operator_name="CPO"))["Result"] is True
    session_id = await authorized(cpo)
    answer = await cpo.send_cdr(cdr_for(session_id))
    assert answer["StatusCode"]["Code"] == "022"
    assert "SignedMeteringValues" in answer["StatusCode"]["AdditionalInfo"]


async def test_an_offline_emp_pulls_its_cdrs_with_the_forwarded_filter(
    oicp_hub: OicpHub, partner: PartnerFactory
) -> None:
    cpo = await partner("cpo", "DE", "CPO")
    emp = await partner("emp", "DE", "EMP", tokens=[UID])
    first = await authorized(cpo)
    assert (await cpo.send_cdr(cdr_for(first)))["Result"] is True
    await oicp_hub.settle()
    emp.refuse_cdrs = "not today"  # refused for good: stays unforwarded, still pullable
    second = await authorized(cpo)
    assert (await cpo.send_cdr(cdr_for(second)))["Result"] is True
    await oicp_hub.settle()
    window = (datetime.now(UTC) - timedelta(hours=1), datetime.now(UTC) + timedelta(minutes=1))
    everything = await emp.get_cdrs(*window)
    assert {c["SessionID"] for c in everything["content"]} == {first, second}
    assert everything["totalElements"] == 2
    forwarded = await emp.get_cdrs(*window, forwarded=True)
    assert [c["SessionID"] for c in forwarded["content"]] == [first]
    pending = await emp.get_cdrs(*window, forwarded=False)
    assert [c["SessionID"] for c in pending["content"]] == [second]
    paged = await emp.get_cdrs(*window, page=1, size=1)
    assert (paged["number"], paged["numberOfElements"], paged["totalPages"]) == (1, 1, 2)
    other = await partner("emp", "DE", "OTR")
    assert (await other.get_cdrs(*window))["content"] == []  # only the EMP's own CDRs
    assert_valid_traffic(emp)


async def test_priced_from_pricing_products_and_booked(oicp_hub: OicpHub, partner: PartnerFactory) -> None:
    cpo = await partner("cpo", "DE", "CPO")
    await partner("emp", "DE", "EMP", tokens=[UID])
    pushed = await cpo.push_pricing_products(
        "fullLoad", [sample_pricing_record("AC1", "0.40")], default_price="0.50"
    )
    assert pushed["Result"] is True
    session_id = await authorized(cpo)
    assert (await cpo.send_cdr(cdr_for(session_id, kwh="10", partner_product_id="AC1")))["Result"] is True
    row = (await stored(oicp_hub))[0]
    assert row.currency == "EUR"
    async with oicp_hub.db.session() as session:
        entries = list((await session.execute(select(JournalEntry))).scalars())
    assert [e.source_cdr_fk for e in entries] == [row.id]


async def test_unpriced_cdr_is_held_and_not_booked(oicp_hub: OicpHub, partner: PartnerFactory) -> None:
    cpo = await partner("cpo", "DE", "CPO")
    await partner("emp", "DE", "EMP", tokens=[UID])
    session_id = await authorized(cpo)
    assert (await cpo.send_cdr(cdr_for(session_id)))["Result"] is True
    row = (await stored(oicp_hub))[0]
    assert row.currency == "XXX"
    async with oicp_hub.db.session() as session:
        assert list((await session.execute(select(JournalEntry))).scalars()) == []


async def test_notifications_are_relayed_with_the_emps_answer(
    oicp_hub: OicpHub, partner: PartnerFactory
) -> None:
    cpo = await partner("cpo", "DE", "CPO")
    emp = await partner("emp", "DE", "EMP", tokens=[UID])
    session_id = await authorized(cpo)
    start = datetime.now(UTC).replace(microsecond=0)
    ack = await cpo.send_notification("Start", session_id, EVSE, ChargingStart=start)
    assert (ack["Result"], ack["StatusCode"]["Code"]) == (True, "000")
    assert emp.received_for("eRoamingChargingNotifications")[0].body["SessionID"] == session_id
    emp.refuse_notifications = "busy"
    ack = await cpo.send_notification("End", session_id, EVSE, ChargingEnd=start + timedelta(minutes=5))
    assert ack["Result"] is False  # the EMP's own answer, relayed
    bad = await cpo.send_notification(
        "Start", "b2688855-7f00-0002-6d8e-48d883f6abb6", EVSE, ChargingStart=start
    )
    assert bad["StatusCode"]["Code"] == "400"
    assert_valid_traffic(cpo, emp)


async def test_an_emp_without_cdr_or_notification_endpoints_is_offline_for_them(
    oicp_hub: OicpHub, partner: PartnerFactory
) -> None:
    cpo = await partner("cpo", "DE", "CPO")
    emp = await partner(
        "emp", "DE", "EMP", tokens=[UID], services={"cdrmgmt": None, "notificationmgmt": None}
    )
    session_id = await authorized(cpo)  # charging still goes to the base URL
    start = datetime.now(UTC).replace(microsecond=0)
    ack = await cpo.send_notification("Start", session_id, EVSE, ChargingStart=start)
    assert (ack["Result"], ack["StatusCode"]["Code"]) == (False, "320")
    assert (await cpo.send_cdr(cdr_for(session_id)))["Result"] is True
    await oicp_hub.settle()
    assert emp.received_for("eRoamingChargeDetailRecord") == []
    assert [row.delivery for row in await stored(oicp_hub)] == ["pull-only"]  # an offline EMP pulls (#8)


async def test_a_slow_emp_holds_up_no_other_emps_cdrs(oicp_hub: OicpHub, partner: PartnerFactory) -> None:
    """An EMP that accepts connections and never answers costs its own CDRs a timeout, nobody else's."""
    import asyncio

    async def swallow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(65536)
        await asyncio.sleep(30)  # never answers; the hub's [oicp] timeout (2 s here) ends the call

    blackhole = await asyncio.start_server(swallow, "127.0.0.1", 0)
    port = blackhole.sockets[0].getsockname()[1]
    try:
        cpo = await partner("cpo", "DE", "CPO")
        slow = await oicp_hub.admit("DE", "SLW", "EMSP", base_url=f"http://127.0.0.1:{port}")
        fast = await partner("emp", "DE", "EMP", tokens=[UID])
        slow_session = "b2688855-7f00-0002-6d8e-48d883f6abb6"
        await _open_session(oicp_hub, slow_session, cpo_id="DE*CPO", emp_fk=slow.id, provider="DE-SLW")
        assert (await cpo.send_cdr(cdr_for(slow_session)))["Result"] is True  # stored, forward hangs
        session_id = await authorized(cpo)
        loop = asyncio.get_running_loop()
        assert (await cpo.send_cdr(cdr_for(session_id)))["Result"] is True
        started = loop.time()
        while not fast.received_for("eRoamingChargeDetailRecord"):
            assert loop.time() - started < 0.5, "the fast EMP waited for the slow one"
            await asyncio.sleep(0.02)
        deliveries = {row.cdr_id: row.delivery for row in await stored(oicp_hub)}
        assert deliveries[slow_session] == "pending"  # still hanging, or queued for a retry
    finally:
        blackhole.close()


async def _open_session(hub: OicpHub, session_id: str, *, cpo_id: str, emp_fk: int, provider: str) -> None:
    from hub.oicp import directory, sessions
    from hub.store.models import OicpSession
    from schemas.canonical.party import Role

    cpo = await directory.by_oicp_id(hub.db, cpo_id, Role.CPO)
    assert cpo is not None
    row = OicpSession(
        session_id=session_id,
        cpo_party_fk=cpo.party_fk,
        operator_id=cpo_id,
        emp_party_fk=emp_fk,
        provider_id=provider,
        evse_id=EVSE,
        identification={"RFIDMifareFamilyIdentification": {"UID": UID}},
    )
    await sessions.create(hub.db, row)
