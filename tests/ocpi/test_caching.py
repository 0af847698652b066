"""The per-process TTL cache of the hot path, and that a worker forgets what it changed itself."""

import asyncio

from hub.cache import TtlCache
from tests.conftest import ADMIN_TOKEN
from tests.ocpi.conftest import PlatformFactory, RunningHub, connected


async def test_values_live_for_the_ttl_and_can_be_forgotten() -> None:
    loads = 0

    async def load() -> int:
        nonlocal loads
        loads += 1
        return loads

    cache: TtlCache[str, int] = TtlCache(0.2, maxsize=2)
    assert [await cache.get("a", load) for _ in range(3)] == [1, 1, 1]
    await asyncio.sleep(0.25)
    assert await cache.get("a", load) == 2
    cache.forget("a")
    assert await cache.get("a", load) == 3
    await cache.get("b", load)
    await cache.get("c", load)  # over maxsize: the oldest ("a") goes
    assert await cache.get("a", load) == 6


async def test_no_ttl_means_no_cache() -> None:
    calls = []

    async def load() -> str:
        calls.append(1)
        return "x"

    cache: TtlCache[str, str] = TtlCache(0)
    await cache.get("k", load)
    await cache.get("k", load)
    assert len(calls) == 2


async def test_suspension_through_the_admin_api_takes_effect_at_once(
    hub: RunningHub, platform: PlatformFactory
) -> None:
    cpo = await connected(hub, platform, ("NL", "CPA", "CPO"))
    assert (await cpo.call("GET", "hubclientinfo", "SENDER")).status == 200  # token now cached
    async with hub.http.post(
        f"{hub.url}/admin/api/parties/1/suspend", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
    ) as response:
        assert response.status == 200
    assert (await cpo.call("GET", "hubclientinfo", "SENDER")).status == 401
