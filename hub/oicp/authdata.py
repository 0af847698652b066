"""Authentication data pushed by offline EMPs (notes §2 #9, #10), used first by AuthorizeStart (§4.2).

Each pushed record carries one medium. Its EvcoID, if it has one, must be of the pushing EMP's
ProviderIDs (019); UIDs are upper case (the wire model does it); a clear PIN is replaced by its hash
(``hub.oicp.pins``) before anything is stored, while a HashedPIN the EMP computed is kept as given.
:func:`offline_match` is the offline authorisation of §4.2 step 4.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from hub.errors import Conflict, InconsistentEvcoId, InvalidParameters
from hub.oicp import authdata_store
from hub.oicp.authdata_store import AuthItem, load
from hub.oicp.contracts import caller_member, visible_emps
from hub.oicp.pins import hash_pin, verify_pin
from hub.oicp.pushing import acknowledged, check_pusher, one_at_a_time
from hub.oicp.pushsets import duplicates
from hub.store.db import Database
from hub.store.models import OicpAuthData
from hub.store.types import utcnow
from schemas.canonical.party import Role, normalise_oicp_id
from schemas.oicp.v2_3.authentication_data import (
    AuthenticationData,
    AuthenticationDataRecord,
    ProviderAuthenticationData,
    eRoamingAuthenticationData,
    eRoamingPullAuthenticationData,
    eRoamingPushAuthenticationData,
)
from schemas.oicp.v2_3.authorization import (
    Identification,
    IdentificationMember,
    PlugAndChargeIdentification,
    QRCodeIdentification,
    RemoteIdentification,
    RFIDIdentification,
)
from schemas.oicp.v2_3.common import ActionType, StatusCode, StatusCodeType, provider_id_of

if TYPE_CHECKING:
    from hub.oicp.frontdoor import Answer, OicpCall

_EVCO_KINDS: dict[type, str] = {
    QRCodeIdentification: "QR",
    PlugAndChargeIdentification: "PNC",
    RemoteIdentification: "REMOTE",
}


@dataclass(frozen=True)
class OfflineMatch:
    """Who authorised a medium offline: the EMP partner and the ProviderID its data was pushed for."""

    provider_party_fk: int
    provider_id: str


def lookup_key(member: IdentificationMember) -> str:
    """How a medium is looked up: RFID by UID (either RFID kind), the others by kind and EvcoID."""
    evco_id = getattr(member, "evco_id", None)
    kind = _EVCO_KINDS.get(type(member))
    if kind is None or evco_id is None:
        return f"UID:{getattr(member, 'uid', '').upper()}"
    return f"{kind}:{re.sub(r'[*-]', '', evco_id.upper())}"


# --- PushAuthenticationData -------------------------------------------------------------------------


async def push(call: OicpCall) -> Answer:
    """PushAuthenticationData (#9): fullLoad, insert, update or delete this EMP's media (sequential)."""
    body: eRoamingPushAuthenticationData = call.body
    data = body.provider_authentication_data
    check_pusher(call, data.provider_id, "ProviderAuthenticationData.ProviderID", Role.EMSP)
    members = [_medium(record.identification, n) for n, record in enumerate(data.authentication_data_record)]
    for member in members:
        _check_evco_id(call, member)
    repeated = duplicates(lookup_key(member) for member in members)
    if repeated:
        raise Conflict(f"{', '.join(repeated[:5])} listed more than once", field="Identification")
    with one_at_a_time(call):
        # scrypt costs ~50 ms a PIN: off the event loop; a delete needs no hashes.
        items = await asyncio.to_thread(_items, members, body.action_type is not ActionType.DELETE)
        await authdata_store.apply(
            call.ctx.db, call.caller.party_fk, data.provider_id, body.action_type, items, utcnow()
        )
    return acknowledged()


def _medium(identification: Identification, index: int) -> IdentificationMember:
    try:
        return identification.only()
    except ValueError as exc:
        raise InvalidParameters(str(exc), field=f"AuthenticationDataRecord.{index}.Identification") from exc


def _check_evco_id(call: OicpCall, member: IdentificationMember) -> None:
    """An EvcoID's ProviderID prefix must be one of the pushing EMP's (019, notes §2 #9)."""
    evco_id = getattr(member, "evco_id", None)
    if evco_id is not None and normalise_oicp_id(provider_id_of(evco_id)) not in call.caller.provider_ids:
        raise InconsistentEvcoId(f"{evco_id} is not a contract of the pushing provider", field="EvcoID")


def _items(members: list[IdentificationMember], with_hashes: bool) -> list[AuthItem]:
    return [AuthItem(lookup_key(member), _record(member, with_hashes)) for member in members]


def _record(member: IdentificationMember, with_hash: bool) -> dict[str, Any]:
    """What is stored: the medium without a clear PIN, and the hub's hash of that PIN."""
    wire = member.to_wire()
    pin = wire.pop("PIN", None)
    record: dict[str, Any] = {"Identification": {type(member).__name__: wire}}
    if pin and with_hash:
        record["PinHash"] = hash_pin(pin)
    return record


# --- AuthorizeStart, offline ------------------------------------------------------------------------


async def offline_match(
    db: Database, identification: Identification, provider_party_fks: AbstractSet[int] | None
) -> OfflineMatch | None:
    """The pushed record that authorises this medium, among these EMP partners (all when None).

    RFID: the UID. QR code: EvcoID and the clear PIN, hashed and compared in constant time with the
    stored hash (a HashedPIN the EMP computed itself, Bcrypt, cannot be checked here: no match, so the
    EMP is asked online). Plug&Charge and Remote: the EvcoID. An RFID card past its ExpiryDate does not
    match.
    """
    if provider_party_fks is not None and not provider_party_fks:
        return None
    for member in identification.members():
        for row in await authdata_store.candidates(db, lookup_key(member), provider_party_fks):
            if await _accepts(load(row), member):
                return OfflineMatch(row.provider_party_fk, row.provider_id)
    return None


async def _accepts(record: dict[str, Any], presented: IdentificationMember) -> bool:
    if isinstance(presented, QRCodeIdentification):
        stored = record.get("PinHash")
        if not presented.pin or not isinstance(stored, str):
            return False
        return await asyncio.to_thread(verify_pin, presented.pin, stored)
    card = Identification.model_validate(record["Identification"]).rfid_identification
    return card is None or not _expired(card)


def _expired(card: RFIDIdentification) -> bool:
    return card.expiry_date is not None and card.expiry_date < datetime.now(UTC)


# --- PullAuthenticationData (legacy) ----------------------------------------------------------------


async def pull(call: OicpCall) -> Answer:
    """PullAuthenticationData (#10): the media of every EMP under contract with the CPO; never a PIN or
    a PIN hash (notes §2 #10 "disclosed" data)."""
    body: eRoamingPullAuthenticationData = call.body
    cpo = await caller_member(call, body.operator_id, Role.CPO)
    emps = [emp for emp in await visible_emps(call, cpo) if emp.is_oicp]
    allowed = {(emp.party_fk, normalise_oicp_id(emp.oicp_id)) for emp in emps}
    groups: dict[str, ProviderAuthenticationData] = {}
    for row in await authdata_store.of_partners(call.ctx.db, {emp.party_fk for emp in emps}):
        if (row.provider_party_fk, normalise_oicp_id(row.provider_id)) in allowed:
            _group(groups, row).authentication_data_record.append(_disclosed(load(row)))
    return eRoamingAuthenticationData(
        authentication_data=AuthenticationData(provider_authentication_data=list(groups.values())),
        status_code=StatusCode.of(StatusCodeType.SUCCESS),
    )


def _group(groups: dict[str, ProviderAuthenticationData], row: OicpAuthData) -> ProviderAuthenticationData:
    key = normalise_oicp_id(row.provider_id)
    if key not in groups:
        groups[key] = ProviderAuthenticationData(provider_id=row.provider_id, authentication_data_record=[])
    return groups[key]


def _disclosed(record: dict[str, Any]) -> AuthenticationDataRecord:
    identification = dict(record["Identification"])
    qr_code = identification.get("QRCodeIdentification")
    if qr_code is not None:
        identification["QRCodeIdentification"] = {"EvcoID": qr_code["EvcoID"]}
    return AuthenticationDataRecord(identification=Identification.model_validate(identification))
