"""OCPI 2.2.1 CDR ⇄ canonical Cdr (ocpi-hub-notes §6.3).

OCPI writes UTC; an OCPI CDR made from an OICP one therefore shows the same instants in UTC. Money is
Decimal throughout and written with at most 4 decimals (DESIGN.md, "Money").
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from adapters.ocpi.locations import evse_uid_for, oicp_evse_id
from adapters.ocpi.tokens import token_type
from schemas.canonical.cdr import AuthMethod, Cdr, SignedValue
from schemas.canonical.evse import alpha3
from schemas.canonical.money import Money
from schemas.canonical.party import PartyRef
from schemas.canonical.token import TokenRef
from schemas.ocpi.v2_2_1.cdrs import CDR, CdrLocation, SignedData
from schemas.ocpi.v2_2_1.common import Price
from schemas.ocpi.v2_2_1.locations import EVSE, Location

_MONEY = Decimal("0.0001")
_HOURS = Decimal("0.0001")
_SECONDS_PER_HOUR = Decimal(3600)
_UNKNOWN_SIGNING_METHOD = "UNKNOWN"


# --- OCPI → canonical -------------------------------------------------------------------------------


def to_canonical(cdr: dict[str, Any]) -> Cdr:
    """The canonical CDR of an OCPI CDR object (validated by the wire model first).

    The CPO is the CDR's owner, the eMSP the token's (``cdr_token`` country code and party id). Amounts
    with more than 4 decimals are rounded half up to 4, the ledger's precision.
    """
    wire = CDR.model_validate(cdr)
    token = wire.cdr_token
    return Cdr(
        id=wire.id,
        session_id=wire.session_id or wire.id,
        cpo=PartyRef(country_code=wire.country_code, party_id=wire.party_id),
        emsp=PartyRef(country_code=token.country_code, party_id=token.party_id),
        token=_token(wire),
        evse_id=wire.cdr_location.evse_id,
        location_id=wire.cdr_location.id,
        auth_method=AuthMethod(wire.auth_method.value),
        authorization_reference=wire.authorization_reference,
        start=wire.start_date_time,
        end=wire.end_date_time,
        energy_kwh=wire.total_energy,
        signed_values=_signed_values(wire.signed_data),
        signing_method=wire.signed_data.encoding_method if wire.signed_data else None,
        public_key=wire.signed_data.public_key if wire.signed_data else None,
        product_id=_tariff_id(wire),
        currency=wire.currency,
        cost=_money(wire.total_cost.excl_vat, wire.currency),
        vat=_vat(wire.total_cost, wire.currency),
        credit=bool(wire.credit),
        credit_reference_id=wire.credit_reference_id,
    )


def _token(wire: CDR) -> TokenRef:
    token = wire.cdr_token
    return TokenRef(uid=token.uid, type=token_type(str(token.type)), contract_id=token.contract_id)


def _money(amount: Decimal, currency: str) -> Money:
    return Money.of(amount.quantize(_MONEY, rounding=ROUND_HALF_UP), currency)


def _vat(price: Price, currency: str) -> Money | None:
    if price.incl_vat is None:
        return None
    return _money(price.incl_vat, currency) - _money(price.excl_vat, currency)


def _signed_values(data: SignedData | None) -> tuple[SignedValue, ...] | None:
    if data is None:
        return None
    return tuple(
        SignedValue(nature=value.nature, signed_data=value.signed_data, plain_data=value.plain_data or None)
        for value in data.signed_values
    )


def _tariff_id(wire: CDR) -> str | None:
    """The first tariff a charging period names: the closest OCPI has to OICP's PartnerProductID."""
    return next((period.tariff_id for period in wire.charging_periods if period.tariff_id), None)


# --- canonical → OCPI -------------------------------------------------------------------------------


def from_canonical(cdr: Cdr, now: datetime, location: dict[str, Any] | None = None) -> dict[str, Any]:
    """An OCPI 2.2.1 CDR object (JSON) for an OCPI eMSP; ``now`` becomes ``last_updated``.

    The CDR must be priced (``total_cost`` is required and an absent price is not "free"): ValueError
    otherwise. ``location`` (an OCPI Location holding the EVSE) fills ``cdr_location``; without it a
    minimal one is built from the EvseID (see :func:`minimal_cdr_location`). One charging period with
    the ENERGY dimension; ``total_time`` is the session's length in hours.
    """
    if cdr.cost is None:
        raise ValueError(f"CDR {cdr.id} has no price; an OCPI CDR needs total_cost (hold it for review)")
    currency = cdr.currency or cdr.cost.currency
    wire = CDR(
        country_code=cdr.cpo.country_code,
        party_id=cdr.cpo.party_id,
        id=cdr.id,
        start_date_time=cdr.start,
        end_date_time=cdr.end,
        # OCPI session ids are CiString(36); a longer CPO session id (OICP allows 250) is left out.
        session_id=cdr.session_id if len(cdr.session_id) <= 36 else None,
        cdr_token=_cdr_token(cdr),
        auth_method=cdr.auth_method.value,
        authorization_reference=cdr.authorization_reference,
        cdr_location=_cdr_location(cdr, location),
        currency=currency,
        charging_periods=[_charging_period(cdr)],
        signed_data=_signed_data(cdr),
        total_cost=_price(cdr.cost, cdr.cost_incl_vat),
        total_energy=cdr.energy_kwh,
        total_time=_hours(cdr.end - cdr.start),
        total_parking_time=_parking_hours(cdr),
        credit=cdr.credit or None,
        credit_reference_id=cdr.credit_reference_id,
        last_updated=now,
    )
    return wire.model_dump(mode="json", exclude_none=True)


def _cdr_token(cdr: Cdr) -> dict[str, Any]:
    # contract_id is required in a CdrToken; an RFID-only OICP identification has none, and the card's
    # uid is then the only name the eMSP has for it.
    return {
        "country_code": cdr.emsp.country_code,
        "party_id": cdr.emsp.party_id,
        "uid": cdr.token.uid,
        "type": cdr.token.type.value,
        "contract_id": cdr.token.contract_id or cdr.token.uid,
    }


def _charging_period(cdr: Cdr) -> dict[str, Any]:
    return {
        "start_date_time": cdr.charging_start or cdr.start,
        "dimensions": [{"type": "ENERGY", "volume": cdr.energy_kwh}],
    }


def _price(excl: Money, incl: Money | None) -> Price:
    return Price(excl_vat=excl.amount, incl_vat=incl.amount if incl else None)


def _hours(delta: timedelta) -> Decimal:
    seconds = Decimal(int(delta.total_seconds() * 1_000_000)) / 1_000_000
    return (seconds / _SECONDS_PER_HOUR).quantize(_HOURS, rounding=ROUND_HALF_UP)


def _parking_hours(cdr: Cdr) -> Decimal | None:
    """Time at the EVSE without charging, when both charging times are known (else not stated)."""
    if cdr.charging_start is None or cdr.charging_end is None:
        return None
    return _hours((cdr.charging_start - cdr.start) + (cdr.end - cdr.charging_end))


def _signed_data(cdr: Cdr) -> SignedData | None:
    if not cdr.signed_values:
        return None
    return SignedData.model_validate(
        {
            "encoding_method": cdr.signing_method or _UNKNOWN_SIGNING_METHOD,
            "public_key": cdr.public_key,
            "signed_values": [
                {"nature": v.nature, "plain_data": v.plain_data or "", "signed_data": v.signed_data}
                for v in cdr.signed_values
            ],
        }
    )


def _cdr_location(cdr: Cdr, location: dict[str, Any] | None) -> CdrLocation:
    if location is None:
        return minimal_cdr_location(cdr)
    parsed = Location.model_validate(location)
    evse = _find_evse(parsed, cdr.evse_id)
    connector = evse.connectors[0]
    return CdrLocation(
        id=parsed.id,
        name=parsed.name,
        address=parsed.address,
        city=parsed.city,
        postal_code=parsed.postal_code,
        state=parsed.state,
        country=parsed.country,
        coordinates=evse.coordinates or parsed.coordinates,
        evse_uid=evse.uid,
        evse_id=evse.evse_id or cdr.evse_id,
        connector_id=connector.id,
        connector_standard=connector.standard,
        connector_format=connector.format,
        connector_power_type=connector.power_type,
    )


def _find_evse(location: Location, evse_id: str) -> EVSE:
    wanted = _comparable(evse_id)
    for evse in location.evses or []:
        if evse.evse_id and _comparable(evse.evse_id) == wanted:
            return evse
    raise ValueError(f"location {location.id} has no EVSE {evse_id}")


def _comparable(evse_id: str) -> str:
    return (oicp_evse_id(evse_id) or evse_id).upper().replace("*", "")


def minimal_cdr_location(cdr: Cdr) -> CdrLocation:
    """A CdrLocation when the hub knows nothing of the EVSE but its EvseID.

    Every field OCPI requires is filled, and the placeholders say so: address and city ``Unknown``,
    coordinates 0,0, connector ``1`` of standard IEC_62196_T2, SOCKET, AC_3_PHASE (Europe's common
    public AC connector). The country is the EvseID's (alpha-2 prefix → alpha-3; a DIN EvseID or a
    country outside the table raises). Pass the location whenever the hub has it.
    """
    return CdrLocation(
        id=cdr.location_id or evse_uid_for(cdr.evse_id),
        address="Unknown",
        city="Unknown",
        country=alpha3(cdr.evse_id[:2]),
        coordinates={"latitude": "0.000000", "longitude": "0.000000"},
        evse_uid=evse_uid_for(cdr.evse_id),
        evse_id=cdr.evse_id,
        connector_id="1",
        connector_standard="IEC_62196_T2",
        connector_format="SOCKET",
        connector_power_type="AC_3_PHASE",
    )
