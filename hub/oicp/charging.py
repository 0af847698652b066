"""Authorisation and remote control (oicp-hub-notes §2 #1 to #6, §4.2)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hub.oicp.frontdoor import Answer, OicpCall


async def authorize_start(call: OicpCall) -> Answer:
    raise NotImplementedError


async def authorize_stop(call: OicpCall) -> Answer:
    raise NotImplementedError


async def remote_start(call: OicpCall) -> Answer:
    raise NotImplementedError


async def remote_stop(call: OicpCall) -> Answer:
    raise NotImplementedError


async def reservation_start(call: OicpCall) -> Answer:
    raise NotImplementedError


async def reservation_stop(call: OicpCall) -> Answer:
    raise NotImplementedError
