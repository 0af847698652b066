"""OCPI 2.2.1 Tokens ⇄ canonical TokenRef, and real-time authorisation (ocpi-hub-notes §6.5).

When an OICP CPO asks the hub to authorise (AuthorizeStart) a token that an OCPI eMSP issued, the hub can
answer from the eMSP's pushed tokens, Hubject's "offline authorisation" (oicp-hub-notes §4.2 step 4), or
ask the eMSP (``POST tokens/{uid}/authorize``). OCPI's WhitelistType decides which is allowed:

| whitelist | answer from the store? |
|---|---|
| ALWAYS | yes, and only so: real-time authorisation is not allowed (:func:`whitelisted_valid`) |
| ALLOWED | may, but real-time is allowed too: the hub asks, which catches a token blocked since the push |
| ALLOWED_OFFLINE | only when the eMSP cannot be reached (:func:`usable_when_emsp_offline`) |
| NEVER | never, even a cached ``valid=false`` is not final |

Counting only ALWAYS as offline authorisation data is the safe choice: it never lets a token charge
that its eMSP would refuse now, at the price of a round trip for ALLOWED tokens.
"""

from __future__ import annotations

from typing import Any

from schemas.canonical.token import TokenRef, TokenType
from schemas.ocpi.v2_2_1.tokens import AllowedType, LocationReferences, Token, WhitelistType


def to_token(ocpi_token: dict[str, Any] | Token) -> TokenRef:
    """The canonical token for an OCPI Token object (a 2.3.0 type unknown to 2.2.1 becomes OTHER)."""
    token = _parsed(ocpi_token)
    return TokenRef(uid=token.uid, type=token_type(str(token.type)), contract_id=token.contract_id)


def token_type(value: str) -> TokenType:
    """OCPI TokenType; a value 2.2.1 does not know (2.3.0 added EMAID) is OTHER."""
    try:
        return TokenType(value)
    except ValueError:
        return TokenType.OTHER


def authorization_allowed(authorization_info_json: dict[str, Any]) -> bool:
    """True when an AuthorizationInfo says ``allowed: ALLOWED``; BLOCKED, EXPIRED, NO_CREDIT and
    NOT_ALLOWED (and anything malformed) are a no."""
    return authorization_info_json.get("allowed") == AllowedType.ALLOWED.value


def whitelisted_valid(ocpi_token: dict[str, Any] | Token) -> bool:
    """May the hub authorise this token from its store, without asking the eMSP? Valid and ALWAYS."""
    token = _parsed(ocpi_token)
    return token.valid and token.whitelist is WhitelistType.ALWAYS


def usable_when_emsp_offline(ocpi_token: dict[str, Any] | Token) -> bool:
    """May the hub authorise this token from its store when the eMSP cannot be reached?

    Valid, and whitelisted ALWAYS, ALLOWED or ALLOWED_OFFLINE (only NEVER forbids it).
    """
    token = _parsed(ocpi_token)
    return token.valid and token.whitelist is not WhitelistType.NEVER


def authorize_body(location_id: str | None, evse_uids: list[str] | None = None) -> dict[str, Any] | None:
    """The LocationReferences body of ``POST tokens/{uid}/authorize``, or None (no body) when the location
    is unknown, e.g. an OICP AuthorizeStart without EvseID. An eMSP that needs it answers 2002."""
    if location_id is None:
        return None
    references = LocationReferences(location_id=location_id, evse_uids=evse_uids or None)
    return references.model_dump(mode="json", exclude_none=True)


def _parsed(ocpi_token: dict[str, Any] | Token) -> Token:
    return ocpi_token if isinstance(ocpi_token, Token) else Token.model_validate(ocpi_token)
