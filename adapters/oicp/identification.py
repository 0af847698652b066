"""OICP Identification ⇄ canonical TokenRef (oicp-hub-notes §3, §4.1, §9).

| OICP member | canonical token |
|---|---|
| RFIDMifareFamilyIdentification {UID} | RFID, uid = UID upper-cased |
| RFIDIdentification {UID, EvcoID?} (pushed auth data) | RFID, uid = UID upper-cased, contract_id = EvcoID |
| QRCodeIdentification {EvcoID, PIN} | APP_USER, uid = contract_id = EvcoID (the PIN is not carried) |
| RemoteIdentification {EvcoID} | APP_USER, uid = contract_id = EvcoID |
| PlugAndChargeIdentification {EvcoID} | OTHER, uid = contract_id = EvcoID |

Plug and Charge: OCPI 2.2.1 has no token type for an ISO 15118 contract (2.3.0 adds EMAID); notes §9
says the EMAID is the token. OTHER is used rather than APP_USER so that the hub can tell it apart and
translate it back to PlugAndChargeIdentification; an OCPI eMSP that keeps PnC contracts must index them
under (EMAID, OTHER).

Hubject upper-cases UIDs and EvcoIDs (notes §3), and so does this module.
"""

from __future__ import annotations

from schemas.canonical.token import TokenRef, TokenType
from schemas.oicp.v2_3.authorization import (
    Identification,
    PlugAndChargeIdentification,
    RemoteIdentification,
    RFIDIdentification,
    RFIDMifareFamilyIdentification,
)
from schemas.oicp.v2_3.common import EVCO_ID, UID_PATTERN, provider_id_of

_EVCO_SEPARATORS = str.maketrans("", "", "*-")


def to_token(identification: Identification) -> TokenRef:
    """The canonical token for the one member a real Identification carries (ValueError otherwise)."""
    member = identification.only()
    if isinstance(member, RFIDMifareFamilyIdentification):
        return TokenRef(uid=member.uid.upper(), type=TokenType.RFID)
    if isinstance(member, RFIDIdentification):
        contract = member.evco_id.upper() if member.evco_id else None
        return TokenRef(uid=member.uid.upper(), type=TokenType.RFID, contract_id=contract)
    evco_id = member.evco_id.upper()
    kind = TokenType.OTHER if isinstance(member, PlugAndChargeIdentification) else TokenType.APP_USER
    return TokenRef(uid=evco_id, type=kind, contract_id=evco_id)


def from_token(token: TokenRef) -> Identification:
    """The OICP Identification for a token, for messages the hub sends to OICP partners.

    RFID → RFIDMifareFamilyIdentification (the only RFID member allowed in authorisation, notes §3);
    APP_USER / AD_HOC_USER with a contract id → RemoteIdentification; OTHER with a contract id →
    PlugAndChargeIdentification (the reverse of :func:`to_token`). Raises ValueError when the uid or the
    contract id does not fit OICP's formats (an OCPI RFID uid need not be 4, 7 or 10 bytes of hex).
    """
    if token.type is TokenType.RFID:
        uid = token.uid.upper()
        if not UID_PATTERN.fullmatch(uid):
            raise ValueError(f"RFID uid {token.uid!r} is not an OICP UID (8, 14 or 20 hex digits)")
        return Identification(rfid_mifare_family_identification=RFIDMifareFamilyIdentification(uid=uid))
    if token.contract_id is None:
        raise ValueError(f"a {token.type} token without a contract id has no OICP Identification")
    if token.type is TokenType.OTHER:
        evco_id = _evco_id(token.contract_id)
        return Identification(plug_and_charge_identification=PlugAndChargeIdentification(evco_id=evco_id))
    return remote_identification(token.contract_id)


def remote_identification(contract_id: str) -> Identification:
    """RemoteIdentification{EvcoID}: the only member allowed in remote start/stop (notes §3)."""
    return Identification(remote_identification=RemoteIdentification(evco_id=_evco_id(contract_id)))


def provider_of_evco(evco_id: str) -> str:
    """The normalised ProviderID inside an EvcoID: ``DE-8EO-CAet5e4XY-3`` and ``DE*8EO*Aet5e4*3`` → ``DE8EO``.

    This is how Hubject routes an AuthorizeStart that carries an EvcoID (notes §4.2). Raises ValueError
    for a string that is not an EvcoID.
    """
    return provider_id_of(evco_id.upper())


def normalise_evco_id(evco_id: str) -> str:
    """The comparable form of an EvcoID: upper case, ``*`` and ``-`` removed (notes §4.1)."""
    return evco_id.upper().translate(_EVCO_SEPARATORS)


def lookup_keys(identification: Identification) -> list[str]:
    """Keys under which pushed authentication data for this identification is indexed (notes §4.2 step 4).

    Every member present contributes: a UID upper-cased, an EvcoID normalised. A pushed
    RFIDIdentification with an EvcoID therefore yields both keys, so an AuthorizeStart by card or by
    contract finds it.
    """
    keys: list[str] = []
    for member in identification.members():
        uid = getattr(member, "uid", None)
        evco_id = getattr(member, "evco_id", None)
        for key in (uid.upper() if uid else None, normalise_evco_id(evco_id) if evco_id else None):
            if key is not None and key not in keys:
                keys.append(key)
    return keys


def _evco_id(contract_id: str) -> str:
    evco_id = contract_id.upper()
    if not EVCO_ID.fullmatch(evco_id):
        raise ValueError(f"contract id {contract_id!r} is not an OICP EvcoID (EMAID)")
    return evco_id


__all__ = [
    "from_token",
    "lookup_keys",
    "normalise_evco_id",
    "provider_of_evco",
    "remote_identification",
    "to_token",
]
