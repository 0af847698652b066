"""OCPI 2.2.1 ``AuthorizationInfo`` for an authorisation decided on the OICP side (ocpi-hub-notes §6.5).

An OCPI CPO asking for a real-time authorisation expects the eMSP's Token back. When the eMSP speaks OICP
the hub writes that Token from the medium itself: the OICP EMP's country and party, the UID or EvcoID as
presented, the EvcoID as ``contract_id`` (oicp-hub-notes §9), ``whitelist`` NEVER (OICP authorisations are
asked for each time) and the hub's SessionID as ``authorization_reference``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from schemas.canonical.party import PartyRef
from schemas.canonical.token import TokenRef
from schemas.ocpi.v2_2_1.common import format_datetime


def authorization_info(
    token: TokenRef,
    emsp: PartyRef,
    *,
    issuer: str,
    allowed: bool,
    reference: str | None,
    now: datetime,
    location: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The AuthorizationInfo object (the ``data`` of the answer to ``POST tokens/{uid}/authorize``)."""
    info: dict[str, Any] = {
        "allowed": "ALLOWED" if allowed else "NOT_ALLOWED",
        "token": {
            "country_code": emsp.country_code,
            "party_id": emsp.party_id,
            "uid": token.uid,
            "type": token.type.value,
            "contract_id": token.contract_id or token.uid,
            "issuer": issuer[:64],
            "valid": True,
            "whitelist": "NEVER",
            "last_updated": format_datetime(now),
        },
    }
    if location is not None:
        info["location"] = location
    if allowed and reference is not None:
        info["authorization_reference"] = reference
    return info
