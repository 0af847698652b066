"""The hub's own language: strict models every adapter translates to and from."""

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

__all__ = [
    "ConnectionStatus",
    "CountryCode",
    "CurrencyMismatch",
    "Money",
    "OperatorId",
    "PartyCode",
    "PartyRef",
    "Protocol",
    "ProviderId",
    "Role",
]
