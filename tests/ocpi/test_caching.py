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


async def test_concurrent_misses_share_one_load_and_a_caller_going_away_spares_the_rest() -> None:
    started, release = asyncio.Event(), asyncio.Event()
    loads = 0

    async def load() -> int:
        nonlocal loads
        loads += 1
        started.set()
        await release.wait()
        return 42

    cache: TtlCache[str, int] = TtlCache(5)
    first = asyncio.ensure_future(cache.get("k", load))
    await started.wait()
    others = [asyncio.ensure_future(cache.get("k", load)) for _ in range(15)]
    await asyncio.sleep(0)
    first.cancel()  # the request that began the load hangs up
    release.set()
    assert await asyncio.gather(*others) == [42] * 15
    assert loads == 1 and first.cancelled()
    assert await cache.get("k", load) == 42 and loads == 1  # and it was remembered


async def test_a_failed_load_reaches_every_waiter_and_is_not_remembered() -> None:
    calls = 0

    async def load() -> int:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)
        if calls == 1:
            raise RuntimeError("database away")
        return 7

    cache: TtlCache[str, int] = TtlCache(5)
    results = await asyncio.gather(*(cache.get("k", load) for _ in range(4)), return_exceptions=True)
    assert [type(r) for r in results] == [RuntimeError] * 4 and calls == 1
    assert await cache.get("k", load) == 7 and calls == 2


async def test_a_value_loaded_across_a_forget_is_not_remembered() -> None:
    started = asyncio.Event()
    answers = [asyncio.Event(), asyncio.Event()]  # when the first and the second look-up answer
    database = {"k": "before the change"}

    async def load() -> str:
        value, answer = database["k"], answers.pop(0)  # read first, answered later: a slow query
        started.set()
        await answer.wait()
        return value

    first, second = answers
    cache: TtlCache[str, str] = TtlCache(5)
    stale = asyncio.ensure_future(cache.get("k", load))
    await started.wait()
    database["k"] = "after the change"
    cache.forget()  # e.g. this worker suspended the party while the look-up was running
    fresh = asyncio.ensure_future(cache.get("k", load))  # does not join the stale load
    await asyncio.sleep(0.01)
    second.set()
    assert await fresh == "after the change"
    first.set()  # the stale answer arrives last: it must not overwrite the fresh one
    assert await stale == "before the change"
    assert await cache.get("k", load) == "after the change"


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
