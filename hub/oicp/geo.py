"""OICP's three coordinate formats, read and written, and distances for ``SearchCenter`` (notes §4.1).

A CPO pushes one of ``Google`` (``"47.662249 9.360922"``), ``DecimalDegree`` or ``DegreeMinuteSeconds``;
an EMP names the one it wants back (``GeoCoordinatesResponseFormat``). Coordinates are exact decimals;
only the great-circle distance is computed in floating point (it is compared with a radius, never stored).
"""

from __future__ import annotations

import math
import re
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any, NamedTuple

from schemas.oicp.v2_3.evse_data import GeoCoordinatesResponseFormat

EARTH_RADIUS_KM = 6371.0088  # the IUGG mean radius
_SIX_PLACES = Decimal("0.000001")
_SECONDS_PLACES = Decimal("0.0001")
_DMS = re.compile(r"^(-?)(\d{1,3})°\s?(\d{1,2})'\s?(\d{1,2}(?:\.\d+)?)''$")


class Point(NamedTuple):
    latitude: Decimal
    longitude: Decimal


class BadCoordinates(ValueError):
    """Coordinates in none of the three formats, or out of range."""


def point_of(geo: dict[str, Any] | None) -> Point:
    """The point a wire ``GeoCoordinates`` object names, in whichever format it is written."""
    geo = geo or {}
    if geo.get("DecimalDegree"):
        pair = geo["DecimalDegree"]
        return _checked(_decimal(pair.get("Latitude")), _decimal(pair.get("Longitude")))
    if geo.get("Google"):
        parts = re.split(r"[\s,]+", str(geo["Google"].get("Coordinates", "")).strip())
        if len(parts) != 2:
            raise BadCoordinates(f"{geo['Google']!r} is not 'latitude longitude'")
        return _checked(_decimal(parts[0]), _decimal(parts[1]))
    if geo.get("DegreeMinuteSeconds"):
        pair = geo["DegreeMinuteSeconds"]
        return _checked(_from_dms(pair.get("Latitude")), _from_dms(pair.get("Longitude")))
    raise BadCoordinates("GeoCoordinates needs one of Google, DecimalDegree or DegreeMinuteSeconds")


def _decimal(text: Any) -> Decimal:
    try:
        return Decimal(str(text).strip())
    except InvalidOperation as exc:
        raise BadCoordinates(f"{text!r} is not a decimal degree") from exc


def _from_dms(text: Any) -> Decimal:
    match = _DMS.fullmatch(str(text).strip())
    if match is None:
        raise BadCoordinates(f"{text!r} is not degrees, minutes and seconds like 47°39'44.096''")
    sign, degrees, minutes, seconds = match.groups()
    value = Decimal(degrees) + Decimal(minutes) / 60 + Decimal(seconds) / 3600
    return -value if sign else value


def _checked(latitude: Decimal, longitude: Decimal) -> Point:
    if not latitude.is_finite() or not longitude.is_finite():
        raise BadCoordinates("coordinates must be finite numbers")
    if abs(latitude) > 90 or abs(longitude) > 180:
        raise BadCoordinates(f"({latitude}, {longitude}) is outside the earth's range")
    return Point(latitude, longitude)


# --- writing ----------------------------------------------------------------------------------------


def as_format(point: Point, wanted: GeoCoordinatesResponseFormat) -> dict[str, Any]:
    """A wire ``GeoCoordinates`` object carrying only the requested format."""
    if wanted is GeoCoordinatesResponseFormat.GOOGLE:
        return {"Google": {"Coordinates": f"{_degrees(point.latitude)} {_degrees(point.longitude)}"}}
    if wanted is GeoCoordinatesResponseFormat.DEGREE_MINUTE_SECONDS:
        pair = {"Latitude": _dms(point.latitude), "Longitude": _dms(point.longitude)}
        return {"DegreeMinuteSeconds": pair}
    pair = {"Latitude": _degrees(point.latitude), "Longitude": _degrees(point.longitude)}
    return {"DecimalDegree": pair}


def _degrees(value: Decimal) -> str:
    """At most six decimals and at least one, as Hubject's pattern ``-?1?\\d{1,2}\\.\\d{1,6}`` wants."""
    text = f"{value.quantize(_SIX_PLACES, rounding=ROUND_HALF_EVEN):f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


def _dms(value: Decimal) -> str:
    total = (abs(value) * 3600).quantize(_SECONDS_PLACES)  # rounded once, so 59.99995'' never shows
    degrees, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    sign = "-" if value < 0 else ""
    return f"{sign}{int(degrees)}°{int(minutes)}'{seconds:f}''"


# --- distance ---------------------------------------------------------------------------------------


def distance_km(a: Point, b: Point) -> float:
    """Great-circle distance (haversine)."""
    lat1, lon1, lat2, lon2 = (math.radians(float(v)) for v in (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))
