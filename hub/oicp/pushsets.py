"""What a data push does to the stored set, whatever the data (oicp-hub-notes §1 "Data pushes").

Pure: given the ``ActionType``, the keys a push names and the keys already stored, :func:`plan_push`
says which keys to write and which to delete, or raises 009. ``fullLoad`` replaces the whole set (an
empty list deletes all), ``insert`` fails on an existing record, ``update`` on a missing one, ``delete``
removes (a key that is not there is ignored: deleting is idempotent, the spec names no error for it).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence, Set
from dataclasses import dataclass

from hub.errors import Conflict
from schemas.oicp.v2_3.common import ActionType


@dataclass(frozen=True)
class PushPlan:
    """Keys to write (in the push's order) and keys to delete."""

    upsert: tuple[str, ...]
    delete: frozenset[str]


def duplicates(keys: Iterable[str]) -> list[str]:
    """The keys named more than once, in order of first appearance."""
    return [key for key, count in Counter(keys).items() if count > 1]


def plan_push(
    action: ActionType, incoming: Sequence[str], alive: Set[str], taken: Set[str] = frozenset()
) -> PushPlan:
    """The effect of a push on one set: ``alive`` are its current keys, ``taken`` keys held elsewhere.

    A key ``taken`` by another set (another operator or provider of the same unique index) cannot be
    written at all: 009, like an insert of an existing record (notes §5, 009 [support]).
    """
    _refuse(sorted(set(incoming) & set(taken)), "is held by another data set")
    if action is ActionType.DELETE:
        return PushPlan((), frozenset(incoming) & frozenset(alive))
    if action is ActionType.INSERT:
        _refuse([key for key in incoming if key in alive], "exists already; use update")
    elif action is ActionType.UPDATE:
        _refuse([key for key in incoming if key not in alive], "does not exist; use insert")
    removed = frozenset(alive) - frozenset(incoming) if action is ActionType.FULL_LOAD else frozenset()
    return PushPlan(tuple(incoming), removed)


def _refuse(keys: list[str], why: str) -> None:
    if keys:
        shown = ", ".join(keys[:5]) + (" ..." if len(keys) > 5 else "")
        raise Conflict(f"{shown} {why}")
