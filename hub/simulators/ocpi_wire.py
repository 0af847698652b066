"""Pieces the OCPI simulators share: endpoint tables, envelope, tokens, records, the route-table types.

Nothing here does I/O; :mod:`hub.simulators.ocpi_server` and :mod:`hub.simulators.ocpi` build on it.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from aiohttp import web
from multidict import CIMultiDict
from pydantic import BaseModel, ValidationError

from hub.errors import InvalidParameters
from schemas.ocpi.v2_2_1 import format_datetime

ModelT = TypeVar("ModelT", bound=BaseModel)

VERSION = "2.2.1"
SUCCESS = 1000

SENDER = "SENDER"
RECEIVER = "RECEIVER"

# Configuration modules are never routed: routing headers SHALL NOT be used on them (ocpi-hub-notes §2.7).
CONFIG_MODULES = frozenset({"versions", "credentials", "hubclientinfo"})
# Token A opens only these (§2.1: token A on any other module is HTTP 401).
TOKEN_A_MODULES = frozenset({"versions", "credentials"})

# The interfaces each role implements (ocpi-hub-notes §4.1 "Typical implementations"). A platform that hosts
# several roles exposes the union. The role is data: nothing else in the simulators branches on it.
ROLE_ENDPOINTS: dict[str, frozenset[tuple[str, str]]] = {
    "CPO": frozenset(
        {
            ("credentials", SENDER),
            ("locations", SENDER),
            ("tariffs", SENDER),
            ("sessions", SENDER),
            ("cdrs", SENDER),
            ("tokens", RECEIVER),
            ("commands", RECEIVER),
            ("chargingprofiles", RECEIVER),
            ("hubclientinfo", RECEIVER),
        }
    ),
    "EMSP": frozenset(
        {
            ("credentials", SENDER),
            ("locations", RECEIVER),
            ("tariffs", RECEIVER),
            ("sessions", RECEIVER),
            ("cdrs", RECEIVER),
            ("tokens", SENDER),
            ("commands", SENDER),
            ("hubclientinfo", RECEIVER),
        }
    ),
}

ROUTING_HEADERS = (
    "OCPI-to-country-code",
    "OCPI-to-party-id",
    "OCPI-from-country-code",
    "OCPI-from-party-id",
)

Party = tuple[str, str]
"""(country_code, party_id) as sent; compare with :func:`party_key`."""


def party_key(party: Party) -> Party:
    # CiString: parties compare case-insensitively (ocpi-hub-notes §2.5).
    return (party[0].upper(), party[1].upper())


def object_key(country_code: str, party_id: str, object_id: str) -> tuple[str, str, str]:
    """The store key of a client owned object; all three parts are CiStrings, so they are upper-cased."""
    return (country_code.upper(), party_id.upper(), object_id.upper())


def opposite(interface: str) -> str:
    return RECEIVER if interface == SENDER else SENDER


def new_token() -> str:
    # 48 URL-safe characters: printable non-whitespace ASCII within string(64) (§2.1).
    return secrets.token_urlsafe(36)


def encode_token(token: str, *, encode: bool) -> str:
    """What follows ``Token`` in the Authorization header: Base64 of UTF-8 (§2.1), or raw for old peers."""
    return base64.b64encode(token.encode()).decode() if encode else token


def token_candidates(header: str | None) -> list[str]:
    """Tokens an ``Authorization`` header may carry: Base64-decoded first, then raw (§2.1)."""
    if not header:
        return []
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "token" or not value.strip():
        return []
    value = value.strip()
    candidates = []
    with contextlib.suppress(binascii.Error, UnicodeDecodeError):
        candidates.append(base64.b64decode(value, validate=True).decode())
    candidates.append(value)
    return candidates


def now_utc() -> datetime:
    return datetime.now(UTC)


def envelope(data: Any = None, *, status_code: int = SUCCESS, message: str | None = None) -> dict[str, Any]:
    """The response envelope (§2.3); ``data`` is left out when there is none, as the d2 note recommends."""
    body: dict[str, Any] = {}
    if data is not None:
        body["data"] = data
    body["status_code"] = status_code
    if message is not None:
        body["status_message"] = message
    body["timestamp"] = format_datetime(now_utc())
    return body


@dataclass(frozen=True)
class SimResponse:
    """What a peer answered to one of our requests."""

    status: int
    body: Any
    headers: CIMultiDict[str]

    @property
    def status_code(self) -> int | None:
        """The OCPI status code of the envelope, if the body is one."""
        if isinstance(self.body, dict) and isinstance(self.body.get("status_code"), int):
            return int(self.body["status_code"])
        return None

    @property
    def data(self) -> Any:
        return self.body.get("data") if isinstance(self.body, dict) else None


@dataclass
class Received:
    """One request a peer made to the simulator, recorded before it is judged."""

    method: str
    path: str
    query: dict[str, str]
    headers: CIMultiDict[str]  # case-insensitive, as HTTP header names are
    body: Any  # parsed JSON; the raw text when it was not JSON
    at: datetime
    module: str | None = None
    status: int | None = None  # the HTTP status we answered with, filled in afterwards
    raw: str = ""  # the body exactly as it arrived, to check that a hub relays bytes unchanged


@dataclass
class Peer:
    """The other side of one credentials exchange (ocpi-hub-notes §4.2).

    ``inbound_token`` is what the peer presents to us (the B we gave it, or the C we issued);
    ``outbound_token`` is what we present to it (its C, or the B it gave us). ``None`` while registering.
    """

    versions_url: str
    inbound_token: str
    outbound_token: str | None = None
    version: str | None = None
    endpoints: dict[tuple[str, str], str] = field(default_factory=dict)
    roles: list[dict[str, Any]] = field(default_factory=list)

    def endpoint(self, module: str, interface: str) -> str | None:
        if module == "credentials":
            # The role of the credentials endpoint has no meaning (d2): take whichever was listed.
            return self.endpoints.get((module, SENDER)) or self.endpoints.get((module, RECEIVER))
        return self.endpoints.get((module, interface))


class RegistrationFailed(Exception):
    """The peer refused, or could not be used for, a credentials exchange; carries its answer if any."""

    def __init__(self, message: str, response: SimResponse | None = None) -> None:
        super().__init__(message)
        self.response = response

    @property
    def status_code(self) -> int | None:
        return self.response.status_code if self.response is not None else None


# --- what the server's middleware hands to handlers ---------------------------------------------------

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Route:
    """One line of the route table: the HTTP route and the OCPI (module, interface) it belongs to."""

    method: str
    path: str
    module: str
    interface: str
    handler: Handler


@dataclass(frozen=True)
class Call:
    """What the middleware established about an accepted request."""

    peer: Peer | None  # None when the caller used a token A
    token_a: str | None
    module: str
    interface: str
    from_party: Party | None  # None on configuration modules
    to_party: Party | None
    correlation_id: str
    body: Any


CALL = web.RequestKey("simulator.call", Call)


def ok(data: Any = None, *, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    return web.json_response(envelope(data), status=status, headers=headers)


def validated(model: type[ModelT], body: Any) -> ModelT:
    """The body as ``model``, or 2001 naming the first offending field (never 3000: STYLE §5)."""
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise invalid_parameters(exc) from exc


def invalid_parameters(exc: ValidationError) -> InvalidParameters:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"]) or "body"
    return InvalidParameters(error["msg"], field=where)
