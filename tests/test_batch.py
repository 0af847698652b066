"""Batched: concurrent calls share rounds, a bad item fails only its caller, nobody is left waiting."""

from __future__ import annotations

import asyncio

import pytest

from hub.store.batch import Batched


class Bad(Exception):
    pass


async def test_calls_that_arrive_meanwhile_share_one_round_and_get_their_own_results() -> None:
    seen: list[list[int]] = []

    async def run(items: list[int]) -> list[int]:
        seen.append(list(items))
        await asyncio.sleep(0.01)  # the round takes a while: the others queue meanwhile
        return [item * 10 for item in items]

    batched: Batched[int, int] = Batched(run)
    results = await asyncio.gather(*(batched(i) for i in range(6)))
    assert results == [0, 10, 20, 30, 40, 50]
    assert seen[0] == [0]  # the first runs at once, alone
    assert sorted(item for round_ in seen for item in round_) == list(range(6))
    assert batched.rounds == len(seen) < 6


async def test_a_round_that_fails_on_one_item_is_tried_item_by_item() -> None:
    async def run(items: list[int]) -> list[int]:
        await asyncio.sleep(0)
        if 3 in items:
            raise Bad(f"item 3 of {items}")
        return items

    batched: Batched[int, int] = Batched(run, alone_on=(Bad,))
    results = await asyncio.gather(*(batched(i) for i in range(5)), return_exceptions=True)
    assert [r for r in results if not isinstance(r, Bad)] == [0, 1, 2, 4]
    assert isinstance(results[3], Bad)


async def test_any_other_error_is_every_caller_of_its_round() -> None:
    async def run(items: list[int]) -> list[int]:
        raise RuntimeError("database is locked")

    batched: Batched[int, int] = Batched(run, alone_on=(Bad,))
    with pytest.raises(RuntimeError, match="locked"):
        await batched(1)
    assert batched.rounds == 1  # not retried item by item


async def test_a_cancelled_caller_does_not_strand_the_others_of_its_round() -> None:
    started = asyncio.Event()

    async def run(items: list[int]) -> list[int]:
        started.set()
        await asyncio.sleep(0.05)
        return items

    batched: Batched[int, int] = Batched(run)
    first = asyncio.ensure_future(batched(1))
    await started.wait()
    others = [asyncio.ensure_future(batched(i)) for i in (2, 3)]
    await asyncio.sleep(0)
    first.cancel()
    assert await asyncio.wait_for(asyncio.gather(*others), 2) == [2, 3]
    assert first.cancelled()
    assert await batched(4) == 4  # and it still serves
