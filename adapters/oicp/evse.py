"""OICP EvseDataRecord and EvseStatus ⇄ canonical Evse (oicp-hub-notes §3, §6 "EVSE data record", §9).

OICP describes an EVSE by sets (Plugs, ChargingFacilities, AuthenticationModes, ...) where OCPI lists
connectors and capabilities. The tables below are the translation; where one side has no counterpart,
the choice is written next to it. Records produced here validate against Hubject's OpenAPI
(EvseDataRecord on the CPO side, PullEvseDataRecord on the EMP side with :func:`evse_to_pull_record`).
"""

from __future__ import annotations

import math
import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from adapters.ocpi.locations import evse_uid_for
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
from schemas.oicp.v2_3.common import format_datetime
from schemas.oicp.v2_3.evse_data import (
    ChargingFacility,
    EvseDataRecord,
    GeoCoordinates,
    OpeningTimes,
)
from schemas.oicp.v2_3.evse_status import EvseStatus as OicpEvseStatus

# --- Status (notes §9, from Hubject's guide) --------------------------------------------------------

_TO_CANONICAL: dict[str, EvseStatus] = {
    OicpEvseStatus.AVAILABLE: EvseStatus.AVAILABLE,
    OicpEvseStatus.RESERVED: EvseStatus.RESERVED,
    OicpEvseStatus.OCCUPIED: EvseStatus.CHARGING,
    OicpEvseStatus.OUT_OF_SERVICE: EvseStatus.INOPERATIVE,
    OicpEvseStatus.EVSE_NOT_FOUND: EvseStatus.REMOVED,
    OicpEvseStatus.UNKNOWN: EvseStatus.UNKNOWN,
}
_FROM_CANONICAL: dict[EvseStatus, OicpEvseStatus] = {
    EvseStatus.AVAILABLE: OicpEvseStatus.AVAILABLE,
    EvseStatus.BLOCKED: OicpEvseStatus.OCCUPIED,
    EvseStatus.CHARGING: OicpEvseStatus.OCCUPIED,
    EvseStatus.INOPERATIVE: OicpEvseStatus.OUT_OF_SERVICE,
    EvseStatus.OUTOFORDER: OicpEvseStatus.OUT_OF_SERVICE,
    # PLANNED has no OICP counterpart (notes §9). The EVSE exists on paper but cannot be used, and
    # "EvseNotFound" would tell EMPs it is gone for good: Unknown is the honest answer.
    EvseStatus.PLANNED: OicpEvseStatus.UNKNOWN,
    EvseStatus.REMOVED: OicpEvseStatus.EVSE_NOT_FOUND,
    EvseStatus.RESERVED: OicpEvseStatus.RESERVED,
    EvseStatus.UNKNOWN: OicpEvseStatus.UNKNOWN,
}


def status_to_canonical(oicp: str) -> EvseStatus:
    """OICP EvseStatus → canonical (notes §9): Occupied → CHARGING, OutOfService → INOPERATIVE."""
    try:
        return _TO_CANONICAL[oicp]
    except KeyError:
        raise ValueError(f"{oicp!r} is not an OICP EvseStatus") from None


def status_from_canonical(status: EvseStatus | str) -> str:
    """Canonical (OCPI) status → OICP EvseStatus string."""
    return _FROM_CANONICAL[EvseStatus(status)].value


# --- Plugs ⇄ connectors -----------------------------------------------------------------------------

_CABLE, _SOCKET = ConnectorFormat.CABLE, ConnectorFormat.SOCKET
PLUG_TO_CONNECTOR: dict[str, tuple[str, ConnectorFormat]] = {
    "Type 2 Outlet": ("IEC_62196_T2", _SOCKET),
    "Type 2 Connector (Cable Attached)": ("IEC_62196_T2", _CABLE),
    "Type 1 Connector (Cable Attached)": ("IEC_62196_T1", _CABLE),
    "CCS Combo 2 Plug (Cable Attached)": ("IEC_62196_T2_COMBO", _CABLE),
    "CCS Combo 1 Plug (Cable Attached)": ("IEC_62196_T1_COMBO", _CABLE),
    "CHAdeMO": ("CHADEMO", _CABLE),
    "Type E French Standard": ("DOMESTIC_E", _SOCKET),
    "Type F Schuko": ("DOMESTIC_F", _SOCKET),
    "Type G British Standard": ("DOMESTIC_G", _SOCKET),
    "Type J Swiss Standard": ("DOMESTIC_J", _SOCKET),
    # OICP does not say 3A or 3C; 3C is the one found at public chargers (France, Italy).
    "Type 3 Outlet": ("IEC_62196_T3C", _SOCKET),
    "IEC 60309 Single Phase": ("IEC_60309_2_single_16", _SOCKET),
    # OICP gives no rating; 16 A is the smallest three-phase IEC 60309 socket, so power is not overstated.
    "IEC 60309 Three Phase": ("IEC_60309_2_three_16", _SOCKET),
    "NEMA 5-20": ("NEMA_5_20", _SOCKET),
    "Tesla Connector": ("TESLA_S", _CABLE),
    # "Small/Large Paddle Inductive" and "AVCON Connector" have no OCPI ConnectorType: not translated.
}
_STANDARD_TO_PLUG: dict[str, str] = {
    "IEC_62196_T1": "Type 1 Connector (Cable Attached)",
    "IEC_62196_T1_COMBO": "CCS Combo 1 Plug (Cable Attached)",
    "IEC_62196_T2_COMBO": "CCS Combo 2 Plug (Cable Attached)",
    "CHADEMO": "CHAdeMO",
    "DOMESTIC_E": "Type E French Standard",
    "DOMESTIC_F": "Type F Schuko",
    "DOMESTIC_G": "Type G British Standard",
    "DOMESTIC_J": "Type J Swiss Standard",
    "IEC_62196_T3A": "Type 3 Outlet",
    "IEC_62196_T3C": "Type 3 Outlet",
    "IEC_60309_2_single_16": "IEC 60309 Single Phase",
    "IEC_60309_2_three_16": "IEC 60309 Three Phase",
    "IEC_60309_2_three_32": "IEC 60309 Three Phase",
    "IEC_60309_2_three_64": "IEC 60309 Three Phase",
    "NEMA_5_20": "NEMA 5-20",
    "TESLA_R": "Tesla Connector",
    "TESLA_S": "Tesla Connector",
}
# Nominal voltages when OICP gives none (European low voltage; DC chargers commonly rate 400 V or more).
_NOMINAL_VOLTAGE = {PowerType.AC_1_PHASE: 230, PowerType.AC_3_PHASE: 230, PowerType.DC: 400}
_PHASES = {PowerType.AC_3_PHASE: 3, PowerType.AC_2_PHASE: 2, PowerType.AC_2_PHASE_SPLIT: 2}


class UnmappableEvse(ValueError):
    """The EVSE cannot be expressed in the other protocol (e.g. none of its connectors has an OICP Plug)."""


def plug_of(connector: Connector) -> str | None:
    """The OICP Plug for an OCPI connector, or None (GB/T, ChaoJi, pantographs, most domestic sockets)."""
    if connector.standard == "IEC_62196_T2":
        socket = connector.format is ConnectorFormat.SOCKET
        return "Type 2 Outlet" if socket else "Type 2 Connector (Cable Attached)"
    return _STANDARD_TO_PLUG.get(connector.standard)


# --- Authentication, payment, services, access ------------------------------------------------------

_AUTH_TO_CAPABILITY = {
    "NFC RFID Classic": "RFID_READER",
    "NFC RFID DESFire": "RFID_READER",
    "REMOTE": "REMOTE_START_STOP_CAPABLE",
    # "PnC", "Direct Payment" and "No Authentication Required" have no OCPI 2.2.1 capability.
}
_DIRECT_PAYMENT = {
    "CHIP_CARD_SUPPORT",
    "CONTACTLESS_CARD_SUPPORT",
    "CREDIT_CARD_PAYABLE",
    "DEBIT_CARD_PAYABLE",
    "PED_TERMINAL",
}
_ACCESSIBILITY_LOCATION = {
    "ON_STREET": "OnStreet",
    "PARKING_LOT": "ParkingLot",
    "PARKING_GARAGE": "ParkingGarage",
    "UNDERGROUND_GARAGE": "UndergroundParkingGarage",
    # ALONG_MOTORWAY and ON_DRIVEWAY have no OICP AccessibilityLocation: left out (it is optional).
}
_PARKING_TYPE = {value: key for key, value in _ACCESSIBILITY_LOCATION.items()}
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_DAY_SETS = {"Everyday": range(1, 8), "Workdays": range(1, 6), "Weekend": range(6, 8)}
_PHONE = re.compile(r"^\+[0-9]{5,15}$")
_OFFSET = re.compile(r"^UTC([+-])(\d{2}):00$")
_DMS = re.compile(r"^(-?)(\d{1,3})°\s?(\d{1,2})'\s?(\d{1,2}(?:\.\d+)?)''$")
_SIX_PLACES = Decimal("0.000001")

# --- OICP → canonical -------------------------------------------------------------------------------


def record_to_evse(
    record: EvseDataRecord | dict[str, Any],
    operator_id: str,
    *,
    operator_name: str | None = None,
    status: EvseStatus = EvseStatus.UNKNOWN,
) -> Evse:
    """The canonical EVSE for an OICP EvseDataRecord pushed by (or pulled for) ``operator_id``.

    OICP keeps status apart from data (PushEvseStatus), so ``status`` is passed in. The location id is
    the ChargingPoolID, else the ChargingStationID, when it fits OCPI's 36 characters.
    """
    rec = record if isinstance(record, EvseDataRecord) else EvseDataRecord.model_validate(record)
    return Evse(
        evse_id=rec.evse_id,
        uid=evse_uid_for(rec.evse_id),
        operator_id=operator_id,
        operator_name=operator_name or _pulled_operator_name(rec),
        location_id=_location_id(rec),
        status=status,
        name=rec.charging_station_names[0].value if rec.charging_station_names else None,
        address=_address(rec),
        coordinates=_point(rec.geo_coordinates),
        connectors=_connectors(rec),
        capabilities=_capabilities(rec),
        parking_type=_PARKING_TYPE.get(str(rec.accessibility_location or "")),
        floor_level=rec.address.floor,
        opening_hours=_opening_hours(rec),
        renewable_energy=rec.renewable_energy,
        accessibility=str(rec.accessibility) if rec.accessibility else None,
        hotline_phone_number=rec.hotline_phone_number,
        last_updated=rec.last_update,
    )


def _pulled_operator_name(rec: EvseDataRecord) -> str | None:
    # A PullEvseDataRecord names its operator (notes §2 row 12); a pushed record does not.
    name = (rec.model_extra or {}).get("OperatorName", getattr(rec, "operator_name", None))
    return name if isinstance(name, str) and name else None


def _location_id(rec: EvseDataRecord) -> str | None:
    for candidate in (rec.charging_pool_id, rec.charging_station_id):
        if candidate and len(candidate) <= 36:
            return candidate
    return None


def _address(rec: EvseDataRecord) -> Address:
    address = rec.address
    return Address(
        street=address.street,
        house_number=address.house_num or None,
        postal_code=address.postal_code or None,
        city=address.city,
        country=address.country,
        region=address.region,
        time_zone=main_time_zone(address.country) or _zone_of_offset(address.time_zone),
    )


def _zone_of_offset(offset: str | None) -> str | None:
    """``UTC+01:00`` → ``Etc/GMT-1`` (IANA's Etc zones invert the sign); None for other offsets."""
    match = _OFFSET.fullmatch(offset or "")
    if match is None:
        return None
    hours = int(match.group(2))
    if hours == 0:
        return "Etc/UTC"
    return f"Etc/GMT{'-' if match.group(1) == '+' else '+'}{hours}"


def _point(coordinates: GeoCoordinates) -> GeoPoint:
    """Any of OICP's three formats; the examples fill all three at once (notes §8.9): DecimalDegree wins."""
    if coordinates.decimal_degree is not None:
        degrees = coordinates.decimal_degree
        return GeoPoint(latitude=Decimal(degrees.latitude), longitude=Decimal(degrees.longitude))
    if coordinates.google is not None:
        latitude, longitude = re.split(r"\s*,\s*|\s+", coordinates.google.coordinates.strip())
        return GeoPoint(latitude=Decimal(latitude), longitude=Decimal(longitude))
    if coordinates.degree_minute_seconds is not None:
        dms = coordinates.degree_minute_seconds
        return GeoPoint(latitude=_from_dms(dms.latitude), longitude=_from_dms(dms.longitude))
    raise ValueError("GeoCoordinates carries none of Google, DecimalDegree, DegreeMinuteSeconds")


def _from_dms(text: str) -> Decimal:
    match = _DMS.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not degrees°minutes'seconds''")
    sign, degrees, minutes, seconds = match.groups()
    value = Decimal(degrees) + Decimal(minutes) / 60 + Decimal(seconds) / 3600
    return (-value if sign else value).quantize(_SIX_PLACES)


def _connectors(rec: EvseDataRecord) -> tuple[Connector, ...]:
    """One connector per translatable plug. OICP does not pair plugs with facilities: the n-th facility
    is taken for the n-th plug, else the first one; with no facility at all there is no power type, so
    no connector."""
    facilities = rec.charging_facilities
    connectors: list[Connector] = []
    for index, plug in enumerate(rec.plugs):
        mapped = PLUG_TO_CONNECTOR.get(str(plug)) if plug is not None else None
        if mapped is None or not facilities:
            continue
        facility = facilities[index] if index < len(facilities) else facilities[0]
        connector = _connector(str(len(connectors) + 1), mapped, facility)
        if connector is not None:
            connectors.append(connector)
    return tuple(connectors)


def _connector(
    connector_id: str, mapped: tuple[str, ConnectorFormat], facility: ChargingFacility
) -> Connector | None:
    try:
        power_type = PowerType(str(facility.power_type))
    except ValueError:
        return None
    voltage = facility.voltage or _NOMINAL_VOLTAGE[power_type]
    watts = int(facility.power * 1000)
    phases = _PHASES.get(power_type, 1)
    amperage = facility.amperage or (math.ceil(watts / (voltage * phases)) if voltage else 0)
    standard, form = mapped
    return Connector(
        id=connector_id,
        standard=standard,
        format=form,
        power_type=power_type,
        max_voltage=voltage,
        max_amperage=amperage,
        max_electric_power=watts,
    )


def _capabilities(rec: EvseDataRecord) -> tuple[str, ...]:
    found: list[str] = []
    for mode in rec.authentication_modes:
        capability = _AUTH_TO_CAPABILITY.get(str(mode))
        if capability and capability not in found:
            found.append(capability)
    if "Reservation" in {str(service) for service in rec.value_added_services}:
        found.append("RESERVABLE")
    return tuple(found)


def _opening_hours(rec: EvseDataRecord) -> OpeningHours:
    if rec.is_open_24_hours:
        return OpeningHours(twentyfourseven=True)
    regular = [
        RegularHours(weekday=day, begin=period.begin, end=period.end)
        for times in rec.opening_times or []
        for day in _days(times)
        for period in times.period
    ]
    return OpeningHours(twentyfourseven=False, regular=tuple(sorted(regular, key=_hours_order)))


def _days(times: OpeningTimes) -> range | list[int]:
    day = str(times.on)
    return _DAY_SETS.get(day) or [_DAYS.index(day) + 1]


def _hours_order(hours: RegularHours) -> tuple[int, str]:
    return (hours.weekday, hours.begin)


# --- canonical → OICP -------------------------------------------------------------------------------


def evse_to_record(evse: Evse, *, hotline: str | None = None) -> dict[str, Any]:
    """An OICP 2.3 EvseDataRecord (JSON, PushEvseData style) for a canonical EVSE.

    Mandatory OICP fields that OCPI does not know get stated defaults:

    * HotlinePhoneNumber: the EVSE's own, else ``hotline`` (the operator's number from the hub's
      configuration); with neither, ValueError, since a made-up number would send drivers nowhere.
    * CalibrationLawDataAvailability ``Not Available``: OCPI does not say, and ``External`` would make
      Hubject-style receivers require signed values in every CDR (notes §6).
    * RenewableEnergy false unless the source says green; IsOpen24Hours true when no hours are given.
    * AuthenticationModes from capabilities, ``NFC RFID Classic`` when none apply (OCPI roaming starts
      from RFID tokens); PaymentOptions ``Contract`` (roaming is contract based) plus ``Direct`` for
      card terminals; ValueAddedServices ``Reservation`` or ``None``.
    * Accessibility ``Restricted access`` for unpublished or customers-only EVSEs, else
      ``Free publicly accessible`` (OCPI does not say whether parking is paid).
    * IsHubjectCompatible true and DynamicInfoAvailable ``true``: the hub serves the EVSE's status.
    * Address: OCPI's one-line address is the Street, HouseNum is then empty; TimeZone is left out
      (an offset depends on the date). ChargingStationNames: the location name, tagged ``en`` (OCPI
      names carry no language), else the EvseID.

    Raises :class:`UnmappableEvse` when no connector has an OICP Plug.
    """
    plugs, facilities = _plugs_and_facilities(evse.connectors)
    if not plugs:
        raise UnmappableEvse(f"EVSE {evse.evse_id}: no connector has an OICP Plug")
    record: dict[str, Any] = {
        "EvseID": evse.evse_id,
        "ChargingStationNames": [{"lang": "en", "value": (evse.name or evse.evse_id)[:150]}],
        "Address": _oicp_address(evse),
        "GeoCoordinates": {"DecimalDegree": _decimal_degree(evse.coordinates)},
        "Plugs": plugs,
        "ChargingFacilities": facilities,
        "RenewableEnergy": bool(evse.renewable_energy),
        "CalibrationLawDataAvailability": "Not Available",
        "AuthenticationModes": _authentication_modes(evse.capabilities),
        "PaymentOptions": _payment_options(evse.capabilities),
        "ValueAddedServices": ["Reservation"] if "RESERVABLE" in evse.capabilities else ["None"],
        "Accessibility": _accessibility(evse),
        "HotlinePhoneNumber": _hotline(evse, hotline),
        "IsHubjectCompatible": True,
        "DynamicInfoAvailable": "true",
        **_hours_fields(evse.opening_hours),
        **_optional_fields(evse),
    }
    return record


def evse_to_pull_record(evse: Evse, *, operator_name: str, hotline: str | None = None) -> dict[str, Any]:
    """A PullEvseDataRecord (an EvseDataRecord with OperatorID and OperatorName, notes §2 row 12)."""
    record = evse_to_record(evse, hotline=hotline)
    record["OperatorID"] = evse.operator_id
    record["OperatorName"] = evse.operator_name or operator_name
    return record


def _plugs_and_facilities(connectors: tuple[Connector, ...]) -> tuple[list[str], list[dict[str, Any]]]:
    plugs: list[str] = []
    facilities: list[dict[str, Any]] = []
    for connector in connectors:
        plug = plug_of(connector)
        if plug is None:
            continue
        facility = _facility(connector)
        if plug not in plugs:
            plugs.append(plug)
        if facility not in facilities:
            facilities.append(facility)
    return plugs, facilities


def _facility(connector: Connector) -> dict[str, Any]:
    """ChargingFacility: Power is an integer 0..999 kW in the CPO schema (notes §8.2); Voltage (0..999)
    and Amperage (0..99) are optional and left out when outside the schema's ranges."""
    power_type = connector.power_type
    # OICP knows one- and three-phase AC only; two-phase AC is described as one-phase with its real power.
    oicp_type = power_type.value if power_type in (PowerType.AC_3_PHASE, PowerType.DC) else "AC_1_PHASE"
    facility: dict[str, Any] = {"PowerType": oicp_type, "Power": _kilowatts(connector)}
    if 0 <= connector.max_voltage <= 999:
        facility["Voltage"] = connector.max_voltage
    if 0 <= connector.max_amperage <= 99:
        facility["Amperage"] = connector.max_amperage
    return facility


def _kilowatts(connector: Connector) -> int:
    watts = connector.max_electric_power
    if watts is None:
        watts = connector.max_voltage * connector.max_amperage * _PHASES.get(connector.power_type, 1)
    kilowatts = (Decimal(watts) / 1000).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return min(int(kilowatts), 999)


def _oicp_address(evse: Evse) -> dict[str, Any]:
    address = evse.address
    fields: dict[str, Any] = {
        "Country": address.country,
        "City": address.city[:50],
        "Street": address.street[:100],
        "PostalCode": (address.postal_code or "")[:10],
        "HouseNum": (address.house_number or "")[:10],
    }
    if address.region:
        fields["Region"] = address.region[:50]
    if evse.floor_level:
        fields["Floor"] = evse.floor_level[:5]
    return fields


def _decimal_degree(point: GeoPoint) -> dict[str, str]:
    # DecimalDegree allows at most 6 decimals (notes §4.1).
    return {
        "Latitude": f"{point.latitude.quantize(_SIX_PLACES):f}",
        "Longitude": f"{point.longitude.quantize(_SIX_PLACES):f}",
    }


def _authentication_modes(capabilities: tuple[str, ...]) -> list[str]:
    modes = []
    if "RFID_READER" in capabilities:
        modes.append("NFC RFID Classic")
    if "REMOTE_START_STOP_CAPABLE" in capabilities:
        modes.append("REMOTE")
    if _DIRECT_PAYMENT.intersection(capabilities):
        modes.append("Direct Payment")
    return modes or ["NFC RFID Classic"]


def _payment_options(capabilities: tuple[str, ...]) -> list[str]:
    return ["Contract", "Direct"] if _DIRECT_PAYMENT.intersection(capabilities) else ["Contract"]


def _accessibility(evse: Evse) -> str:
    if evse.accessibility:
        return evse.accessibility
    if not evse.publish or "CUSTOMERS" in evse.parking_restrictions:
        return "Restricted access"
    return "Free publicly accessible"


def _hotline(evse: Evse, default: str | None) -> str:
    for candidate in (evse.hotline_phone_number, default):
        if candidate and _PHONE.fullmatch(candidate):
            return candidate
    raise ValueError(f"EVSE {evse.evse_id}: no HotlinePhoneNumber (+ and 5 to 15 digits) is known")


def _hours_fields(hours: OpeningHours | None) -> dict[str, Any]:
    if hours is None or hours.twentyfourseven:
        return {"IsOpen24Hours": True}
    return {"IsOpen24Hours": False, "OpeningTimes": _opening_times(hours.regular)}


def _opening_times(regular: tuple[RegularHours, ...]) -> list[dict[str, Any]]:
    by_day: dict[int, list[dict[str, str]]] = {}
    for hours in regular:
        by_day.setdefault(hours.weekday, []).append({"begin": hours.begin, "end": hours.end})
    if len(by_day) == 7 and all(periods == by_day[1] for periods in by_day.values()):
        return [{"Period": by_day[1], "on": "Everyday"}]
    return [{"Period": periods, "on": _DAYS[day - 1]} for day, periods in sorted(by_day.items())]


def _optional_fields(evse: Evse) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if evse.location_id:
        fields["ChargingStationID"] = evse.location_id
    location = _ACCESSIBILITY_LOCATION.get(evse.parking_type or "")
    if location:
        fields["AccessibilityLocation"] = location
    if evse.last_updated is not None:
        fields["lastUpdate"] = format_datetime(evse.last_updated)
    return fields
