"""EVSE data and status: pushes from CPOs, pulls by EMPs (oicp-hub-notes §2 #11 to #16)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from schemas.oicp.v2_3.common import eRoamingAcknowledgement

if TYPE_CHECKING:
    from hub.oicp.frontdoor import Answer, OicpCall


async def push_data(call: OicpCall) -> Answer:
    raise NotImplementedError


async def pull_data(call: OicpCall) -> Answer:
    raise NotImplementedError


async def push_status(call: OicpCall) -> Answer:
    raise NotImplementedError


async def pull_status(call: OicpCall) -> Answer:
    raise NotImplementedError


async def pull_status_by_id(call: OicpCall) -> Answer:
    raise NotImplementedError


async def pull_status_by_operator(call: OicpCall) -> Answer:
    raise NotImplementedError


__all__ = ["eRoamingAcknowledgement"]
