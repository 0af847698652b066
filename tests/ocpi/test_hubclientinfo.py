"""HubClientInfo pushes on every status change, the paginated GET, and the liveness check (52 to 54)."""

import asyncio
from typing import Any

import pytest

from schemas.ocpi.v2_2_1 import ClientInfo
from tests.ocpi.conftest import PlatformFactory, RunningHub, connected, eventually


def status(sim: Any, cc: str, pid: str, role: str) -> str | None:
    info = sim.client_info.get((cc, pid, role))
    return info["status"] if info else None


async def test_statuses_are_pushed_on_every_change(hub: RunningHub, platform: PlatformFactory) -> None:
    emsp = await connected(hub, platform, ("DE", "EMA", "EMSP"))
    # Admitted but not registered: PLANNED.
    view = await hub.admit("NL", "CPA", "CPO")
    await hub.settle()
    assert status(emsp, "NL", "CPA", "CPO") == "PLANNED"
    # Registered: CONNECTED, and the newcomer learns about everyone already there.
    cpo = await platform(("NL", "CPA", "CPO"))
    assert view.token_a
    await cpo.register(hub.versions_url, view.token_a)
    await hub.settle()
    assert status(emsp, "NL", "CPA", "CPO") == "CONNECTED"
    assert status(cpo, "DE", "EMA", "EMSP") == "CONNECTED"
    # Unregistered: SUSPENDED.
    await cpo.unregister()
    await hub.settle()
    assert status(emsp, "NL", "CPA", "CPO") == "SUSPENDED"
    # Every push is a valid ClientInfo on the described party's URL, without routing headers.
    puts = [r for r in emsp.received if r.method == "PUT" and r.module == "hubclientinfo"]
    assert len(puts) >= 3
    for put in puts:
        info = ClientInfo.model_validate(put.body)
        assert put.path.endswith(f"/{info.country_code}/{info.party_id}")
        assert "OCPI-from-party-id" not in put.headers
    assert emsp.violations == [] and cpo.violations == []


async def test_operator_suspension_is_pushed(hub: RunningHub, platform: PlatformFactory) -> None:
    from hub import parties

    emsp = await connected(hub, platform, ("DE", "EMA", "EMSP"))
    view = await hub.admit("NL", "CPA", "CPO")
    await parties.suspend_party(hub.db, hub.settings, view.id)
    await hub.settle()
    assert status(emsp, "NL", "CPA", "CPO") == "SUSPENDED"


async def test_changes_made_by_the_cli_are_pushed_by_the_running_hub(
    hub: RunningHub, platform: PlatformFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hub.cli.main import main

    emsp = await connected(hub, platform, ("DE", "EMA", "EMSP"))
    monkeypatch.setenv("ROAMHUB_DATABASE_URL", hub.settings.database.url)
    monkeypatch.setenv("ROAMHUB_DATA_DIR", hub.settings.data_dir)
    argv = [
        "party",
        "add",
        "--name",
        "Late CPO",
        "--country",
        "BE",
        "--party-id",
        "CPL",
        "--role",
        "CPO",
        "--protocol",
        "ocpi",
    ]
    assert await asyncio.to_thread(main, argv) == 0
    # Nobody calls settle(): the hub's own dispatcher finds the queued push.
    await eventually(lambda: status(emsp, "BE", "CPL", "CPO") == "PLANNED")


async def test_get_is_paginated_and_date_filtered(hub: RunningHub, platform: PlatformFactory) -> None:
    emsp = await connected(hub, platform, ("DE", "EMA", "EMSP"))
    for pid in ("CPA", "CPB", "CPC"):
        await hub.admit("NL", pid, "CPO")
    first = await emsp.call("GET", "hubclientinfo", "SENDER", params={"limit": "2"})
    assert first.status == 200
    assert [i["party_id"] for i in first.data] == ["CPA", "CPB"]  # the caller's own party is not listed
    assert first.headers["X-Total-Count"] == "3"
    assert first.headers["X-Limit"] == str(hub.settings.ocpi.page_limit)
    link = first.headers["Link"]
    assert link.startswith(f"<{hub.url}/ocpi/2.2.1/hubclientinfo?") and link.endswith('>; rel="next"')
    second = await emsp.call("GET", "hubclientinfo", "SENDER", raw_url=link[1 : link.index(">")])
    assert [i["party_id"] for i in second.data] == ["CPC"]
    assert "Link" not in second.headers
    cutoff = first.data[1]["last_updated"]
    later = await emsp.call("GET", "hubclientinfo", "SENDER", params={"date_from": cutoff})
    assert [i["party_id"] for i in later.data] == ["CPB", "CPC"]  # date_from is inclusive
    earlier = await emsp.call("GET", "hubclientinfo", "SENDER", params={"date_to": cutoff})
    assert [i["party_id"] for i in earlier.data] == ["CPA"]  # date_to is exclusive
    bad = await emsp.call("GET", "hubclientinfo", "SENDER", params={"offset": "-1"})
    assert bad.status_code == 2001


@pytest.mark.parametrize("ocpi_overrides", [{"liveness_interval": 0.3}])
async def test_liveness_check_marks_silent_platforms_offline_and_back(
    hub: RunningHub, platform: PlatformFactory
) -> None:
    emsp = await connected(hub, platform, ("DE", "EMA", "EMSP"))
    cpo = await connected(hub, platform, ("NL", "CPA", "CPO"))
    cpo.fail_versions = True
    # Silent for longer than the interval: the hub GETs the versions endpoint, which fails.
    await eventually(lambda: status(emsp, "NL", "CPA", "CPO") == "OFFLINE", timeout=5)
    checks = [r for r in cpo.received if r.path == "/ocpi/versions"]
    assert len(checks) >= 2  # registration, then the liveness check(s)
    # Any traffic from it brings it back.
    cpo.fail_versions = False
    response = await cpo.call("GET", "hubclientinfo", "SENDER")
    assert response.status == 200
    await eventually(lambda: status(emsp, "NL", "CPA", "CPO") == "CONNECTED", timeout=5)
