"""``roamhub bench``: the hub, its partners, a pass-through proxy and load generators as separate processes.

:mod:`hub.bench.run` orchestrates; :mod:`hub.bench.partners` hosts the simulated CPO, eMSP and fan-out
receivers; :mod:`hub.bench.proxy` is the minimal aiohttp hop that gives the proxy baseline;
:mod:`hub.bench.load` generates load and prints one JSON line; :mod:`hub.bench.report` prints the table.

This module holds what those processes share: the parties, the payloads (valid OCPI 2.2.1 objects, owned
by the benchmark's parties) and the wire details of a request, so every target gets the same bytes.
"""

from __future__ import annotations

import base64
import json
import math
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

Party = tuple[str, str]

HUB: Party = ("NL", "HUB")
CPO: Party = ("NL", "CPA")
EMSP: Party = ("DE", "EMA")
RECEIVER_COUNTRY = "DE"  # the extra fan-out receivers are DE-R01, DE-R02, ...
TOKEN_UID = "12345678905880"  # noqa: S105 - an RFID uid, not a secret
LOCATION_ID = "LOC1"
EVSE_UID = "3256"
AUTHORIZE_BODY = b'{"location_id":"LOC1"}'


def receiver_party(number: int) -> Party:
    return (RECEIVER_COUNTRY, f"R{number:02d}")


def cdr_cpo_party(number: int) -> Party:
    """The CPOs that POST CDRs beside the bench CPO: NL-C01, NL-C02, ..."""
    return (CPO[0], f"C{number:02d}")


def party_text(party: Party) -> str:
    return f"{party[0]}-{party[1]}"


def parse_party(text: str) -> Party:
    country, _, party_id = text.partition("-")
    return (country, party_id)


def ocpi_headers(token: str, sender: Party, receiver: Party) -> dict[str, str]:
    """Authorization (Base64 token, §2.1), Content-Type and routing headers of one functional request."""
    return {
        "Authorization": f"Token {base64.b64encode(token.encode()).decode()}",
        "Content-Type": "application/json",
        "OCPI-from-country-code": sender[0],
        "OCPI-from-party-id": sender[1],
        "OCPI-to-country-code": receiver[0],
        "OCPI-to-party-id": receiver[1],
    }


def ocpi_time(at: float | None = None) -> str:
    """An OCPI DateTime with microseconds: unique enough to name an update."""
    moment = datetime.fromtimestamp(time.time() if at is None else at, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"


def token_payload() -> dict[str, Any]:
    return {
        "country_code": EMSP[0],
        "party_id": EMSP[1],
        "uid": TOKEN_UID,
        "type": "RFID",
        "contract_id": "DE8ACC12E46L89",
        "visual_number": "DF000-2001-8999-1",
        "issuer": "Bench eMSP",
        "valid": True,
        "whitelist": "ALLOWED",
        "last_updated": "2025-01-01T00:00:00Z",
    }


def _connector(connector_id: str) -> dict[str, Any]:
    return {
        "id": connector_id,
        "standard": "IEC_62196_T2",
        "format": "SOCKET",
        "power_type": "AC_3_PHASE",
        "max_voltage": 220,
        "max_amperage": 16,
        "last_updated": "2025-01-01T00:00:00Z",
    }


def location_payload() -> dict[str, Any]:
    return {
        "country_code": CPO[0],
        "party_id": CPO[1],
        "id": LOCATION_ID,
        "publish": True,
        "name": "Bench Station",
        "address": "F.Rooseveltlaan 3A",
        "city": "Gent",
        "postal_code": "9000",
        "country": "BEL",
        "coordinates": {"latitude": "51.047599", "longitude": "3.729944"},
        "evses": [
            {
                "uid": EVSE_UID,
                "evse_id": "NL*CPA*E041503001",
                "status": "AVAILABLE",
                "connectors": [_connector("1")],
                "last_updated": "2025-01-01T00:00:00Z",
            }
        ],
        "time_zone": "Europe/Brussels",
        "last_updated": "2025-01-01T00:00:00Z",
    }


def evse_patch(status: str, last_updated: str) -> dict[str, str]:
    return {"status": status, "last_updated": last_updated}


def evse_path() -> str:
    """Below a locations Receiver endpoint: the EVSE every fan-out update patches."""
    return f"/{CPO[0]}/{CPO[1]}/{LOCATION_ID}/{EVSE_UID}"


def cdr_id(prefix: str, worker: int, seq: int, sent_at: float) -> str:
    """A CDR id that carries the time it was POSTed, so the eMSP can tell the delay (Id39 fits)."""
    return f"{prefix}{worker}-{seq}-{int(sent_at * 1_000_000)}"


def sent_at_of(cdr: str) -> float | None:
    tail = cdr.rpartition("-")[2]
    return int(tail) / 1_000_000 if tail.isdigit() else None


def cdr_payload(cdr_id: str, cpo: Party = CPO) -> dict[str, Any]:
    return {
        "country_code": cpo[0],
        "party_id": cpo[1],
        "id": cdr_id,
        "start_date_time": "2025-06-29T21:39:09Z",
        "end_date_time": "2025-06-29T23:37:32Z",
        "cdr_token": {
            "country_code": EMSP[0],
            "party_id": EMSP[1],
            "uid": TOKEN_UID,
            "type": "RFID",
            "contract_id": "DE8ACC12E46L89",
        },
        "auth_method": "WHITELIST",
        "cdr_location": {
            "id": LOCATION_ID,
            "name": "Bench Station",
            "address": "F.Rooseveltlaan 3A",
            "city": "Gent",
            "postal_code": "9000",
            "country": "BEL",
            "coordinates": {"latitude": "51.047599", "longitude": "3.729944"},
            "evse_uid": EVSE_UID,
            "evse_id": "NL*CPA*E041503001",
            "connector_id": "1",
            "connector_standard": "IEC_62196_T2",
            "connector_format": "SOCKET",
            "connector_power_type": "AC_3_PHASE",
        },
        "currency": "EUR",
        "charging_periods": [
            {"start_date_time": "2025-06-29T21:39:09Z", "dimensions": [{"type": "ENERGY", "volume": 15.342}]}
        ],
        "total_cost": {"excl_vat": 4.00, "incl_vat": 4.40},
        "total_energy": 15.342,
        "total_time": 1.973,
        "last_updated": "2025-06-29T23:37:32Z",
    }


def percentiles_ms(seconds: Sequence[float]) -> dict[str, float | int | None]:
    """p50/p90/p99/max of durations given in seconds, in milliseconds (nearest rank)."""
    if not seconds:
        return {"count": 0, "p50": None, "p90": None, "p99": None, "max": None}
    ordered = sorted(seconds)

    def rank(fraction: float) -> float:
        index = max(0, math.ceil(fraction * len(ordered)) - 1)
        return round(ordered[index] * 1000, 3)

    return {
        "count": len(ordered),
        "p50": rank(0.50),
        "p90": rank(0.90),
        "p99": rank(0.99),
        "max": round(ordered[-1] * 1000, 3),
    }


def emit(data: dict[str, Any]) -> None:
    """One JSON line on stdout: how a child process reports to the orchestrator."""
    sys.stdout.write(json.dumps(data, separators=(",", ":")) + "\n")
    sys.stdout.flush()
