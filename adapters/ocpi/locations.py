"""OCPI 2.2.1 Locations ⇄ canonical EVSEs (ocpi-hub-notes §6.1).

An OCPI Location groups EVSEs; the canonical model, like OICP, is flat: one :class:`Evse` per EVSE,
carrying its location's address, coordinates, hours and operator. Only EVSEs with an ``evse_id`` become
canonical EVSEs, because OICP names every EVSE by its EvseID (oicp-hub-notes §4.1).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from decimal import Decimal
from typing import Any

from schemas.canonical.evse import (
    Address,
    Connector,
    ConnectorFormat,
    Evse,
    EvseStatus,
    GeoPoint,
    OpeningHours,
    PowerType,
    RegularHours,
    main_time_zone,
)
from schemas.canonical.party import PartyRef
from schemas.ocpi.v2_2_1 import locations as wire
from schemas.ocpi.v2_2_1.common import BusinessDetails
from schemas.oicp.v2_3.common import EVSE_ID

_COORDINATE = Decimal("0.000001")
_UID_LENGTH = 36


def oicp_evse_id(evse_id: str) -> str | None:
    """An OCPI ``evse_id`` as an OICP EvseID, or None when it cannot be one.

    eMI3 ids pass as written (``NL*ABC*E123``, ``NLABCE123``), upper-cased; a ``-`` used as separator,
    which some OCPI platforms write, becomes ``*``.
    """
    candidate = evse_id.strip().upper()
    for form in (candidate, candidate.replace("-", "*")):
        if EVSE_ID.fullmatch(form):
            return form
    return None


def evse_uid_for(evse_id: str) -> str:
    """The OCPI EVSE ``uid`` the hub gives an OICP EVSE: its EvseID upper-cased without ``*`` and ``+``.

    That is the form Hubject compares EvseIDs in (oicp-hub-notes §4.1), so two spellings of one EVSE get
    one uid. An ISO EvseID fits CiString(36) without its separators; a longer (DIN) one is shortened
    with a digest so the uid stays stable and unique.
    """
    compact = evse_id.upper().replace("*", "").replace("+", "")
    if len(compact) <= _UID_LENGTH:
        return compact
    digest = hashlib.sha256(compact.encode()).hexdigest()[:8].upper()
    return f"{compact[: _UID_LENGTH - 9]}-{digest}"


# --- OCPI → canonical -------------------------------------------------------------------------------


def location_to_evses(location: dict[str, Any], cpo: PartyRef) -> list[Evse]:
    """The canonical EVSEs of an OCPI Location object; EVSEs without a usable ``evse_id`` are skipped.

    ``cpo`` is the Location's owner; its (country code, party id) is the OperatorID (``NL*ABC``): both
    are the same ISO 15118 identifier.
    """
    parsed = wire.Location.model_validate(location)
    shared = _location_fields(parsed, cpo)
    evses: list[Evse] = []
    for evse in parsed.evses or []:
        evse_id = oicp_evse_id(evse.evse_id) if evse.evse_id else None
        if evse_id is not None:
            evses.append(Evse(evse_id=evse_id, **_evse_fields(evse, parsed), **shared))
    return evses


def _location_fields(location: wire.Location, cpo: PartyRef) -> dict[str, Any]:
    return {
        "operator_id": f"{cpo.country_code}*{cpo.party_id}",
        "operator_name": location.operator.name if location.operator else None,
        "location_id": location.id,
        "name": location.name,
        "address": Address(
            street=location.address,
            postal_code=location.postal_code or None,
            city=location.city,
            country=location.country,
            region=location.state,
            time_zone=location.time_zone,
        ),
        "parking_type": str(location.parking_type) if location.parking_type else None,
        "opening_hours": _hours(location.opening_times),
        "renewable_energy": location.energy_mix.is_green_energy if location.energy_mix else None,
        "publish": location.publish,
    }


def _evse_fields(evse: wire.EVSE, location: wire.Location) -> dict[str, Any]:
    return {
        "uid": evse.uid,
        "status": EvseStatus(evse.status.value),
        "coordinates": _point(evse.coordinates or location.coordinates),
        "connectors": tuple(_connector(connector) for connector in evse.connectors),
        "capabilities": tuple(str(capability) for capability in evse.capabilities or []),
        "parking_restrictions": tuple(str(r) for r in evse.parking_restrictions or []),
        "floor_level": evse.floor_level,
        "last_updated": evse.last_updated,
    }


def _point(location: wire.GeoLocation) -> GeoPoint:
    return GeoPoint(latitude=Decimal(location.latitude), longitude=Decimal(location.longitude))


def _connector(connector: wire.Connector) -> Connector:
    return Connector(
        id=connector.id,
        standard=str(connector.standard),
        format=ConnectorFormat(connector.format.value),
        power_type=PowerType(connector.power_type.value),
        max_voltage=connector.max_voltage,
        max_amperage=connector.max_amperage,
        max_electric_power=connector.max_electric_power,
    )


def _hours(hours: wire.Hours | None) -> OpeningHours | None:
    if hours is None:
        return None
    regular = tuple(
        RegularHours(weekday=r.weekday, begin=r.period_begin, end=r.period_end)
        for r in hours.regular_hours or []
    )
    return OpeningHours(twentyfourseven=hours.twentyfourseven, regular=regular)


# --- canonical → OCPI -------------------------------------------------------------------------------


def evses_to_location(evses: list[Evse], cpo: PartyRef, location_id: str, now: datetime) -> dict[str, Any]:
    """An OCPI 2.2.1 Location object (JSON) for EVSEs the hub groups under ``location_id``.

    Location-level fields come from the first EVSE. EVSEs without connectors are left out, since OCPI
    requires at least one. Raises ValueError for an empty list or when no IANA time zone is known.
    """
    if not evses:
        raise ValueError("a Location needs at least one EVSE")
    first = evses[0]
    location = wire.Location(
        country_code=cpo.country_code,
        party_id=cpo.party_id,
        id=location_id,
        publish=all(evse.publish for evse in evses),
        name=first.name,
        address=" ".join(part for part in (first.address.street, first.address.house_number) if part),
        city=first.address.city,
        postal_code=first.address.postal_code or None,
        state=first.address.region,
        country=first.address.country,
        coordinates=_geo(first.coordinates),
        parking_type=first.parking_type,
        evses=[_evse(evse, now) for evse in evses if evse.connectors],
        operator=BusinessDetails(name=first.operator_name) if first.operator_name else None,
        time_zone=_time_zone(first.address),
        opening_times=_opening_times(first.opening_hours),
        energy_mix=_energy_mix(first.renewable_energy),
        last_updated=now,
    )
    return location.model_dump(mode="json", exclude_none=True)


def _time_zone(address: Address) -> str:
    zone = address.time_zone or main_time_zone(address.country)
    if zone is None:
        raise ValueError(f"no time zone known for an address in {address.country}")
    return zone


def _geo(point: GeoPoint) -> wire.GeoLocation:
    # OCPI asks for 5 to 7 decimals; 6 is also what OICP's DecimalDegree allows at most.
    return wire.GeoLocation(
        latitude=str(point.latitude.quantize(_COORDINATE)),
        longitude=str(point.longitude.quantize(_COORDINATE)),
    )


def _evse(evse: Evse, now: datetime) -> wire.EVSE:
    updated = evse.last_updated or now
    return wire.EVSE(
        uid=evse.uid,
        evse_id=evse.evse_id,
        status=wire.Status(evse.status.value),
        capabilities=list(evse.capabilities) or None,
        connectors=[_ocpi_connector(connector, updated) for connector in evse.connectors],
        floor_level=evse.floor_level,
        coordinates=_geo(evse.coordinates),
        parking_restrictions=list(evse.parking_restrictions) or None,
        last_updated=updated,
    )


def _ocpi_connector(connector: Connector, updated: datetime) -> wire.Connector:
    return wire.Connector(
        id=connector.id,
        standard=connector.standard,
        format=wire.ConnectorFormat(connector.format.value),
        power_type=wire.PowerType(connector.power_type.value),
        max_voltage=connector.max_voltage,
        max_amperage=connector.max_amperage,
        max_electric_power=connector.max_electric_power,
        last_updated=updated,
    )


def _opening_times(hours: OpeningHours | None) -> wire.Hours | None:
    if hours is None:
        return None
    regular = [
        wire.RegularHours(weekday=r.weekday, period_begin=r.begin, period_end=r.end) for r in hours.regular
    ]
    return wire.Hours(twentyfourseven=hours.twentyfourseven, regular_hours=regular or None)


def _energy_mix(renewable: bool | None) -> wire.EnergyMix | None:
    return None if renewable is None else wire.EnergyMix(is_green_energy=renewable)
