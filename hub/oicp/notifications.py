"""Charging notifications (oicp-hub-notes §2 #21)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hub.oicp.frontdoor import Answer, OicpCall


async def receive(call: OicpCall) -> Answer:
    raise NotImplementedError
