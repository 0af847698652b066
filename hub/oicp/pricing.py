"""Dynamic pricing: pricing products and EVSE pricing pushed by CPOs, pulled by EMPs (notes §2 #17-#20)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hub.oicp.frontdoor import Answer, OicpCall


async def push_products(call: OicpCall) -> Answer:
    raise NotImplementedError


async def push_evse_pricing(call: OicpCall) -> Answer:
    raise NotImplementedError


async def pull_products(call: OicpCall) -> Answer:
    raise NotImplementedError


async def pull_evse_pricing(call: OicpCall) -> Answer:
    raise NotImplementedError
