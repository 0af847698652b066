"""The demo's cast and the OCPI 2.2.1 objects it sends: small, valid, built in code (no spec files needed).

Two CPOs and two eMSPs, one of each speaking OICP 2.3. Every charging session happened *yesterday* (UTC):
the demo closes yesterday's daily settlement period, which is over, as an operator would.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from pydantic import BaseModel

from schemas.ocpi.v2_2_1 import CDR, Location, Session, Tariff, Token, format_datetime


@dataclass(frozen=True)
class Cast:
    """Who plays in the demo; ``ref`` is the party as OCPI and the ledger name it (CC-PID)."""

    name: str
    country_code: str
    party_id: str
    role: str  # CPO or EMSP
    protocol: str  # ocpi or oicp

    @property
    def ref(self) -> str:
        return f"{self.country_code}-{self.party_id}"

    @property
    def oicp_id(self) -> str:
        """OperatorID (DE*CPB) or ProviderID (DE-EMB)."""
        separator = "*" if self.role == "CPO" else "-"
        return f"{self.country_code}{separator}{self.party_id}"


CPO_OCPI = Cast("Amstel Charging", "NL", "CPA", "CPO", "ocpi")
CPO_OICP = Cast("Spree Strom", "DE", "CPB", "CPO", "oicp")
EMSP_OCPI = Cast("Tulip Mobility", "NL", "EMA", "EMSP", "ocpi")
EMSP_OICP = Cast("Havel eMobility", "DE", "EMB", "EMSP", "oicp")
CAST = (CPO_OCPI, CPO_OICP, EMSP_OCPI, EMSP_OICP)

# Tokens: RFID UIDs as OICP writes them (hex), contract ids that are valid EvcoIDs.
EMA_UID, EMA_CONTRACT = "AA000001", "NL-EMA-C00000001-7"
EMA_BLOCKED_UID = "AA0000FF"  # Tulip's own card, reported stolen: the eMSP answers BLOCKED
EMB_UID = "BB000001"
UNKNOWN_UID = "CC000001"  # nobody's card

# The OCPI CPO's sites (location id: name, site number, EVSEs) and the OICP CPO's EVSEs.
CPA_SITES = {"AMS-CENTRAAL": ("Amsterdam Centraal", 1, 2), "AMS-ZUID": ("Amsterdam Zuid", 2, 1)}
CPB_EVSES = ("DE*CPB*E0001", "DE*CPB*E0002")

CPA_TARIFF_ID = "AC-STANDARD"
CPA_PRICE_PER_KWH = Decimal("0.35")
CPA_VAT_PERCENT = Decimal(21)
CPB_PRICE_PER_KWH = Decimal("0.45")  # Spree's pricing product, net of VAT
HUB_FEE_FIXED, HUB_FEE_PERCENT = Decimal("0.05"), Decimal("1.5")  # what the hub charges each CPO per CDR
_CENT = Decimal("0.01")


def yesterday(now: datetime) -> date:
    return (now.astimezone(UTC) - timedelta(days=1)).date()


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


def _stamp(when: datetime) -> str:
    return format_datetime(when)


def wire(model: type[BaseModel], body: dict[str, Any]) -> dict[str, Any]:
    """The body checked against the OCPI 2.2.1 model, as JSON-ready data (Decimal becomes a JSON number)."""
    data: dict[str, Any] = model.model_validate(body).model_dump(mode="json", exclude_none=True)
    return data


# --- publication ---------------------------------------------------------------------------------------


def cpa_evse_id(site: str, number: int) -> str:
    return f"NL*CPA*E{CPA_SITES[site][1]}00{number}"


def location(site: str, updated: datetime) -> dict[str, Any]:
    name, _, evses = CPA_SITES[site]
    return wire(
        Location,
        {
            "country_code": CPO_OCPI.country_code,
            "party_id": CPO_OCPI.party_id,
            "id": site,
            "publish": True,
            "name": name,
            "address": "Stationsplein 1",
            "city": "Amsterdam",
            "postal_code": "1012AB",
            "country": "NLD",
            "coordinates": {"latitude": "52.378901", "longitude": "4.900271"},
            "evses": [_evse(site, n, updated) for n in range(1, evses + 1)],
            "operator": {"name": CPO_OCPI.name},
            "time_zone": "Europe/Amsterdam",
            "last_updated": _stamp(updated),
        },
    )


def _evse(site: str, number: int, updated: datetime) -> dict[str, Any]:
    connector = {
        "id": "1",
        "standard": "IEC_62196_T2",
        "format": "SOCKET",
        "power_type": "AC_3_PHASE",
        "max_voltage": 230,
        "max_amperage": 32,
        "tariff_ids": [CPA_TARIFF_ID],
        "last_updated": _stamp(updated),
    }
    return {
        "uid": f"{site}-{number}",
        "evse_id": cpa_evse_id(site, number),
        "status": "AVAILABLE",
        "capabilities": ["RFID_READER", "REMOTE_START_STOP_CAPABLE"],
        "connectors": [connector],
        "last_updated": _stamp(updated),
    }


def tariff(updated: datetime) -> dict[str, Any]:
    return wire(
        Tariff,
        {
            "country_code": CPO_OCPI.country_code,
            "party_id": CPO_OCPI.party_id,
            "id": CPA_TARIFF_ID,
            "currency": "EUR",
            "elements": [
                {
                    "price_components": [
                        {"type": "ENERGY", "price": CPA_PRICE_PER_KWH, "vat": CPA_VAT_PERCENT, "step_size": 1}
                    ]
                }
            ],
            "last_updated": _stamp(updated),
        },
    )


def token(uid: str, updated: datetime, *, contract_id: str = EMA_CONTRACT) -> dict[str, Any]:
    return wire(
        Token,
        {
            "country_code": EMSP_OCPI.country_code,
            "party_id": EMSP_OCPI.party_id,
            "uid": uid,
            "type": "RFID",
            "contract_id": contract_id,
            "issuer": EMSP_OCPI.name,
            "valid": True,
            "whitelist": "NEVER",  # always asked in real time: the demo shows the authorisations flowing
            "last_updated": _stamp(updated),
        },
    )


# --- sessions and CDRs of the OCPI CPO -----------------------------------------------------------------


@dataclass(frozen=True)
class Charge:
    """One charging session at Amstel Charging: where, by whom, when and how much energy."""

    cdr_id: str
    site: str
    evse: int
    token_owner: Cast
    uid: str
    start: datetime
    kwh: Decimal
    authorization_reference: str | None = None

    @property
    def end(self) -> datetime:
        return self.start + timedelta(minutes=int(self.kwh * 5))  # about 12 kW

    @property
    def cost(self) -> Decimal:
        return (self.kwh * CPA_PRICE_PER_KWH).quantize(_CENT, ROUND_HALF_UP)

    @property
    def cost_incl_vat(self) -> Decimal:
        return (self.cost * (1 + CPA_VAT_PERCENT / 100)).quantize(_CENT, ROUND_HALF_UP)


def amstel_charges(now: datetime, references: dict[str, str]) -> list[Charge]:
    """Amstel Charging's sessions yesterday: two by Tulip's driver (one later refunded), one by Havel's."""
    d = yesterday(now)
    return [
        Charge(
            "CDR-1001",
            "AMS-CENTRAAL",
            1,
            EMSP_OCPI,
            EMA_UID,
            at(d, 8),
            Decimal("18.4"),
            references.get(EMA_UID),
        ),
        Charge("CDR-1002", "AMS-ZUID", 1, EMSP_OCPI, EMA_UID, at(d, 10, 30), Decimal("9.6")),
        Charge(
            "CDR-1003",
            "AMS-CENTRAAL",
            2,
            EMSP_OICP,
            EMB_UID,
            at(d, 12),
            Decimal(22),
            references.get(EMB_UID),
        ),
    ]


def late_charges(now: datetime) -> list[Charge]:
    """The evening's sessions, whose CDRs arrive while Tulip is offline."""
    d = yesterday(now)
    return [
        Charge("CDR-1004", "AMS-CENTRAAL", 1, EMSP_OCPI, EMA_UID, at(d, 19), Decimal(14)),
        Charge("CDR-1005", "AMS-ZUID", 1, EMSP_OCPI, EMA_UID, at(d, 20, 15), Decimal("7.5")),
    ]


def _cdr_token(charge: Charge) -> dict[str, Any]:
    owner = charge.token_owner
    contract = (
        EMA_CONTRACT if owner is EMSP_OCPI else f"{owner.country_code}-{owner.party_id}-C{charge.uid}-1"
    )
    return {
        "country_code": owner.country_code,
        "party_id": owner.party_id,
        "uid": charge.uid,
        "type": "RFID",
        "contract_id": contract,
    }


def session(charge: Charge, status: str, updated: datetime) -> dict[str, Any]:
    body: dict[str, Any] = {
        "country_code": CPO_OCPI.country_code,
        "party_id": CPO_OCPI.party_id,
        "id": f"S-{charge.cdr_id}",
        "start_date_time": _stamp(charge.start),
        "kwh": charge.kwh if status == "COMPLETED" else 0,
        "cdr_token": _cdr_token(charge),
        "auth_method": "AUTH_REQUEST",
        "location_id": charge.site,
        "evse_uid": f"{charge.site}-{charge.evse}",
        "connector_id": "1",
        "currency": "EUR",
        "status": status,
        "last_updated": _stamp(updated),
    }
    if status == "COMPLETED":
        body["end_date_time"] = _stamp(charge.end)
        body["total_cost"] = {"excl_vat": charge.cost, "incl_vat": charge.cost_incl_vat}
    if charge.authorization_reference:
        body["authorization_reference"] = charge.authorization_reference
    return wire(Session, body)


def cdr(charge: Charge, updated: datetime) -> dict[str, Any]:
    return wire(CDR, _cdr_body(charge, updated))


def _cdr_body(charge: Charge, updated: datetime) -> dict[str, Any]:
    name, _, _ = CPA_SITES[charge.site]
    body: dict[str, Any] = {
        "country_code": CPO_OCPI.country_code,
        "party_id": CPO_OCPI.party_id,
        "id": charge.cdr_id,
        "start_date_time": _stamp(charge.start),
        "end_date_time": _stamp(charge.end),
        "session_id": f"S-{charge.cdr_id}",
        "cdr_token": _cdr_token(charge),
        "auth_method": "AUTH_REQUEST",
        "cdr_location": {
            "id": charge.site,
            "name": name,
            "address": "Stationsplein 1",
            "city": "Amsterdam",
            "postal_code": "1012AB",
            "country": "NLD",
            "coordinates": {"latitude": "52.378901", "longitude": "4.900271"},
            "evse_uid": f"{charge.site}-{charge.evse}",
            "evse_id": cpa_evse_id(charge.site, charge.evse),
            "connector_id": "1",
            "connector_standard": "IEC_62196_T2",
            "connector_format": "SOCKET",
            "connector_power_type": "AC_3_PHASE",
        },
        "currency": "EUR",
        "tariffs": [tariff(updated)],
        "charging_periods": [
            {
                "start_date_time": _stamp(charge.start),
                "dimensions": [{"type": "ENERGY", "volume": charge.kwh}],
                "tariff_id": CPA_TARIFF_ID,
            }
        ],
        "total_cost": {"excl_vat": charge.cost, "incl_vat": charge.cost_incl_vat},
        "total_energy": charge.kwh,
        "total_time": (Decimal(int(charge.kwh * 5)) / 60).quantize(Decimal("0.0001")),
        "last_updated": _stamp(updated),
    }
    if charge.authorization_reference:
        body["authorization_reference"] = charge.authorization_reference
    return body


def credit_cdr(charge: Charge, updated: datetime) -> dict[str, Any]:
    """The CPO refunds a session in full: a new CDR with negated totals, pointing at the original."""
    body = {
        **_cdr_body(charge, updated),
        "id": f"{charge.cdr_id}-CR",
        "credit": True,
        "credit_reference_id": charge.cdr_id,
        "total_cost": {"excl_vat": -charge.cost, "incl_vat": -charge.cost_incl_vat},
        "remark": "Refund: the charger stopped early",
        "last_updated": _stamp(updated),
    }
    return wire(CDR, body)
