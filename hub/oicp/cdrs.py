"""Charge detail records (oicp-hub-notes §2 #7, #8, §6)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hub.oicp.context import OicpContext
    from hub.oicp.frontdoor import Answer, OicpCall

OICP_CDR_DELIVERY = "oicp_cdr"


async def receive(call: OicpCall) -> Answer:
    raise NotImplementedError


async def get_records(call: OicpCall) -> Answer:
    raise NotImplementedError


async def deliver(ctx: OicpContext, item: Any) -> None:
    raise NotImplementedError
