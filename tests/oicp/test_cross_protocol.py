"""Roaming across protocols, both directions: the reason the hub exists (issue: OICP ⇄ OCPI).

OICP partners speak over mutual TLS with certificates from the hub's CA; OCPI platforms register with
token A; every OICP body the hub sends or answers is checked against Hubject's OpenAPI files.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from hub import cdr_admin, parties
from hub.errors import Conflict
from hub.oicp import bridge
from hub.simulators.ocpi import OcpiPlatform
from hub.simulators.oicp import OicpPartner
from hub.simulators.oicp_samples import sample_cdr, sample_evse_record, sample_pricing_record
from hub.store.models import Cdr, JournalEntry, Party
from schemas.ocpi.v2_2_1 import CDR, Location
from tests.ocpi.conftest import PlatformFactory
from tests.ocpi.examples import example, owned_by
from tests.oicp.conftest import OicpHub, PartnerFactory, assert_valid_traffic

BACKEND_NEUTRAL = True  # routing/protocol logic: SQLite only (tests/conftest.py)

UID = "AABBCCDD"
EVSE = "DE*CPO*E1"
CPO_NL = ("NL", "CPA", "CPO")
EMSP_NL = ("NL", "EMS", "EMSP")


async def ocpi_connected(
    hub: OicpHub, platform: PlatformFactory, *roles: tuple[str, str, str]
) -> OcpiPlatform:
    cc, pid, _ = roles[0]
    view = await hub.admit(cc, pid, *(role for _, _, role in roles), protocol="ocpi")
    assert view.token_a is not None
    sim = await platform(*roles)
    await sim.register(hub.versions_url, view.token_a)
    await hub.settle()
    return sim


def ocpi_token(
    uid: str = UID, whitelist: str = "NEVER", contract_id: str = "NL-EMS-C12345678-X"
) -> dict[str, Any]:
    token = owned_by(example("token_example_2_full_rfid.json"), "NL", "EMS")
    return {**token, "uid": uid, "whitelist": whitelist, "contract_id": contract_id}


async def ledger_entries(hub: OicpHub) -> int:
    async with hub.db.session() as session:
        return len(list((await session.execute(select(JournalEntry))).scalars()))


def cdr_posts(emsp: OcpiPlatform) -> list[CDR]:
    """The OCPI CDRs the eMSP received, each checked to be a valid OCPI 2.2.1 CDR."""
    return [CDR.model_validate(r.body) for r in emsp.received if r.module == "cdrs" and r.method == "POST"]


async def charged(cpo: OicpPartner, kwh: int, **cdr_fields: Any) -> str:
    """Authorise UID at the OICP CPO, charge ``kwh`` and send the CDR; its SessionID."""
    session_id = str((await cpo.authorize_start(UID, EVSE))["SessionID"])
    end = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    record = sample_cdr(session_id, EVSE, UID, end - timedelta(hours=1), end, Decimal(kwh), **cdr_fields)
    assert (await cpo.send_cdr(record))["Result"] is True
    return session_id


async def stored_cdrs(hub: OicpHub) -> list[Cdr]:
    async with hub.db.session() as session:
        return list((await session.execute(select(Cdr))).scalars())


# --- OICP CPO -> OCPI eMSP ------------------------------------------------------------------------------


async def test_oicp_authorize_start_answered_by_an_ocpi_emsp(
    oicp_hub: OicpHub,
    partner: PartnerFactory,
    platform: PlatformFactory,
) -> None:
    cpo = await partner("cpo", "DE", "CPO")
    emsp = await ocpi_connected(oicp_hub, platform, EMSP_NL)
    emsp.tokens = [ocpi_token()]
    answer = await cpo.authorize_start(UID, EVSE)
    assert (answer["AuthorizationStatus"], answer["ProviderID"]) == ("Authorized", "NL-EMS")
    asked = [r for r in emsp.received if r.module == "tokens"]
    assert len(asked) == 1 and asked[0].path.endswith(f"/{UID}/authorize")
    assert asked[0].headers["OCPI-from-party-id"] == "CPO"  # FROM = the OICP CPO, as OCPI names it
    emsp.authorize_result = "BLOCKED"
    refused = await cpo.authorize_start(UID, EVSE)
    assert (refused["AuthorizationStatus"], refused["StatusCode"]["Code"]) == ("NotAuthorized", "102")
    assert_valid_traffic(cpo)


async def test_a_whitelisted_ocpi_token_authorizes_offline(
    oicp_hub: OicpHub,
    partner: PartnerFactory,
    platform: PlatformFactory,
) -> None:
    cpo = await partner("cpo", "DE", "CPO")
    emsp = await ocpi_connected(oicp_hub, platform, EMSP_NL)
    assert (await emsp.push_token(ocpi_token(whitelist="ALWAYS"))).status_code == 1000  # to the hub
    await oicp_hub.settle()
    answer = await cpo.authorize_start(UID, EVSE)
    assert (answer["AuthorizationStatus"], answer["ProviderID"]) == ("Authorized", "NL-EMS")
    assert [r for r in emsp.received if r.module == "tokens" and r.method == "POST"] == []  # not asked


async def test_a_uid_published_by_several_emsps_is_read_as_each_candidates_own(
    oicp_hub: OicpHub,
    partner: PartnerFactory,
    platform: PlatformFactory,
) -> None:
    cpo = await partner("cpo", "DE", "CPO")
    emsp = await ocpi_connected(oicp_hub, platform, EMSP_NL)
    other = await ocpi_connected(oicp_hub, platform, ("NL", "EMB", "EMSP"))
    emsp.tokens = [ocpi_token(whitelist="NEVER")]  # what it answers a real-time authorisation from
    assert (await emsp.push_token(emsp.tokens[0])).status_code == 1000
    theirs = {**ocpi_token(whitelist="ALWAYS"), "party_id": "EMB", "contract_id": "NL-EMB-C12345678-X"}
    assert (await other.push_token(theirs)).status_code == 1000
    await oicp_hub.settle()
    answer = await cpo.authorize_start(UID, EVSE)
    assert (answer["AuthorizationStatus"], answer["ProviderID"]) == ("Authorized", "NL-EMB")  # offline
    assert [r for r in emsp.received if r.module == "tokens" and r.method == "POST"] == []

    # Once NL-EMB is no candidate, its token under the same UID is not the CPO's business: NL-EMS is asked.
    async with oicp_hub.db.session() as session:
        (emb,) = (await session.execute(select(Party.id).where(Party.name == "NL-EMB"))).scalars()
    await parties.suspend_party(oicp_hub.db, oicp_hub.settings, emb)
    oicp_hub.ctx.ocpi.roster.forget()
    oicp_hub.ctx.authorized_by.forget()
    answer = await cpo.authorize_start(UID, EVSE)
    assert (answer["AuthorizationStatus"], answer["ProviderID"]) == ("Authorized", "NL-EMS")
    assert len([r for r in emsp.received if r.module == "tokens" and r.method == "POST"]) == 1


async def test_the_uid_look_up_walks_an_index_not_every_token(oicp_hub: OicpHub) -> None:
    """With the owners as a row-value IN list, SQLite read every token of every eMSP on each call."""
    engine = oicp_hub.db.engine
    statement = bridge._TOKENS_BY_UIDS.params(wanted=[UID, "04A1B2C3"])  # a batch of two look-ups
    sql = str(
        statement.compile(
            dialect=engine.dialect, compile_kwargs={"literal_binds": True, "render_postcompile": True}
        )
    )
    async with engine.connect() as connection:
        plan = [str(row[-1]) for row in await connection.exec_driver_sql("EXPLAIN QUERY PLAN " + sql)]
    assert plan == [
        "SEARCH ocpi_object USING INDEX ix_ocpi_object_module_object_id (module=? AND object_id=?)"
    ]


async def test_a_whitelisted_ocpi_token_is_found_by_its_contract_id(
    oicp_hub: OicpHub,
    partner: PartnerFactory,
    platform: PlatformFactory,
) -> None:
    cpo = await partner("cpo", "DE", "CPO")
    emsp = await ocpi_connected(oicp_hub, platform, EMSP_NL)
    pushed = ocpi_token(uid="AA11BB22", whitelist="ALWAYS", contract_id="NL-EMS-C12345678-X")
    assert (await emsp.push_token(pushed)).status_code == 1000
    await oicp_hub.settle()
    answer = await cpo.authorize_start("NL-EMS-C12345678-X", EVSE)  # Plug&Charge: the EvcoID only
    assert (answer["AuthorizationStatus"], answer["ProviderID"]) == ("Authorized", "NL-EMS")
    assert [r for r in emsp.received if r.module == "tokens" and r.method == "POST"] == []  # offline
    other = await cpo.authorize_start("NL-EMS-C87654321-X", EVSE)  # another contract: the eMSP is asked
    assert len([r for r in emsp.received if r.module == "tokens" and r.method == "POST"]) == 1
    assert other["AuthorizationStatus"] in ("Authorized", "NotAuthorized")


async def test_oicp_cdr_priced_and_pushed_to_the_ocpi_emsp(
    oicp_hub: OicpHub,
    partner: PartnerFactory,
    platform: PlatformFactory,
) -> None:
    cpo = await partner("cpo", "DE", "CPO")
    emsp = await ocpi_connected(oicp_hub, platform, EMSP_NL)
    emsp.tokens = [ocpi_token()]
    await cpo.push_pricing_products("fullLoad", [sample_pricing_record("AC1", "0.40")], default_price="0.50")
    session_id = await charged(cpo, 10, partner_product_id="AC1")
    await oicp_hub.settle()
    (cdr,) = cdr_posts(emsp)
    assert cdr.session_id == session_id
    assert (cdr.country_code, cdr.party_id) == ("DE", "CPO")
    assert cdr.total_cost.excl_vat == Decimal("4.00")
    assert cdr.total_energy == Decimal(10)
    assert await ledger_entries(oicp_hub) == 1


async def test_an_unpriced_oicp_cdr_is_held_never_sent_as_free(
    oicp_hub: OicpHub,
    partner: PartnerFactory,
    platform: PlatformFactory,
) -> None:
    cpo = await partner("cpo", "DE", "CPO")
    emsp = await ocpi_connected(oicp_hub, platform, EMSP_NL)
    emsp.tokens = [ocpi_token()]
    await charged(cpo, 5)
    await oicp_hub.settle()
    assert cdr_posts(emsp) == []
    (row,) = await stored_cdrs(oicp_hub)
    assert row.delivery == "held"
    assert row.id is not None
    with pytest.raises(Conflict, match="still no price"):
        await cdr_admin.retry(oicp_hub.db, oicp_hub.settings, row.id)
    # The CPO publishes its prices; the operator sends the held CDR again: priced, booked, delivered.
    await cpo.push_pricing_products("fullLoad", [sample_pricing_record("AC1", "0.30")], default_price="0.30")
    view = await cdr_admin.retry(oicp_hub.db, oicp_hub.settings, row.id)
    assert (view.delivery, view.currency) == ("pending", "EUR")
    await oicp_hub.settle()
    (cdr,) = cdr_posts(emsp)
    assert cdr.total_cost.excl_vat == Decimal("1.50")
    assert await ledger_entries(oicp_hub) == 1


async def test_ocpi_start_and_stop_session_become_oicp_remote_start_and_stop(
    oicp_hub: OicpHub,
    partner: PartnerFactory,
    platform: PlatformFactory,
) -> None:
    cpo = await partner("cpo", "DE", "CPO")
    emsp = await ocpi_connected(oicp_hub, platform, EMSP_NL)
    record = sample_evse_record(EVSE, charging_pool_id="DE*CPO*P1")
    assert (await cpo.push_evse_data("fullLoad", [record], operator_name="CPO"))["Result"] is True
    await oicp_hub.settle()
    pushed = [r for r in emsp.received if r.module == "locations" and r.method == "PUT"]
    assert pushed, "the OICP CPO's EVSE reaches the OCPI eMSP as a location"
    location = Location.model_validate(pushed[-1].body)
    evse_uid = location.evses[0].uid
    sent = await emsp.start_session(
        ocpi_token(), location.id, evse_uid=evse_uid, authorization_reference="REF1"
    )
    assert sent.response.status_code == 1000
    assert sent.response.data["result"] == "ACCEPTED"
    result = await emsp.wait_command_result(sent.result_id)
    assert result["result"] == "ACCEPTED"
    forwarded = cpo.received_for("eRoamingAuthorizeRemoteStart")
    assert forwarded[0].body["EvseID"] == EVSE
    assert forwarded[0].body["Identification"] == {"RemoteIdentification": {"EvcoID": "NL-EMS-C12345678-X"}}
    session_id = forwarded[0].body["SessionID"]
    stop = await emsp.stop_session(session_id, to=None)
    assert stop.response.data["result"] == "ACCEPTED"
    assert (await emsp.wait_command_result(stop.result_id))["result"] == "ACCEPTED"
    assert cpo.received_for("eRoamingAuthorizeRemoteStop")[0].body["SessionID"] == session_id
    assert_valid_traffic(cpo)


# --- OCPI CPO -> OICP EMP ------------------------------------------------------------------------------


def ocpi_location() -> dict[str, Any]:
    location = owned_by(example("location_example.json"), "NL", "CPA")
    location["evses"] = [{**location["evses"][0], "evse_id": "NL*CPA*E1", "status": "AVAILABLE"}]
    return location


async def test_ocpi_locations_are_pullable_as_evse_data_and_status(
    oicp_hub: OicpHub,
    partner: PartnerFactory,
    platform: PlatformFactory,
) -> None:
    cpo = await ocpi_connected(oicp_hub, platform, CPO_NL)
    emp = await partner("emp", "DE", "EMP")
    assert (await cpo.push_location(ocpi_location())).status_code == 1000
    await oicp_hub.settle()
    data = await emp.pull_evse_data()
    assert [(r["EvseID"], r["OperatorID"]) for r in data["content"]] == [("NL*CPA*E1", "NL*CPA")]
    statuses = await emp.pull_evse_status_by_id(["NL*CPA*E1"])
    assert statuses["EVSEStatusRecords"]["EvseStatusRecord"][0]["EvseStatus"] == "Available"
    assert_valid_traffic(emp)


async def test_ocpi_cpo_authorizes_an_oicp_token_and_its_cdr_reaches_the_emp(
    oicp_hub: OicpHub,
    partner: PartnerFactory,
    platform: PlatformFactory,
) -> None:
    cpo = await ocpi_connected(oicp_hub, platform, CPO_NL)
    emp = await partner("emp", "DE", "EMP", tokens=[UID])
    reply = await cpo.authorize(UID, "RFID")  # no OCPI-to-*: nobody in OCPI published it
    assert reply.status_code == 1000, reply.body
    info = reply.data
    assert info["allowed"] == "ALLOWED"
    assert (info["token"]["country_code"], info["token"]["party_id"]) == ("DE", "EMP")
    reference = info["authorization_reference"]
    asked = emp.received_for("eRoamingAuthorizeStart")
    assert asked[0].body["OperatorID"] == "NL*CPA" and asked[0].body["SessionID"] == reference
    cdr = owned_by(example("cdr_example.json"), "NL", "CPA")
    cdr |= {"id": "CDR-X1", "authorization_reference": reference}
    cdr["cdr_token"] = {**cdr["cdr_token"], "country_code": "DE", "party_id": "EMP", "uid": UID}
    cdr["cdr_location"] = {**cdr["cdr_location"], "evse_id": "NL*CPA*E1"}
    assert (await cpo.post_cdr(cdr)).status_code == 1000
    await oicp_hub.settle()
    received = emp.received_for("eRoamingChargeDetailRecord")
    assert len(received) == 1 and received[0].body["SessionID"] == reference
    window = (datetime.now(UTC) - timedelta(hours=1), datetime.now(UTC) + timedelta(minutes=1))
    pulled = await emp.get_cdrs(*window, forwarded=True)
    assert [c["SessionID"] for c in pulled["content"]] == [reference]
    assert_valid_traffic(emp)
