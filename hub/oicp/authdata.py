"""Authentication data pushed by offline EMPs (notes §2 #9, #10), used first by AuthorizeStart (§4.2)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hub.oicp.frontdoor import Answer, OicpCall


async def push(call: OicpCall) -> Answer:
    raise NotImplementedError


async def pull(call: OicpCall) -> Answer:
    raise NotImplementedError
