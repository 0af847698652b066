"""The HTTP side of a simulated platform: the route table, the configuration modules, and one middleware
that records and judges every request before a handler sees it.

The middleware is where a hub's mistakes are caught (ocpi-hub-notes §2.1, §2.6, §2.7): missing or unknown
tokens, token A outside versions/credentials, routing headers missing on functional modules or present on
configuration modules, a TO that is not one of our parties, bodies that are not JSON. Each is appended to
``platform.violations`` and answered with the OCPI error a strict peer gives.
"""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any

import structlog
from aiohttp import web
from multidict import CIMultiDict

from hub.errors import (
    HubError,
    InvalidParameters,
    MalformedBody,
    MethodNotAllowed,
    NotAuthenticated,
    NotFound,
)
from hub.simulators.ocpi_modules import ModuleHandlers
from hub.simulators.ocpi_wire import (
    CALL,
    CONFIG_MODULES,
    RECEIVER,
    SENDER,
    TOKEN_A_MODULES,
    VERSION,
    Call,
    Party,
    Peer,
    Received,
    Route,
    envelope,
    now_utc,
    object_key,
    ok,
    party_key,
    validated,
)
from schemas.ocpi.v2_2_1 import ClientInfo

if TYPE_CHECKING:
    from hub.simulators.ocpi import OcpiPlatform

log = structlog.get_logger("hub.simulators.ocpi")

_RAW_BODY = web.RequestKey("simulator.raw_body", str)
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
# Errors that mean "the caller broke a rule"; an unknown object or token is a normal answer, not one.
_VIOLATIONS = (InvalidParameters, NotAuthenticated, MethodNotAllowed)


class NoSuchEndpoint(NotFound):
    """A path we do not serve, or a module we did not list in our version details."""


def build_app(platform: OcpiPlatform) -> web.Application:
    routes = [*ConfigHandlers(platform).routes(), *ModuleHandlers(platform).routes()]
    app = web.Application(middlewares=[_judge(platform, routes)])
    for route in routes:
        app.router.add_route(route.method, route.path, route.handler)
    return app


class ConfigHandlers:
    """versions, credentials and hubclientinfo: the configuration modules (never routed)."""

    def __init__(self, platform: OcpiPlatform) -> None:
        self.platform = platform

    def routes(self) -> list[Route]:
        base = f"/ocpi/{VERSION}"
        credentials = [
            Route(method, f"{base}/credentials", "credentials", SENDER, handler)
            for method, handler in (
                ("GET", self.get_credentials),
                ("POST", self.post_credentials),
                ("PUT", self.put_credentials),
                ("DELETE", self.delete_credentials),
            )
        ]
        clientinfo = f"{base}/hubclientinfo/{{cc}}/{{pid}}"
        return [
            Route("GET", "/ocpi/versions", "versions", SENDER, self.versions),
            Route("GET", "/ocpi/{version}", "versions", SENDER, self.version_details),
            *credentials,
            Route("GET", clientinfo, "hubclientinfo", RECEIVER, self.get_client_info),
            Route("PUT", clientinfo, "hubclientinfo", RECEIVER, self.put_client_info),
        ]

    async def versions(self, request: web.Request) -> web.Response:
        if self.platform.fail_versions:
            return web.Response(status=500, text="simulated failure")
        base = self.platform.base_url
        return ok(
            [{"version": version, "url": f"{base}/ocpi/{version}"} for version in self.platform.versions]
        )

    async def version_details(self, request: web.Request) -> web.Response:
        if self.platform.fail_versions:
            return web.Response(status=500, text="simulated failure")
        version = request.match_info["version"]
        if version != VERSION or version not in self.platform.versions:
            raise NoSuchEndpoint(f"version {version} is not served")
        endpoints = [
            {"identifier": module, "role": interface, "url": self.platform.endpoint_url(module, interface)}
            for module, interface in self.platform.endpoint_table()
        ]
        return ok({"version": VERSION, "endpoints": endpoints})

    # --- credentials (ocpi-hub-notes §4.2) ----------------------------------------------------------

    async def get_credentials(self, request: web.Request) -> web.Response:
        peer = _registered(request[CALL])
        return ok(self.platform.credentials(peer.inbound_token))

    async def post_credentials(self, request: web.Request) -> web.Response:
        call: Call = request[CALL]
        if call.token_a is None:
            raise MethodNotAllowed("already registered: use PUT to update the credentials")
        return ok(await self.platform.accept_registration(call.token_a, call.body))

    async def put_credentials(self, request: web.Request) -> web.Response:
        call: Call = request[CALL]
        return ok(await self.platform.accept_update(_registered(call), call.body))

    async def delete_credentials(self, request: web.Request) -> web.Response:
        self.platform.forget(_registered(request[CALL]))
        return ok()

    # --- hubclientinfo Receiver (ocpi-hub-notes §5) -------------------------------------------------

    async def put_client_info(self, request: web.Request) -> web.Response:
        body = request[CALL].body
        info = validated(ClientInfo, body)
        if party_key((request.match_info["cc"], request.match_info["pid"])) != party_key(
            (info.country_code, info.party_id)
        ):
            raise InvalidParameters("country_code/party_id differ between URL and body", field="country_code")
        key = object_key(info.country_code, info.party_id, info.role.value)
        created = key not in self.platform.client_info
        self.platform.client_info[key] = body
        return ok(status=201 if created else 200)

    async def get_client_info(self, request: web.Request) -> web.Response:
        wanted = party_key((request.match_info["cc"], request.match_info["pid"]))
        for (cc, pid, _), info in self.platform.client_info.items():
            if (cc, pid) == wanted:
                return ok(info)
        raise NotFound(f"no ClientInfo for {'-'.join(wanted)}")


def _registered(call: Call) -> Peer:
    if call.peer is None:
        raise MethodNotAllowed("not registered: POST the credentials first")
    return call.peer


# --- the middleware -------------------------------------------------------------------------------


def _judge(platform: OcpiPlatform, routes: list[Route]) -> Any:
    # Map each route to its OCPI (module, interface) by path and method: the table above is the one place.
    modules = {(route.method, route.path): (route.module, route.interface) for route in routes}

    @web.middleware
    async def judge(request: web.Request, handler: Any) -> web.StreamResponse:
        record = await _record(platform, request)
        request_id, correlation_id = _message_ids(platform, request)
        resource = request.match_info.route.resource
        module, interface = modules.get((request.method, resource.canonical if resource else ""), ("", ""))
        record.module = module or None
        try:
            response = await _accept(platform, request, handler, module, interface, correlation_id)
        except HubError as exc:
            response = _failure(platform, request, exc)
        except Exception:
            log.exception("simulator.handler_failed", path=request.path, method=request.method)
            response = _failure(platform, request, HubError())
        response.headers["X-Request-ID"] = request_id
        response.headers["X-Correlation-ID"] = correlation_id
        if module and module not in CONFIG_MODULES:
            _answer_routing(platform, request, response, module, interface)
        record.status = response.status
        return response

    return judge


async def _accept(
    platform: OcpiPlatform,
    request: web.Request,
    handler: Any,
    module: str,
    interface: str,
    correlation_id: str,
) -> web.StreamResponse:
    if isinstance(request.match_info.http_exception, web.HTTPMethodNotAllowed):
        raise MethodNotAllowed(f"{request.method} is not defined on {request.path}")
    if not module:
        raise NoSuchEndpoint(f"{request.method} {request.path} is not served here")
    peer, token_a = platform.identify(request.headers.get("Authorization"))
    if token_a is not None and module not in TOKEN_A_MODULES:
        raise NotAuthenticated(f"token A is only valid on versions and credentials, not {module}")
    if module != "versions" and (module, interface) not in platform.endpoint_table():
        raise NoSuchEndpoint(f"{module} {interface} is not listed in our version details")
    from_party, to_party = _routing(platform, request, module)
    body = _body(request)
    request[CALL] = Call(peer, token_a, module, interface, from_party, to_party, correlation_id, body)
    response: web.StreamResponse = await handler(request)
    return response


def _failure(platform: OcpiPlatform, request: web.Request, exc: HubError) -> web.Response:
    if isinstance(exc, (*_VIOLATIONS, NoSuchEndpoint)):
        platform.violations.append(f"{request.method} {request.path}: {exc}")
    return web.json_response(
        envelope(status_code=exc.ocpi_status, message=str(exc)), status=exc.ocpi_http_status
    )


async def _record(platform: OcpiPlatform, request: web.Request) -> Received:
    raw = await request.text() if request.body_exists else ""
    record = Received(
        method=request.method,
        path=request.path,
        query=dict(request.query),
        headers=CIMultiDict(request.headers),
        body=_parse_json(raw),
        at=now_utc(),
        raw=raw,
    )
    platform.received.append(record)
    request[_RAW_BODY] = raw
    return record


def _parse_json(raw: str) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return raw


def _body(request: web.Request) -> Any:
    """The parsed JSON body; 400 when a body is not JSON or not declared as JSON (§2.2, §2.3)."""
    raw = request[_RAW_BODY]
    if request.method not in _BODY_METHODS or not raw:
        return None
    if request.content_type != "application/json":
        raise MalformedBody(f"Content-Type must be application/json, got {request.content_type}")
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise MalformedBody() from exc


def _message_ids(platform: OcpiPlatform, request: web.Request) -> tuple[str, str]:
    """X-Request-ID and X-Correlation-ID to echo (§2.6); a missing one is a violation, then generated."""
    ids = []
    for name in ("X-Request-ID", "X-Correlation-ID"):
        value = request.headers.get(name)
        if not value:
            platform.violations.append(f"{request.method} {request.path}: {name} missing")
            value = str(uuid.uuid4())
        ids.append(value)
    return ids[0], ids[1]


def _routing(platform: OcpiPlatform, request: web.Request, module: str) -> tuple[Party | None, Party | None]:
    """FROM and TO of a functional request; none at all on configuration modules (§2.7)."""
    present = [name for name in request.headers if name.lower().startswith("ocpi-")]
    if module in CONFIG_MODULES:
        if present:
            raise InvalidParameters(f"routing headers SHALL NOT be used on {module}: {sorted(present)}")
        return None, None
    from_party, to_party = _party(request, "from"), _party(request, "to")
    if from_party is None or to_party is None:
        raise InvalidParameters("OCPI-from-* and OCPI-to-* are required on functional modules")
    if not platform.is_ours(to_party):
        raise InvalidParameters(f"OCPI-to {'-'.join(to_party)} is not a party on this platform")
    return from_party, to_party


def _party(request: web.Request, direction: str) -> Party | None:
    country = request.headers.get(f"OCPI-{direction}-country-code")
    party = request.headers.get(f"OCPI-{direction}-party-id")
    if country is None or party is None:
        return None
    if not (len(country) == 2 and country.isascii() and country.isalpha()):
        raise InvalidParameters(f"OCPI-{direction}-country-code {country!r} is not a country code")
    if not (len(party) == 3 and party.isascii() and party.isalnum()):
        raise InvalidParameters(f"OCPI-{direction}-party-id {party!r} is not a party id")
    return country, party


def _answer_routing(
    platform: OcpiPlatform, request: web.Request, response: web.StreamResponse, module: str, interface: str
) -> None:
    # The response swaps the request's parties (§2.7 header tables): FROM = us, TO = the requester.
    to_party = _safe_party(request, "from")
    from_party = _safe_party(request, "to") or platform.party_for(module, interface)
    response.headers["OCPI-from-country-code"], response.headers["OCPI-from-party-id"] = from_party
    if to_party is not None:
        response.headers["OCPI-to-country-code"], response.headers["OCPI-to-party-id"] = to_party


def _safe_party(request: web.Request, direction: str) -> Party | None:
    try:
        return _party(request, direction)
    except InvalidParameters:
        return None
