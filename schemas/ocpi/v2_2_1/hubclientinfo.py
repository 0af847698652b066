"""HubClientInfo module: the hub tells each client which parties are reachable through it."""

from __future__ import annotations

from enum import StrEnum

from schemas.ocpi.v2_2_1.common import CountryCode, OcpiDateTime, OcpiModel, PartyId, Role


class ConnectionStatus(StrEnum):
    CONNECTED = "CONNECTED"
    OFFLINE = "OFFLINE"
    PLANNED = "PLANNED"
    SUSPENDED = "SUSPENDED"


class ClientInfo(OcpiModel):
    party_id: PartyId
    country_code: CountryCode
    role: Role
    status: ConnectionStatus
    last_updated: OcpiDateTime
