"""Calls that arrive while one is being served share the next one: group commits and batched reads.

On a hot path the fixed cost of a database round (a pooled connection checked out and back, a
transaction begun and committed, each through SQLAlchemy's greenlet bridge) is several times the
statement's own. :class:`Batched` pays it once for every call that arrived meanwhile: the first caller
runs at once with what is queued (only itself when the hub is idle, so nothing waits longer than it
did), and while that round runs the next callers queue up; the next round takes them all.

Every caller still waits for the round that holds its own item: a write has been committed when
:meth:`Batched.__call__` returns, as before. When a round fails on an error that may belong to one item
(``alone_on``, an IntegrityError by default), each item is tried alone, so one bad row fails only its own
caller; any other error (the database locked, gone or full) is every caller's of that round.

The callers do not queue on a lock for their turn: woken one by one, a batch of callers took one turn of
a busy event loop each to learn that their item had been written.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy.exc import IntegrityError

In = TypeVar("In")
Out = TypeVar("Out")


@dataclass
class _Pending(Generic[In, Out]):
    item: In
    future: asyncio.Future[Out]


class Batched(Generic[In, Out]):
    """``await batched(item)`` runs ``run([item, ...])`` together with the items queued meanwhile.

    ``run`` returns one result per item, in order; ``alone`` (``run`` of one item when not given) is
    what each item gets when its round failed on ``alone_on``. A caller that finds nothing running runs
    its round itself; the callers that queue meanwhile wait only for their own result while a task
    runs their rounds.
    """

    def __init__(
        self,
        run: Callable[[list[In]], Awaitable[list[Out]]],
        *,
        alone: Callable[[In], Awaitable[Out]] | None = None,
        alone_on: tuple[type[Exception], ...] = (IntegrityError,),
        max_batch: int = 256,
    ) -> None:
        self._run = run
        self._alone = alone
        self._alone_on = alone_on
        self._max_batch = max_batch
        self._queue: list[_Pending[In, Out]] = []
        self._busy = False  # a round is running, or about to
        self._runner: asyncio.Task[None] | None = None  # the task running the rounds of queued callers
        self.rounds = 0  # rounds run: fewer than calls shows that calls shared them

    async def __call__(self, item: In) -> Out:
        pending: _Pending[In, Out] = _Pending(item, asyncio.get_running_loop().create_future())
        self._queue.append(pending)
        if not self._busy:
            # Nothing running: this caller runs the round holding its own item in place (a task would
            # wait a whole turn of a busy loop to start), then leaves what queued meanwhile to a task.
            self._busy = True
            batch: list[_Pending[In, Out]] = []
            try:
                while not pending.future.done():
                    batch = self._take()
                    await self._round(batch)
            except BaseException:  # this caller was cancelled: the others of its round go again
                others = [other for other in batch if other is not pending and not other.future.done()]
                self._queue = others + self._queue
                raise
            finally:
                self._hand_over()
        return await pending.future

    def _take(self) -> list[_Pending[In, Out]]:
        batch, self._queue = self._queue[: self._max_batch], self._queue[self._max_batch :]
        return batch

    def _hand_over(self) -> None:
        if self._queue:
            self._runner = asyncio.ensure_future(self._rounds())
        else:
            self._busy = False

    async def _rounds(self) -> None:
        batch: list[_Pending[In, Out]] = []
        try:
            while self._queue:
                batch = self._take()
                await self._round(batch)
        except BaseException:  # cancelled (the loop is closing): no caller may wait for ever
            for pending in batch + self._queue:
                pending.future.cancel()
            self._queue = []
            raise
        finally:
            self._runner = None
            self._busy = False

    async def _round(self, batch: list[_Pending[In, Out]]) -> None:
        self.rounds += 1
        try:
            results = await self._run([pending.item for pending in batch])
        except self._alone_on as exc:
            if len(batch) == 1 and self._alone is None:
                _fail(batch, exc)
                return
            for pending in batch:
                await self._settle_alone(pending)
            return
        except Exception as exc:
            _fail(batch, exc)
            return
        for pending, result in zip(batch, results, strict=True):
            if not pending.future.done():
                pending.future.set_result(result)

    async def _settle_alone(self, pending: _Pending[In, Out]) -> None:
        try:
            if self._alone is not None:
                result = await self._alone(pending.item)
            else:
                (result,) = await self._run([pending.item])
        except Exception as exc:
            _fail([pending], exc)
            return
        if not pending.future.done():
            pending.future.set_result(result)


def _fail(batch: list[_Pending[In, Out]], exc: Exception) -> None:
    for pending in batch:
        if not pending.future.done():
            pending.future.set_exception(exc)
