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
