"""OCPI routing headers (ocpi-hub-notes §2.7): who a functional-module message is from and for.

``OCPI-from-*`` and ``OCPI-to-*`` always come as pairs (country code and party id, issue #214). FROM is
required on every functional request and must be one of the calling platform's own registered parties:
parties are not authenticated by OCPI, platforms are (issues #284, #509), so the hub polices this.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from hub.errors import Forbidden, InvalidParameters
from schemas.canonical.party import PartyRef

FROM_COUNTRY = "OCPI-from-country-code"
FROM_PARTY = "OCPI-from-party-id"
TO_COUNTRY = "OCPI-to-country-code"
TO_PARTY = "OCPI-to-party-id"


@dataclass(frozen=True)
class RoutingHeaders:
    sender: PartyRef
    receiver: PartyRef | None


def _pair(headers: Mapping[str, str], country: str, party: str, required: bool) -> PartyRef | None:
    cc, pid = headers.get(country), headers.get(party)
    if cc is None and pid is None:
        if required:
            raise InvalidParameters(
                f"{country} and {party} are required on functional modules", field=country
            )
        return None
    if cc is None or pid is None:
        missing = country if cc is None else party
        raise InvalidParameters(f"{missing} is missing; routing headers come in pairs", field=missing)
    try:
        return PartyRef(country_code=cc, party_id=pid)
    except ValueError as exc:
        raise InvalidParameters(
            f"{cc}/{pid} is not a valid country code and party id", field=country
        ) from exc


def parse(headers: Mapping[str, str]) -> RoutingHeaders:
    sender = _pair(headers, FROM_COUNTRY, FROM_PARTY, required=True)
    assert sender is not None
    return RoutingHeaders(sender=sender, receiver=_pair(headers, TO_COUNTRY, TO_PARTY, required=False))


def own_roles(registered: Iterable[Mapping[str, Any]]) -> set[PartyRef]:
    return {
        PartyRef(country_code=str(role["country_code"]), party_id=str(role["party_id"]))
        for role in registered
    }


def check_sender(routing: RoutingHeaders, registered: Iterable[Mapping[str, Any]]) -> None:
    """Refuse a FROM that is not one of the platform's own parties; nothing gets forwarded."""
    if routing.sender not in own_roles(registered):
        raise Forbidden(
            f"{routing.sender} is not a party of this platform; OCPI-from-* must name your own party",
            field=FROM_PARTY,
        )


def response_headers(sender: PartyRef, receiver: PartyRef) -> dict[str, str]:
    """Routing headers on a response: FROM the responder, TO the requester."""
    return {
        FROM_COUNTRY: sender.country_code,
        FROM_PARTY: sender.party_id,
        TO_COUNTRY: receiver.country_code,
        TO_PARTY: receiver.party_id,
    }
