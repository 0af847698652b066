"""A hub worker at max_in_flight refuses new OCPI requests with 503, loses nothing, and recovers."""

import asyncio

import pytest
from sqlalchemy import func, select

from hub.admission import ADMISSION
from hub.store.models import Cdr
from tests.ocpi.conftest import PlatformFactory, RunningHub, connected
from tests.ocpi.examples import cdr_of, token_of


async def _cdrs(hub: RunningHub) -> int:
    async with hub.db.session() as session:
        return int((await session.execute(select(func.count()).select_from(Cdr))).scalar_one())


@pytest.mark.parametrize("hub_overrides", [{"max_in_flight": 2}])
async def test_at_the_limit_a_cdr_is_refused_whole_and_stored_when_sent_again(
    hub: RunningHub, platform: PlatformFactory
) -> None:
    emsp = await connected(hub, platform, ("DE", "EMA", "EMSP"))
    cpo = await connected(hub, platform, ("NL", "CPA", "CPO"))
    token = token_of("DE", "EMA")
    emsp.tokens = [token]
    emsp.authorize_delay = 0.5  # two real-time authorisations hold both places for half a second
    slow = [asyncio.ensure_future(cpo.authorize(token["uid"], to=("DE", "EMA"))) for _ in range(2)]
    admission = hub.app[ADMISSION]
    for _ in range(100):
        if admission.in_flight == 2:
            break
        await asyncio.sleep(0.01)
    assert admission.in_flight == 2
    cdr = cdr_of(("NL", "CPA"), ("DE", "EMA"))
    refused = await cpo.post_cdr(cdr)
    assert refused.status == 503 and refused.status_code == 3000
    assert refused.headers["Retry-After"] == "1"
    assert await _cdrs(hub) == 0  # nothing of it was done
    status, _, _ = await hub.get("/healthz")  # the operator can still look at the busy hub
    assert status == 200
    assert [r.data["allowed"] for r in await asyncio.gather(*slow)] == ["ALLOWED", "ALLOWED"]
    stored = await cpo.post_cdr(cdr)  # the CPO sends it again: stored once, delivered once
    assert stored.status == 201 and stored.status_code == 1000
    await hub.settle()
    assert await _cdrs(hub) == 1 and sum(emsp.store.cdr_posts.values()) == 1
    async with hub.http.get(f"{hub.url}/metrics") as response:
        assert response.status == 200
        assert 'roamhub_http_requests_shed_total{protocol="ocpi"} 1.0' in await response.text()
