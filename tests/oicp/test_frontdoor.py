"""The OICP front door: mutual TLS, ids owned by the caller (017), unknown paths (001), rate limits (429)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.oicp.conftest import OicpHub

BACKEND_NEUTRAL = True  # routing/protocol logic: SQLite only (tests/conftest.py)

PUSH_STATUS = "/evsepush/v21/operators/{op}/status-records"


def status_push(operator: str) -> dict[str, Any]:
    return {
        "ActionType": "fullLoad",
        "OperatorEvseStatus": {
            "OperatorID": operator,
            "EvseStatusRecord": [{"EvseID": f"{operator}*E1", "EvseStatus": "Available"}],
        },
    }


async def test_unknown_path_is_001_and_plain_http_has_no_identity(oicp_hub: OicpHub) -> None:
    cpo = await oicp_hub.connect(await oicp_hub.admit("DE", "ABC", "CPO"))
    status, body = await cpo.post("/nothing/v1/here", {})
    assert status == 404
    assert body["StatusCode"]["Code"] == "001"
    async with oicp_hub.http.post(
        oicp_hub.url + "/api/oicp/authdata/v21/providers/DE-XYZ/push-request", json={}
    ) as response:
        assert (await response.json())["StatusCode"]["Code"] == "017"


async def test_ids_in_path_and_body_must_be_the_callers(oicp_hub: OicpHub) -> None:
    cpo = await oicp_hub.connect(await oicp_hub.admit("DE", "ABC", "CPO"))
    await oicp_hub.admit("DE", "OTH", "CPO")
    status, body = await cpo.post(PUSH_STATUS.format(op="DE*OTH"), status_push("DE*OTH"))
    assert (status, body["Result"], body["StatusCode"]["Code"]) == (200, False, "017")
    status, body = await cpo.post(PUSH_STATUS.format(op="DE*ABC"), status_push("DE*OTH"))
    assert body["StatusCode"]["Code"] == "017"
    # The wire's percent-encoded * (one client sends %2A) names the same operator.
    status, body = await cpo.post("/evsepush/v21/operators/DE%2AOTH/status-records", status_push("DE*OTH"))
    assert body["StatusCode"]["Code"] == "017"


async def test_malformed_body_is_022_in_the_operations_shape(oicp_hub: OicpHub) -> None:
    cpo = await oicp_hub.connect(await oicp_hub.admit("DE", "ABC", "CPO"))
    status, body = await cpo.post("/charging/v21/operators/DE*ABC/authorize/start", raw=b"{not json")
    assert (status, body["StatusCode"]["Code"]) == (200, "022")
    status, body = await cpo.post("/charging/v21/operators/DE*ABC/authorize/start", {"OperatorID": "DE*ABC"})
    assert body["AuthorizationStatus"] == "NotAuthorized"
    assert body["StatusCode"]["Code"] == "022"
    assert "Identification" in body["StatusCode"]["AdditionalInfo"]


@pytest.fixture
def oicp_overrides() -> dict[str, Any]:
    return {"rate_limits": {"eRoamingPullEvseStatusByID": 2}, "rate_limit_burst": 1.0}


async def test_rate_limit_is_429_per_partner_and_operation(oicp_hub: OicpHub) -> None:
    emp = await oicp_hub.connect(await oicp_hub.admit("DE", "XYZ", "EMSP"))
    other = await oicp_hub.connect(await oicp_hub.admit("DE", "QRS", "EMSP"))
    path = "/evsepull/v21/providers/{p}/status-records-by-id"
    answers = [
        (await emp.post(path.format(p="DE-XYZ"), {"ProviderID": "DE-XYZ", "EvseID": ["DE*ABC*E1"]}))[0]
        for _ in range(3)
    ]
    assert answers[:2] != [429, 429] and answers[2] == 429
    status, _body = await other.post(
        path.format(p="DE-QRS"), {"ProviderID": "DE-QRS", "EvseID": ["DE*ABC*E1"]}
    )
    assert status != 429


async def test_a_partners_first_call_makes_it_connected(oicp_hub: OicpHub) -> None:
    from hub import parties

    view = await oicp_hub.admit("DE", "ABC", "CPO")
    assert view.status == "PLANNED"
    cpo = await oicp_hub.connect(view)
    await cpo.post(PUSH_STATUS.format(op="DE*ABC"), status_push("DE*ABC"))
    assert (await parties.get_party(oicp_hub.db, oicp_hub.settings, view.id)).status == "CONNECTED"


async def test_a_revoked_certificate_is_refused_within_the_cache_time_a_suspension_at_once(
    oicp_hub: OicpHub, admin_headers: dict[str, str]
) -> None:
    import asyncio

    from hub.pki import revoke

    path = PUSH_STATUS.format(op="DE*ABC")
    cpo = await oicp_hub.connect(await oicp_hub.admit("DE", "ABC", "CPO"))
    status, body = await cpo.post(path, status_push("DE*ABC"))
    assert (status, body["Result"]) == (200, True)
    # As `roamhub pki revoke` does, from another process: this worker learns of it within cache_seconds.
    await revoke(oicp_hub.db, fingerprint=cpo.files.certificate.fingerprint)
    await asyncio.sleep(oicp_hub.settings.ocpi.cache_seconds + 0.2)
    status, body = await cpo.post(path, status_push("DE*ABC"))
    assert (status, body["StatusCode"]["Code"]) == (401, "017")
    assert "revoked" in body["StatusCode"]["AdditionalInfo"]

    # A suspension through this worker's admin API counts on the very next request.
    view = await oicp_hub.admit("DE", "DEF", "CPO")
    other = await oicp_hub.connect(view)
    status, body = await other.post(PUSH_STATUS.format(op="DE*DEF"), status_push("DE*DEF"))
    assert body["Result"] is True
    async with oicp_hub.http.post(
        f"{oicp_hub.url}/admin/api/parties/{view.id}/suspend", headers=admin_headers
    ) as response:
        assert response.status == 200, await response.text()
    status, body = await other.post(PUSH_STATUS.format(op="DE*DEF"), status_push("DE*DEF"))
    assert body["StatusCode"]["Code"] == "017"
    assert "locked" in body["StatusCode"]["AdditionalInfo"]
