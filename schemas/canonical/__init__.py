"""The hub's own language: strict models every adapter translates to and from."""

from schemas.canonical.cdr import AuthMethod, Cdr, SignedValue
from schemas.canonical.command import CommandOutcome, CommandStatus, RemoteStart, RemoteStop
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
    UnknownCountry,
)
from schemas.canonical.money import CurrencyMismatch, Money
from schemas.canonical.party import (
    ConnectionStatus,
    CountryCode,
    OperatorId,
    PartyCode,
    PartyRef,
    Protocol,
    ProviderId,
    Role,
)
from schemas.canonical.token import TokenRef, TokenType

__all__ = [
    "Address",
    "AuthMethod",
    "Cdr",
    "CommandOutcome",
    "CommandStatus",
    "ConnectionStatus",
    "Connector",
    "ConnectorFormat",
    "CountryCode",
    "CurrencyMismatch",
    "Evse",
    "EvseStatus",
    "GeoPoint",
    "Money",
    "OpeningHours",
    "OperatorId",
    "PartyCode",
    "PartyRef",
    "PowerType",
    "Protocol",
    "ProviderId",
    "RegularHours",
    "RemoteStart",
    "RemoteStop",
    "Role",
    "SignedValue",
    "TokenRef",
    "TokenType",
    "UnknownCountry",
]
