"""AuthorizeStart/Stop, remote start/stop and reservations through the hub, OICP on both sides (§2, §4.2)."""

from __future__ import annotations

from typing import Any

import pytest

from hub import agreements
from hub.oicp import sessions
from hub.simulators.oicp import OicpPartner
from hub.store.models import OicpSession
from schemas.canonical.party import PartyRef
from tests.oicp.conftest import OicpHub, PartnerFactory, assert_valid_traffic

BACKEND_NEUTRAL = True  # routing/protocol logic: SQLite only (tests/conftest.py)

UID = "AABBCCDD"
OTHER_UID = "11223344"
EVSE = "DE*CPO*E1"


async def test_rfid_is_broadcast_and_the_first_yes_wins(partner: PartnerFactory) -> None:
    cpo = await partner("cpo", "DE", "CPO")
    no = await partner("emp", "DE", "NOO")
    yes = await partner("emp", "DE", "YES", tokens=[UID])
    yes.authorize_delay = 0.3  # so the broadcast has surely reached the other EMP before the yes ends it
    answer = await cpo.authorize_start(UID, EVSE, cpo_partner_session_id="cpo-1")
    assert answer["AuthorizationStatus"] == "Authorized"
    assert answer["ProviderID"] == "DE-YES"
    assert answer["StatusCode"]["Code"] == "000"
    assert answer["CPOPartnerSessionID"] == "cpo-1"
    session_id = answer["SessionID"]
    asked = yes.received_for("eRoamingAuthorizeStart")
    assert [r.body["SessionID"] for r in asked] == [session_id]  # the hub's SessionID goes to the EMPs
    assert asked[0].path == "/api/oicp/charging/v21/operators/DE*CPO/authorize/start"
    assert len(no.received_for("eRoamingAuthorizeStart")) == 1
    assert_valid_traffic(cpo, no, yes)


async def test_nobody_says_yes_is_106_and_one_emp_gives_its_own_code(partner: PartnerFactory) -> None:
    cpo = await partner("cpo", "DE", "CPO")
    await partner("emp", "DE", "ONE")
    await partner("emp", "DE", "TWO")
    answer = await cpo.authorize_start(UID, EVSE)
    assert (answer["AuthorizationStatus"], answer["StatusCode"]["Code"]) == ("NotAuthorized", "106")
    assert "SessionID" not in answer


async def test_an_evco_id_goes_only_to_its_provider(partner: PartnerFactory) -> None:
    cpo = await partner("cpo", "DE", "CPO")
    mine = await partner("emp", "DE", "8EO")
    other = await partner("emp", "DE", "OTH", tokens=["DE-8EO-CAET5E4XY-3"])
    answer = await cpo.authorize_start("DE-8EO-CAet5e4XY-3", EVSE)
    assert answer["AuthorizationStatus"] == "NotAuthorized"
    assert answer["StatusCode"]["Code"] == "105"  # the one EMP asked said no (PnC)
    assert len(mine.received_for("eRoamingAuthorizeStart")) == 1
    assert other.received_for("eRoamingAuthorizeStart") == []


async def test_an_unreachable_emp_counts_as_no(partner: PartnerFactory) -> None:
    cpo = await partner("cpo", "DE", "CPO")
    down = await partner("emp", "DE", "DWN", tokens=[UID])
    down.offline = True
    yes = await partner("emp", "DE", "YES", tokens=[UID])
    answer = await cpo.authorize_start(UID, EVSE)
    assert answer["ProviderID"] == "DE-YES"
    down.offline = False
    yes.revoke(UID)
    slow = await partner("emp", "DE", "SLO", tokens=[OTHER_UID])
    slow.authorize_delay = 3.0  # beyond [oicp] authorize_timeout in the test hub
    answer = await cpo.authorize_start(OTHER_UID, EVSE)
    assert answer["AuthorizationStatus"] == "NotAuthorized"


async def test_a_positive_answer_is_cached_per_uid_until_refused(partner: PartnerFactory) -> None:
    cpo = await partner("cpo", "DE", "CPO")
    other = await partner("emp", "DE", "OTH")
    yes = await partner("emp", "DE", "YES", tokens=[UID])
    assert (await cpo.authorize_start(UID, EVSE))["ProviderID"] == "DE-YES"
    assert (await cpo.authorize_start(UID, EVSE))["ProviderID"] == "DE-YES"
    assert len(other.received_for("eRoamingAuthorizeStart")) == 1  # the second went straight to DE-YES
    assert len(yes.received_for("eRoamingAuthorizeStart")) == 2
    yes.revoke(UID)
    other.authorize(UID)
    assert (await cpo.authorize_start(UID, EVSE))["ProviderID"] == "DE-OTH"  # refused: broadcast again


async def test_no_contract_is_210(oicp_hub: OicpHub, partner: PartnerFactory) -> None:
    object.__setattr__(oicp_hub.settings, "agreements", "explicit")
    cpo = await partner("cpo", "DE", "CPO")
    emp = await partner("emp", "DE", "YES", tokens=[UID])
    answer = await cpo.authorize_start(UID, EVSE)
    assert (answer["AuthorizationStatus"], answer["StatusCode"]["Code"]) == ("NotAuthorized", "210")
    assert emp.received == []


async def test_under_the_explicit_policy_only_emps_with_an_agreement_are_asked(
    oicp_hub: OicpHub, partner: PartnerFactory
) -> None:
    object.__setattr__(oicp_hub.settings, "agreements", "explicit")
    cpo = await partner("cpo", "DE", "CPO")
    stranger = await partner("emp", "DE", "STR", tokens=[UID])
    contracted = await partner("emp", "DE", "YES", tokens=[UID])
    pair = agreements.AgreementCreate(
        cpo=PartyRef(country_code="DE", party_id="CPO"), emsp=PartyRef(country_code="DE", party_id="YES")
    )
    await agreements.add_agreement(oicp_hub.db, pair)
    answer = await cpo.authorize_start(UID, EVSE)
    assert (answer["AuthorizationStatus"], answer["ProviderID"]) == ("Authorized", "DE-YES")
    assert stranger.received == [] and len(contracted.received_for("eRoamingAuthorizeStart")) == 1


async def test_an_agreement_made_or_ended_through_the_admin_api_counts_at_once(
    oicp_hub: OicpHub, partner: PartnerFactory, admin_headers: dict[str, str]
) -> None:
    # Each CPO's candidate EMPs are kept with the roster (cache_seconds): a change through this worker's
    # admin API must not wait for them to expire.
    object.__setattr__(oicp_hub.settings, "agreements", "explicit")
    assert oicp_hub.settings.ocpi.cache_seconds >= 1
    cpo = await partner("cpo", "DE", "CPO")
    emp = await partner("emp", "DE", "YES", tokens=[UID])
    assert (await cpo.authorize_start(UID, EVSE))["StatusCode"]["Code"] == "210"
    pair = {
        "cpo": {"country_code": "DE", "party_id": "CPO"},
        "emsp": {"country_code": "DE", "party_id": "YES"},
    }
    async with oicp_hub.http.post(
        f"{oicp_hub.url}/admin/api/agreements", json=pair, headers=admin_headers
    ) as response:
        assert response.status == 201, await response.text()
        agreement_id = (await response.json())["id"]
    answer = await cpo.authorize_start(UID, EVSE)
    assert (answer["AuthorizationStatus"], answer["ProviderID"]) == ("Authorized", "DE-YES")
    async with oicp_hub.http.delete(
        f"{oicp_hub.url}/admin/api/agreements/{agreement_id}", headers=admin_headers
    ) as response:
        assert response.status == 200, await response.text()
    assert (await cpo.authorize_start(UID, EVSE))["StatusCode"]["Code"] == "210"
    assert len(emp.received_for("eRoamingAuthorizeStart")) == 1


async def test_authorize_stop_goes_to_the_emp_of_the_session(partner: PartnerFactory) -> None:
    cpo = await partner("cpo", "DE", "CPO")
    other_cpo = await partner("cpo", "DE", "OCP")
    emp = await partner("emp", "DE", "YES", tokens=[UID])
    session_id = (await cpo.authorize_start(UID, EVSE))["SessionID"]
    answer = await other_cpo.authorize_stop(session_id, UID, "DE*OCP*E1")
    assert answer["StatusCode"]["Code"] == "400"  # another CPO's session
    answer = await cpo.authorize_stop(session_id, UID, EVSE)
    assert (answer["AuthorizationStatus"], answer["SessionID"]) == ("Authorized", session_id)
    assert [r.body["SessionID"] for r in emp.received_for("eRoamingAuthorizeStop")] == [session_id]
    answer = await cpo.authorize_stop("b2688855-7f00-0002-6d8e-48d883f6abb6", UID, EVSE)
    assert answer["StatusCode"]["Code"] == "400"
    assert_valid_traffic(cpo, emp)


async def remote_started(cpo: OicpPartner, emp: OicpPartner) -> dict[str, Any]:
    return await emp.remote_start(EVSE, "DE-YES-C12345678-X", emp_partner_session_id="emp-7")


async def test_remote_start_and_stop_reach_the_cpo_synchronously(partner: PartnerFactory) -> None:
    cpo = await partner("cpo", "DE", "CPO")
    emp = await partner("emp", "DE", "YES")
    other_emp = await partner("emp", "DE", "OTH")
    ack = await remote_started(cpo, emp)
    assert (ack["Result"], ack["StatusCode"]["Code"], ack["EMPPartnerSessionID"]) == (True, "000", "emp-7")
    session_id = ack["SessionID"]
    forwarded = cpo.received_for("eRoamingAuthorizeRemoteStart")
    assert forwarded[0].body["SessionID"] == session_id  # mandatory towards the CPO
    assert forwarded[0].path == "/api/oicp/charging/v21/providers/DE-YES/authorize-remote/start"
    refused = await other_emp.remote_stop(session_id, EVSE)
    assert (refused["Result"], refused["StatusCode"]["Code"]) == (False, "400")
    ack = await emp.remote_stop(session_id, EVSE)
    assert (ack["Result"], ack["SessionID"]) == (True, session_id)
    assert_valid_traffic(cpo, emp)


async def test_remote_start_refused_or_unanswered_by_the_cpo(partner: PartnerFactory) -> None:
    cpo = await partner("cpo", "DE", "CPO")
    emp = await partner("emp", "DE", "YES")
    cpo.remote_code = "602"
    ack = await remote_started(cpo, emp)
    assert (ack["Result"], ack["StatusCode"]["Code"]) == (False, "602")
    stop = await emp.remote_stop(ack["SessionID"], EVSE) if ack.get("SessionID") else None
    assert stop is None or stop["StatusCode"]["Code"] == "400"  # the refused session was discarded
    cpo.offline = True
    ack = await remote_started(cpo, emp)
    assert (ack["Result"], ack["StatusCode"]["Code"]) == (False, "310")
    ack = await emp.remote_start("DE*NOP*E1", "DE-YES-C12345678-X")
    assert (ack["Result"], ack["StatusCode"]["Code"]) == (False, "300")


async def test_published_evse_data_makes_unknown_evses_603(partner: PartnerFactory) -> None:
    from hub.simulators.oicp_samples import sample_evse_record

    cpo = await partner("cpo", "DE", "CPO")
    emp = await partner("emp", "DE", "YES")
    pushed = await cpo.push_evse_data("fullLoad", [sample_evse_record(EVSE)], operator_name="CPO")
    assert pushed["Result"] is True
    ack = await emp.remote_start("DE*CPO*E999", "DE-YES-C12345678-X")
    assert (ack["Result"], ack["StatusCode"]["Code"]) == (False, "603")
    assert (await remote_started(cpo, emp))["Result"] is True


async def test_reservation_start_and_stop(partner: PartnerFactory) -> None:
    cpo = await partner("cpo", "DE", "CPO")
    emp = await partner("emp", "DE", "YES")
    ack = await emp.reservation_start(EVSE, "DE-YES-C12345678-X", duration=15)
    assert ack["Result"] is True
    session_id = ack["SessionID"]
    assert cpo.received_for("eRoamingAuthorizeRemoteReservationStart")[0].body["SessionID"] == session_id
    wrong_kind = await emp.remote_stop(session_id, EVSE)
    assert wrong_kind["StatusCode"]["Code"] == "400"
    ack = await emp.reservation_stop(session_id, EVSE)
    assert ack["Result"] is True
    assert_valid_traffic(cpo, emp)


def test_session_values_fill_in_the_models_defaults_and_refuse_what_the_table_lacks() -> None:
    values = sessions.session_values(session_id="s-1", cpo_party_fk=1, operator_id="DE*ABC")
    model = OicpSession(session_id="s-1", cpo_party_fk=1, operator_id="DE*ABC")
    assert values.keys() == set(OicpSession.model_fields)
    assert {k: v for k, v in values.items() if k != "created_at"} == {
        k: getattr(model, k) for k in values if k != "created_at"
    }
    assert values["status"] == "open" and values["created_at"] is not None
    with pytest.raises(TypeError, match="no oicp_session column"):
        sessions.session_values(session_id="s-2", cpo_party_fk=1, operator_id="DE*ABC", colour="red")
    with pytest.raises(TypeError, match="needs"):
        sessions.session_values(session_id="s-3", cpo_party_fk=1)
