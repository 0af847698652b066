"""EVSEs: one charging point with its connectors, where it is and whether it is free.

The canonical vocabulary is OCPI's where OCPI has one (EVSE status, connector standard, format and power
type, capabilities, parking type; ocpi-hub-notes §6.1) and OICP's where only OICP has one
(``accessibility``, ``hotline_phone_number``). An EVSE is named by its EvseID (eMI3, ``DE*ABC*E123``),
which both protocols share, and belongs to an OperatorID (``DE*ABC``).

Countries are ISO 3166-1 alpha-3 in both protocols' addresses but alpha-2 inside every identifier
(oicp-hub-notes §4.1), so a small table maps between them (and gives each country's main time zone).
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, NamedTuple

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator


class EvseStatus(StrEnum):
    """OCPI 2.2.1 EVSE Status: the canonical set (OICP's six statuses map onto it, notes §9)."""

    AVAILABLE = "AVAILABLE"
    BLOCKED = "BLOCKED"
    CHARGING = "CHARGING"
    INOPERATIVE = "INOPERATIVE"
    OUTOFORDER = "OUTOFORDER"
    PLANNED = "PLANNED"
    REMOVED = "REMOVED"
    RESERVED = "RESERVED"
    UNKNOWN = "UNKNOWN"


class PowerType(StrEnum):
    """OCPI PowerType. OICP knows only AC_1_PHASE, AC_3_PHASE and DC."""

    AC_1_PHASE = "AC_1_PHASE"
    AC_2_PHASE = "AC_2_PHASE"
    AC_2_PHASE_SPLIT = "AC_2_PHASE_SPLIT"
    AC_3_PHASE = "AC_3_PHASE"
    DC = "DC"


class ConnectorFormat(StrEnum):
    SOCKET = "SOCKET"
    CABLE = "CABLE"


# --- Countries --------------------------------------------------------------------------------------


class Country(NamedTuple):
    alpha2: str
    alpha3: str
    time_zone: str
    """The IANA zone of the mainland (overseas territories with other zones are not distinguished)."""


COUNTRIES: tuple[Country, ...] = (
    Country("AT", "AUT", "Europe/Vienna"),
    Country("BE", "BEL", "Europe/Brussels"),
    Country("BG", "BGR", "Europe/Sofia"),
    Country("CH", "CHE", "Europe/Zurich"),
    Country("CY", "CYP", "Asia/Nicosia"),
    Country("CZ", "CZE", "Europe/Prague"),
    Country("DE", "DEU", "Europe/Berlin"),
    Country("DK", "DNK", "Europe/Copenhagen"),
    Country("EE", "EST", "Europe/Tallinn"),
    Country("ES", "ESP", "Europe/Madrid"),
    Country("FI", "FIN", "Europe/Helsinki"),
    Country("FR", "FRA", "Europe/Paris"),
    Country("GB", "GBR", "Europe/London"),
    Country("GR", "GRC", "Europe/Athens"),
    Country("HR", "HRV", "Europe/Zagreb"),
    Country("HU", "HUN", "Europe/Budapest"),
    Country("IE", "IRL", "Europe/Dublin"),
    Country("IS", "ISL", "Atlantic/Reykjavik"),
    Country("IT", "ITA", "Europe/Rome"),
    Country("LI", "LIE", "Europe/Vaduz"),
    Country("LT", "LTU", "Europe/Vilnius"),
    Country("LU", "LUX", "Europe/Luxembourg"),
    Country("LV", "LVA", "Europe/Riga"),
    Country("MT", "MLT", "Europe/Malta"),
    Country("NL", "NLD", "Europe/Amsterdam"),
    Country("NO", "NOR", "Europe/Oslo"),
    Country("PL", "POL", "Europe/Warsaw"),
    Country("PT", "PRT", "Europe/Lisbon"),
    Country("RO", "ROU", "Europe/Bucharest"),
    Country("SE", "SWE", "Europe/Stockholm"),
    Country("SI", "SVN", "Europe/Ljubljana"),
    Country("SK", "SVK", "Europe/Bratislava"),
)
_BY_ALPHA2 = {country.alpha2: country for country in COUNTRIES}
_BY_ALPHA3 = {country.alpha3: country for country in COUNTRIES}


class UnknownCountry(ValueError):
    """A country code the table cannot translate."""


def alpha3(code: str) -> str:
    """ISO 3166-1 alpha-3 for an alpha-2 or alpha-3 code. An alpha-3 code outside the table is kept as is
    (it is already what both protocols' addresses want); an unknown alpha-2 code raises."""
    upper = code.strip().upper()
    if len(upper) == 3 and upper.isalpha() and upper.isascii():
        return upper
    if upper in _BY_ALPHA2:
        return _BY_ALPHA2[upper].alpha3
    raise UnknownCountry(f"no alpha-3 code known for country {code!r}")


def alpha2(code: str) -> str:
    """ISO 3166-1 alpha-2 for an alpha-3 (or alpha-2) code in the table; raises otherwise."""
    upper = code.strip().upper()
    if upper in _BY_ALPHA2:
        return upper
    if upper in _BY_ALPHA3:
        return _BY_ALPHA3[upper].alpha2
    raise UnknownCountry(f"no alpha-2 code known for country {code!r}")


def main_time_zone(code: str) -> str | None:
    """The IANA time zone of a country's mainland (alpha-2 or alpha-3), or None when not in the table."""
    upper = code.strip().upper()
    country = _BY_ALPHA2.get(upper) or _BY_ALPHA3.get(upper)
    return country.time_zone if country else None


# --- Structures -------------------------------------------------------------------------------------

_HH_MM = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$")


def _hh_mm(value: str) -> str:
    if not _HH_MM.fullmatch(value):
        raise ValueError(f"{value!r} is not a time of day HH:MM")
    return value


HourMinute = Annotated[str, AfterValidator(_hh_mm)]


def no_float(value: Any) -> Any:
    """Reject floats where an exact decimal is meant (coordinates, kWh, money)."""
    if isinstance(value, float):
        raise ValueError("a float is not exact; pass a Decimal, int or string")
    return value


class _Canonical(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class GeoPoint(_Canonical):
    """WGS84 decimal degrees, exact (both protocols write them as strings)."""

    latitude: Decimal = Field(ge=-90, le=90)
    longitude: Decimal = Field(ge=-180, le=180)

    @field_validator("latitude", "longitude", mode="before")
    @classmethod
    def _exact(cls, value: Any) -> Any:
        return no_float(value)


class Address(_Canonical):
    """A street address. OCPI writes street and house number in one ``address`` string; OICP separates
    them, so ``house_number`` is None when the source did not."""

    street: str = Field(min_length=1)
    house_number: str | None = None
    postal_code: str | None = None
    city: str = Field(min_length=1)
    country: str
    """ISO 3166-1 alpha-3 (an alpha-2 code in the table is converted)."""
    region: str | None = None
    time_zone: str | None = None
    """IANA name, e.g. ``Europe/Berlin`` (OCPI ``time_zone``)."""

    @field_validator("country")
    @classmethod
    def _alpha3(cls, value: str) -> str:
        return alpha3(value)


class RegularHours(_Canonical):
    weekday: int = Field(ge=1, le=7)
    """ISO weekday: 1 is Monday, 7 is Sunday."""
    begin: HourMinute
    end: HourMinute


class OpeningHours(_Canonical):
    twentyfourseven: bool
    regular: tuple[RegularHours, ...] = ()


class Connector(_Canonical):
    """One connector, in OCPI's terms (``max_voltage`` is line to neutral for AC_3_PHASE)."""

    id: str = Field(min_length=1, max_length=36)
    standard: str
    """OCPI ConnectorType value, e.g. ``IEC_62196_T2``."""
    format: ConnectorFormat
    power_type: PowerType
    max_voltage: int = Field(ge=0)
    max_amperage: int = Field(ge=0)
    max_electric_power: int | None = Field(default=None, ge=0)
    """Watts."""


class Evse(_Canonical):
    """One EVSE as the hub knows it, whichever protocol its CPO speaks."""

    evse_id: str = Field(min_length=1, max_length=48)
    """The EvseID (eMI3), in the form the CPO wrote it; compare with the separators removed."""
    uid: str = Field(min_length=1, max_length=36)
    """OCPI's EVSE ``uid`` (for an OICP EVSE, derived from the EvseID)."""
    operator_id: str
    """The OICP OperatorID of the EVSE's CPO (``DE*ABC``), i.e. OCPI's country code and party id."""
    operator_name: str | None = None
    location_id: str | None = Field(default=None, max_length=36)
    status: EvseStatus = EvseStatus.UNKNOWN
    name: str | None = None
    address: Address
    coordinates: GeoPoint
    connectors: tuple[Connector, ...] = ()
    capabilities: tuple[str, ...] = ()
    """OCPI Capability values (``RFID_READER``, ``REMOTE_START_STOP_CAPABLE``, ``RESERVABLE``, ...)."""
    parking_type: str | None = None
    """OCPI ParkingType value."""
    parking_restrictions: tuple[str, ...] = ()
    floor_level: str | None = None
    opening_hours: OpeningHours | None = None
    """None: not stated by the source."""
    renewable_energy: bool | None = None
    """None: not stated by the source."""
    accessibility: str | None = None
    """OICP Accessibility value (OCPI has no such field)."""
    hotline_phone_number: str | None = None
    """OICP HotlinePhoneNumber, ``+`` and digits (OCPI has no such field)."""
    publish: bool = True
    last_updated: datetime | None = None
