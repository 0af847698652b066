"""The credentials handshake both ways, re-key, unregister and their errors (checklist 13 to 19)."""

from typing import Any

import pytest
from sqlalchemy import select
from structlog.testing import capture_logs

from hub.errors import ClientApiUnusable
from hub.keys import OCPI
from hub.ocpi import registration
from hub.simulators.ocpi_wire import RegistrationFailed
from hub.store.models import CredentialToken, OcpiConnection, Party
from tests.ocpi.conftest import PlatformFactory, RunningHub, connected


async def party_status(hub: RunningHub, party_id: int) -> str:
    async with hub.db.session() as session:
        party = await session.get(Party, party_id)
        assert party is not None
        return party.status


async def test_partner_initiated_registration(hub: RunningHub, platform: PlatformFactory) -> None:
    view = await hub.admit("NL", "CPA", "CPO")
    assert view.token_a
    cpo = await platform(("NL", "CPA", "CPO"))
    answer = await cpo.register(hub.versions_url, view.token_a)

    # The hub answers with a fresh token C and only its own HUB role (2.2.1).
    assert answer.token not in (view.token_a,)
    assert answer.url == hub.versions_url
    assert [(r.role.value, r.country_code, r.party_id) for r in answer.roles] == [("HUB", "NL", "HUB")]
    # Before answering, it read the platform's versions and details with token B.
    fetched = [r.path for r in cpo.received if r.method == "GET"]
    assert fetched[:2] == ["/ocpi/versions", "/ocpi/2.2.1"]
    assert cpo.violations == []
    # Token A is spent; token C works.
    assert (await hub.get("/ocpi/versions", token=view.token_a))[0] == 401
    assert (await hub.get("/ocpi/2.2.1/hubclientinfo", token=answer.token))[0] == 200
    assert await party_status(hub, view.id) == "CONNECTED"
    async with hub.db.session() as session:
        connection = await session.get(OcpiConnection, view.id)
        tokens = (await session.execute(select(CredentialToken))).scalars().all()
    assert connection is not None and connection.versions_url == cpo.versions_url
    assert {e["identifier"] for e in connection.endpoints} >= {"credentials", "locations", "tokens"}
    # Token B is encrypted at rest, tokens A and C are stored only as hashes.
    stored = repr([connection.token_b, *(t.token_hash for t in tokens)])
    assert view.token_a not in stored and answer.token not in stored
    assert hub.app[OCPI].vault.decrypt(connection.token_b) not in stored


async def test_token_a_cannot_be_reused(hub: RunningHub, platform: PlatformFactory) -> None:
    view = await hub.admit("NL", "CPA", "CPO")
    assert view.token_a
    await (await platform(("NL", "CPA", "CPO"))).register(hub.versions_url, view.token_a)
    intruder = await platform(("NL", "CPA", "CPO"))
    with capture_logs() as logs, pytest.raises(RegistrationFailed) as caught:
        await intruder.register(hub.versions_url, view.token_a)
    assert caught.value.response is None or caught.value.response.status == 401
    assert any(entry["event"] == "security.credentials_refused" for entry in logs)


@pytest.mark.parametrize(
    ("breakage", "status_code"),
    [
        ({"fail_versions": True}, 3001),
        ({"versions": ["2.1.1"]}, 3002),
        ({"omit_modules": {"credentials"}}, 3003),
    ],
)
async def test_registration_errors_leave_token_a_usable(
    hub: RunningHub, platform: PlatformFactory, breakage: dict[str, Any], status_code: int
) -> None:
    view = await hub.admit("NL", "CPA", "CPO")
    assert view.token_a
    cpo = await platform(("NL", "CPA", "CPO"))
    for name, value in breakage.items():
        setattr(cpo, name, value)
    with pytest.raises(RegistrationFailed) as caught:
        await cpo.register(hub.versions_url, view.token_a)
    assert caught.value.status_code == status_code
    assert await party_status(hub, view.id) == "PLANNED"
    # Once the platform is fixed, the same token A still registers it.
    fixed = await platform(("NL", "CPA", "CPO"))
    await fixed.register(hub.versions_url, view.token_a)
    assert await party_status(hub, view.id) == "CONNECTED"


async def test_a_platform_registers_only_admitted_parties(hub: RunningHub, platform: PlatformFactory) -> None:
    view = await hub.admit("NL", "CPA", "CPO")
    assert view.token_a
    other = await platform(("NL", "CPA", "CPO"), ("NL", "CPB", "CPO"))
    with pytest.raises(RegistrationFailed) as caught:
        await other.register(hub.versions_url, view.token_a)
    assert caught.value.status_code == 2001
    assert "NL-CPB CPO is not admitted" in (caught.value.response.body or {}).get("status_message", "")  # type: ignore[union-attr]
    emsp_role = await platform(("NL", "CPA", "EMSP"))
    with pytest.raises(RegistrationFailed):
        await emsp_role.register(hub.versions_url, view.token_a)


async def test_one_platform_hosting_several_parties(hub: RunningHub, platform: PlatformFactory) -> None:
    view = await hub.admit("NL", "CPA", "CPO", "EMSP")
    assert view.token_a
    both = await platform(("NL", "CPA", "CPO"), ("NL", "CPA", "EMSP"))
    await both.register(hub.versions_url, view.token_a)
    assert await party_status(hub, view.id) == "CONNECTED"


async def test_post_when_registered_is_405(hub: RunningHub, platform: PlatformFactory) -> None:
    cpo = await connected(hub, platform, ("NL", "CPA", "CPO"))
    response = await cpo.call("POST", "credentials", "SENDER", json=cpo.credentials(cpo.peer.inbound_token))  # type: ignore[union-attr]
    assert response.status == 405


async def test_get_credentials_returns_the_callers_token(hub: RunningHub, platform: PlatformFactory) -> None:
    cpo = await connected(hub, platform, ("NL", "CPA", "CPO"))
    assert cpo.peer is not None
    response = await cpo.call("GET", "credentials", "SENDER")
    assert response.status == 200
    assert response.data["token"] == cpo.peer.outbound_token
    assert response.data["roles"][0]["role"] == "HUB"


async def test_put_rekeys_refetches_endpoints_and_keeps_a_grace_period(
    hub: RunningHub, platform: PlatformFactory
) -> None:
    cpo = await connected(hub, platform, ("NL", "CPA", "CPO"))
    assert cpo.peer is not None
    old_token = cpo.peer.outbound_token
    fetches_before = sum(1 for r in cpo.received if r.path == "/ocpi/2.2.1")
    answer = await cpo.update_credentials()
    assert answer.token != old_token
    assert sum(1 for r in cpo.received if r.path == "/ocpi/2.2.1") == fetches_before + 1
    assert (await hub.get("/ocpi/2.2.1/hubclientinfo", token=answer.token))[0] == 200
    assert (await hub.get("/ocpi/2.2.1/hubclientinfo", token=old_token))[0] == 200  # grace period
    async with hub.db.session() as session:
        old = [t for t in (await session.execute(select(CredentialToken))).scalars() if t.expires_at]
    assert len(old) == 1


@pytest.mark.parametrize("ocpi_overrides", [{"credentials_grace_period": 0}])
async def test_put_without_grace_period_retires_the_old_token(
    hub: RunningHub, platform: PlatformFactory
) -> None:
    cpo = await connected(hub, platform, ("NL", "CPA", "CPO"))
    assert cpo.peer is not None
    old_token = cpo.peer.outbound_token
    await cpo.update_credentials()
    assert (await hub.get("/ocpi/2.2.1/hubclientinfo", token=old_token))[0] == 401


async def test_expired_grace_token_is_refused(hub: RunningHub, platform: PlatformFactory) -> None:
    from datetime import timedelta

    from hub.store.types import utcnow

    cpo = await connected(hub, platform, ("NL", "CPA", "CPO"))
    assert cpo.peer is not None
    old_token = cpo.peer.outbound_token
    await cpo.update_credentials()
    async with hub.db.transaction() as session:
        for token in (await session.execute(select(CredentialToken))).scalars():
            if token.expires_at is not None:
                token.expires_at = utcnow() - timedelta(seconds=1)
    with capture_logs() as logs:
        status, body, _ = await hub.get("/ocpi/2.2.1/hubclientinfo", token=old_token)
    assert status == 401 and "expired" in body["status_message"]
    refusals = [entry for entry in logs if entry["event"] == "security.credentials_refused"]
    assert [entry["reason"] for entry in refusals] == ["this credentials token has expired"]
    assert all(old_token not in str(entry) for entry in logs)  # the token itself is never logged


async def test_delete_unregisters_and_later_calls_get_405(hub: RunningHub, platform: PlatformFactory) -> None:
    emsp = await connected(hub, platform, ("DE", "EMA", "EMSP"))
    cpo = await connected(hub, platform, ("NL", "CPA", "CPO"))
    assert cpo.peer is not None
    token = cpo.peer.outbound_token
    await cpo.unregister()
    party = next(p for p in await _parties(hub) if p.roles[0].party_id == "CPA")
    assert party.status == "SUSPENDED"
    for method in ("PUT", "DELETE", "GET"):
        status, _, _ = await hub.request(method, "/ocpi/2.2.1/credentials", token, json={})
        assert status == 405
    assert (await hub.get("/ocpi/2.2.1/hubclientinfo", token=token))[0] == 401
    await hub.settle()
    assert emsp.client_info[("NL", "CPA", "CPO")]["status"] == "SUSPENDED"


async def _parties(hub: RunningHub):  # type: ignore[no-untyped-def]
    from hub import parties

    return await parties.list_parties(hub.db, hub.settings)


async def test_unregistered_party_can_be_readmitted_with_a_new_token_a(
    hub: RunningHub, platform: PlatformFactory
) -> None:
    from hub import parties

    cpo = await connected(hub, platform, ("NL", "CPA", "CPO"))
    await cpo.unregister()
    party = (await _parties(hub))[0]
    renewed = await parties.new_registration_token(hub.db, hub.settings, party.id)
    assert renewed.status == "PLANNED" and renewed.token_a
    again = await platform(("NL", "CPA", "CPO"))
    await again.register(hub.versions_url, renewed.token_a)
    assert (await _parties(hub))[0].status == "CONNECTED"


async def test_hub_initiated_registration(
    hub: RunningHub, platform: PlatformFactory, admin_headers: dict[str, str]
) -> None:
    view = await hub.admit("DE", "EMA", "EMSP")
    emsp = await platform(("DE", "EMA", "EMSP"))
    token_a = emsp.issue_token_a()
    async with hub.http.post(
        f"{hub.url}/admin/api/parties/{view.id}/connect",
        json={"versions_url": emsp.versions_url, "token_a": token_a},
        headers=admin_headers,
    ) as response:
        assert response.status == 200, await response.text()
    assert emsp.violations == []
    assert emsp.peer is not None
    # The emsp calls the hub with the token the hub gave it; the hub calls it with the token it got back.
    status, _, _ = await hub.get("/ocpi/2.2.1/hubclientinfo", token=emsp.peer.outbound_token)
    assert status == 200
    assert await party_status(hub, view.id) == "CONNECTED"
    with pytest.raises(Exception, match="already registered"):
        await registration.connect(hub.app[OCPI], view.id, emsp.versions_url, token_a)


async def test_hub_initiated_registration_failure_leaves_nothing_behind(
    hub: RunningHub, platform: PlatformFactory
) -> None:
    view = await hub.admit("DE", "EMA", "EMSP")
    emsp = await platform(("DE", "EMA", "EMSP"))
    with pytest.raises(ClientApiUnusable, match=r"versions: HTTP 401"):
        await registration.connect(hub.app[OCPI], view.id, emsp.versions_url, "wrong-token-a")
    async with hub.db.session() as session:
        kinds = [t.kind for t in (await session.execute(select(CredentialToken))).scalars()]
    assert kinds == ["A"]  # only the party's own unused token A
    assert await party_status(hub, view.id) == "PLANNED"
