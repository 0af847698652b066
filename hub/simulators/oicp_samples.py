"""Sample OICP 2.3 data for the simulators, tests, the demo and benchmarks: valid by construction.

Everything is built with the wire models of :mod:`schemas.oicp.v2_3`, so ``.to_wire()`` gives the JSON a
partner sends; the tests check each sample against Hubject's OpenAPI files as well.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from schemas.oicp.v2_3 import (
    EVCO_ID,
    UID_PATTERN,
    AddressIso19773,
    ChargingFacility,
    EvseDataRecord,
    GeoCoordinates,
    GoogleCoordinates,
    Identification,
    InfoText,
    Period,
    PlugAndChargeIdentification,
    PricingProductDataRecord,
    ProductAvailabilityTimes,
    QRCodeIdentification,
    RemoteIdentification,
    RFIDMifareFamilyIdentification,
    eRoamingChargeDetailRecord,
)

IdentificationLike = Identification | str
"""An Identification, or a token (an RFID UID or an EvcoID) that :func:`identification` turns into one."""


def identification(
    token: IdentificationLike, *, pin: str | None = None, remote: bool = False
) -> Identification:
    """The Identification a partner sends for ``token`` (oicp-hub-notes §3).

    A UID becomes ``RFIDMifareFamilyIdentification`` (the RFID option of the authorization messages); an
    EvcoID becomes ``RemoteIdentification`` with ``remote`` (the only option for remote start and
    reservations), ``QRCodeIdentification`` with a ``pin``, ``PlugAndChargeIdentification`` otherwise.
    """
    if isinstance(token, Identification):
        return token
    if UID_PATTERN.fullmatch(token.upper()):
        return Identification(rfid_mifare_family_identification=RFIDMifareFamilyIdentification(uid=token))
    if not EVCO_ID.fullmatch(token):
        raise ValueError(f"{token!r} is neither an RFID UID nor an EvcoID")
    if remote:
        return Identification(remote_identification=RemoteIdentification(evco_id=token))
    if pin is not None:
        return Identification(qr_code_identification=QRCodeIdentification(evco_id=token, pin=pin))
    return Identification(plug_and_charge_identification=PlugAndChargeIdentification(evco_id=token))


def token_of(ident: Identification) -> str:
    """The comparable token of an Identification's single member: its UID, else its EvcoID, upper case.

    Hubject upper-cases UIDs and EvcoIDs itself (oicp-hub-notes §3), so a partner compares them that way.
    """
    member = ident.only()
    uid = getattr(member, "uid", None)
    token = uid if uid is not None else getattr(member, "evco_id", "")
    return str(token).upper()


def sample_evse_record(
    evse_id: str,
    *,
    name: str = "Simulated charging station",
    power: Decimal | int = 22,
    coordinates: str = "52.520008 13.404954",
    city: str = "Berlin",
    **overrides: Any,
) -> EvseDataRecord:
    """A complete EvseDataRecord (every field PushEvseData 2.3 requires); ``overrides`` by Python name."""
    fields: dict[str, Any] = {
        "evse_id": evse_id,
        "charging_station_names": [InfoText(lang="en", value=name)],
        "address": AddressIso19773(
            country="DEU", city=city, street="Simulatorstrasse", postal_code="10115", house_num="1"
        ),
        "geo_coordinates": GeoCoordinates(google=GoogleCoordinates(coordinates=coordinates)),
        "plugs": ["Type 2 Outlet"],
        "charging_facilities": [ChargingFacility(power_type="AC_3_PHASE", power=Decimal(power))],
        "renewable_energy": True,
        "calibration_law_data_availability": "Local",
        "authentication_modes": ["NFC RFID Classic", "REMOTE"],
        "payment_options": ["Contract"],
        "value_added_services": ["Reservation"],
        "accessibility": "Free publicly accessible",
        "hotline_phone_number": "+493012345678",
        "is_open_24_hours": True,
        "is_hubject_compatible": True,
        "dynamic_info_available": "true",
    }
    fields.update(overrides)
    return EvseDataRecord(**fields)


def sample_cdr(
    session_id: str,
    evse_id: str,
    identification_: IdentificationLike,
    start: datetime,
    end: datetime,
    kwh: Decimal | int | str,
    **overrides: Any,
) -> eRoamingChargeDetailRecord:
    """A CDR for one session: charging and session times equal, meter from 0 to ``kwh``."""
    energy = Decimal(kwh)
    fields: dict[str, Any] = {
        "session_id": session_id,
        "evse_id": evse_id,
        "identification": identification(identification_),
        "charging_start": start,
        "charging_end": end,
        "session_start": start,
        "session_end": end,
        "meter_value_start": Decimal(0),
        "meter_value_end": energy,
        "consumed_energy": energy,
    }
    fields.update(overrides)
    return eRoamingChargeDetailRecord(**fields)


def sample_pricing_record(
    product_id: str = "AC1", price: Decimal | str = "0.39", currency: str = "EUR", **overrides: Any
) -> PricingProductDataRecord:
    """A pricing product valid around the clock, priced per kWh (net of VAT, as the guide says)."""
    fields: dict[str, Any] = {
        "product_id": product_id,
        "reference_unit": "KILOWATT_HOUR",
        "product_price_currency": currency,
        "price_per_reference_unit": Decimal(price),
        "maximum_product_charging_power": Decimal(22),
        "is_valid_24_hours": True,
        "product_availability_times": [
            ProductAvailabilityTimes(periods=[Period(begin="00:00", end="23:59")], on="Everyday")
        ],
    }
    fields.update(overrides)
    return PricingProductDataRecord(**fields)
