"""Handlers of the functional modules a simulated platform serves (ocpi-hub-notes §6).

The middleware in :mod:`hub.simulators.ocpi_server` has already authenticated the caller and checked the
routing headers; a handler here reads as: parse, validate, store or look up, answer.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from aiohttp import web
from pydantic import BaseModel, ValidationError
from yarl import URL

from hub.errors import InvalidParameters, NotFound, StorageUnavailable, UnknownToken
from hub.simulators.ocpi_store import (
    apply_patch,
    find_child,
    page_headers,
    parse_page_query,
    put_child,
    select_page,
)
from hub.simulators.ocpi_wire import (
    CALL,
    RECEIVER,
    SENDER,
    VERSION,
    Call,
    Route,
    invalid_parameters,
    object_key,
    ok,
    party_key,
    validated,
)
from schemas.ocpi.v2_2_1 import (
    CDR,
    EVSE,
    CancelReservation,
    ChargingPreferences,
    CommandResult,
    CommandType,
    Connector,
    Location,
    LocationReferences,
    ReserveNow,
    Session,
    SetChargingProfile,
    StartSession,
    StopSession,
    Tariff,
    Token,
    UnlockConnector,
    validate_patch,
)

if TYPE_CHECKING:
    from hub.simulators.ocpi import OcpiPlatform

_OWNED_MODELS: dict[str, type[BaseModel]] = {
    "locations": Location,
    "tariffs": Tariff,
    "tokens": Token,
    "sessions": Session,
}
_Command = StartSession | StopSession | ReserveNow | CancelReservation | UnlockConnector
_COMMAND_MODELS: dict[str, type[_Command]] = {
    CommandType.START_SESSION: StartSession,
    CommandType.STOP_SESSION: StopSession,
    CommandType.RESERVE_NOW: ReserveNow,
    CommandType.CANCEL_RESERVATION: CancelReservation,
    CommandType.UNLOCK_CONNECTOR: UnlockConnector,
}
# A PATCH of a Session appends its charging periods instead of replacing them (§6.2).
_APPENDED = {"sessions": frozenset({"charging_periods"})}


class UnknownResultId(InvalidParameters):
    """A result POSTed to a response_url we never handed out (hub checklist item 49: 404 + 2001)."""

    ocpi_http_status = 404
    title = "Unknown response_url id"


class ModuleHandlers:
    def __init__(self, platform: OcpiPlatform) -> None:
        self.platform = platform

    def routes(self) -> list[Route]:
        base = f"/ocpi/{VERSION}"
        sender, receiver = f"{base}/sender", f"{base}/receiver"
        owned = "{cc}/{pid}/{object_id}"
        table = [
            Route("GET", f"{sender}/{module}", module, SENDER, self.sender_list)
            for module in self.platform.own
        ]
        for module, methods in (
            ("tariffs", "GET PUT DELETE"),
            ("tokens", "GET PUT PATCH"),
            ("sessions", "GET PUT PATCH"),
        ):
            path = f"{receiver}/{module}/{owned}"
            table += [Route(method, path, module, RECEIVER, self.owned_object) for method in methods.split()]
        for suffix in ("", "/{evse_uid}", "/{evse_uid}/{connector_id}"):
            table.append(
                Route(
                    "GET",
                    f"{sender}/locations/{{location_id}}{suffix}",
                    "locations",
                    SENDER,
                    self.own_location,
                )
            )
            path = f"{receiver}/locations/{owned}{suffix}"
            table += [
                Route(m, path, "locations", RECEIVER, self.location_object) for m in ("GET", "PUT", "PATCH")
            ]
        return [
            *table,
            Route(
                "PUT",
                f"{sender}/sessions/{{session_id}}/charging_preferences",
                "sessions",
                SENDER,
                self.preferences,
            ),
            Route("POST", f"{receiver}/cdrs", "cdrs", RECEIVER, self.post_cdr),
            Route("GET", f"{receiver}/cdrs/{owned}", "cdrs", RECEIVER, self.get_cdr),
            Route("POST", f"{sender}/tokens/{{uid}}/authorize", "tokens", SENDER, self.authorize),
            Route("POST", f"{receiver}/commands/{{command}}", "commands", RECEIVER, self.command),
            Route("POST", f"{base}/commands-results/{{result_id}}", "commands", SENDER, self.command_result),
            *(
                Route(
                    m,
                    f"{receiver}/chargingprofiles/{{session_id}}",
                    "chargingprofiles",
                    RECEIVER,
                    self.profile,
                )
                for m in ("GET", "PUT", "DELETE")
            ),
        ]

    # --- Sender interfaces: our own objects ---------------------------------------------------------

    async def sender_list(self, request: web.Request) -> web.Response:
        module = request[CALL].module
        limit = self.platform.page_limit
        page = parse_page_query(request.query, limit, date_from_required=module == "sessions")
        objects, total = select_page(self.platform.own[module], page)
        url = URL(self.platform.endpoint_url(module, SENDER))
        headers = page_headers(url, page, returned=len(objects), total=total, max_limit=limit)
        return ok(objects, headers=headers)

    async def own_location(self, request: web.Request) -> web.Response:
        info = request.match_info
        location = next(
            (
                loc
                for loc in self.platform.own["locations"]
                if str(loc["id"]).upper() == info["location_id"].upper()
            ),
            None,
        )
        chain = _descend(location, info.get("evse_uid"), info.get("connector_id"))
        return ok(chain[-1])

    async def preferences(self, request: web.Request) -> web.Response:
        validated(ChargingPreferences, request[CALL].body)
        return ok("ACCEPTED")

    async def authorize(self, request: web.Request) -> web.Response:
        call: Call = request[CALL]
        uid, token_type = request.match_info["uid"], request.query.get("type", "RFID")
        if call.body is not None:
            validated(LocationReferences, call.body)
        token = next(
            (
                t
                for t in self.platform.tokens
                if str(t["uid"]).upper() == uid.upper() and t.get("type") == token_type
            ),
            None,
        )
        if token is None:
            raise UnknownToken(f"unknown token {uid} ({token_type})")  # HTTP 404 + 2004 (#417)
        await asyncio.sleep(self.platform.authorize_delay)
        info: dict[str, Any] = {"allowed": self.platform.authorize_result, "token": token}
        if call.body is not None:
            info["location"] = call.body
        info["authorization_reference"] = f"AUTH-{uid}"[:36]
        return ok(info)

    # --- Receiver interfaces: client owned objects (§2.2) -------------------------------------------

    async def owned_object(self, request: web.Request) -> web.Response:
        call: Call = request[CALL]
        info = request.match_info
        key = object_key(info["cc"], info["pid"], info["object_id"])
        table = self.platform.store.module(call.module)
        if request.method == "PUT":
            self._check_put(call, info["cc"], info["pid"], info["object_id"], request.query.get("type"))
            created = key not in table
            table[key] = call.body
            return ok(status=201 if created else 200)
        stored = table.get(key)
        if stored is None or not _type_matches(stored, request.query.get("type")):
            raise NotFound(f"no {call.module} object {'/'.join(key)}")
        if request.method == "GET":
            return ok(stored)
        if request.method == "DELETE":
            del table[key]
            return ok()
        self._check_patch(_OWNED_MODELS[call.module], call.body, _id_field(call.module), info["object_id"])
        apply_patch(stored, call.body, append=_APPENDED.get(call.module, frozenset()))
        return ok()

    async def location_object(self, request: web.Request) -> web.Response:
        call: Call = request[CALL]
        info = request.match_info
        evse_uid, connector_id = info.get("evse_uid"), info.get("connector_id")
        key = object_key(info["cc"], info["pid"], info["object_id"])
        if request.method == "PUT" and evse_uid is None:
            return await self.owned_object(request)
        chain = _descend(
            self.platform.store.locations.get(key), evse_uid, connector_id, put=request.method == "PUT"
        )
        if request.method == "GET":
            return ok(chain[-1])
        if request.method == "PUT":
            self._put_child(chain, call.body, evse_uid, connector_id)
        else:
            model, child_id = (
                (Connector, connector_id)
                if connector_id
                else (EVSE, evse_uid)
                if evse_uid
                else (Location, None)
            )
            self._check_patch(
                model, call.body, "id" if model is not EVSE else "uid", child_id or info["object_id"]
            )
            apply_patch(chain[-1], call.body, append=frozenset())
            for parent in chain[:-1]:
                parent["last_updated"] = call.body["last_updated"]  # parents follow the child (§6.1)
        return ok()

    def _put_child(
        self, chain: list[dict[str, Any]], body: Any, evse_uid: str | None, connector_id: str | None
    ) -> None:
        if connector_id is None:
            evse = validated(EVSE, body)
            _same_id(evse.uid, evse_uid, "uid")
            put_child(chain[0], "evses", "uid", body)
            return
        connector = validated(Connector, body)
        _same_id(connector.id, connector_id, "id")
        put_child(chain[1], "connectors", "id", body)
        chain[0]["last_updated"] = body["last_updated"]

    def _check_put(self, call: Call, cc: str, pid: str, object_id: str, token_type: str | None) -> None:
        id_field = _id_field(call.module)
        model = validated(_OWNED_MODELS[call.module], call.body)
        _same_id(str(getattr(model, id_field)), object_id, id_field)
        # The URL's cc/pid name the owner; a body owned by someone else is a client error (checklist 42).
        if party_key((cc, pid)) != party_key((call.body["country_code"], call.body["party_id"])):
            raise InvalidParameters("country_code/party_id differ between URL and body", field="country_code")
        if token_type is not None and call.body.get("type") != token_type:
            raise InvalidParameters("type differs between URL and body", field="type")

    @staticmethod
    def _check_patch(model: type[BaseModel], body: Any, id_field: str, url_id: str) -> None:
        if not isinstance(body, dict):
            raise InvalidParameters("a PATCH body must be an object")
        try:
            validate_patch(model, body)
        except ValidationError as exc:
            raise invalid_parameters(exc) from exc
        if id_field in body:
            _same_id(str(body[id_field]), url_id, id_field)

    # --- CDRs: POST, then GET through the Location we answered (§6.3) -------------------------------

    async def post_cdr(self, request: web.Request) -> web.Response:
        body = request[CALL].body
        cdr = validated(CDR, body)
        if self.platform.refuse_cdrs is not None:
            raise InvalidParameters(self.platform.refuse_cdrs)
        if cdr.id in self.platform.flaky_cdrs:
            self.platform.flaky_cdrs.discard(cdr.id)
            raise StorageUnavailable(f"CDR {cdr.id} not stored this time: a passing fault; send it again")
        key = object_key(cdr.country_code, cdr.party_id, cdr.id)
        self.platform.store.cdr_posts[key] += 1
        self.platform.store.cdrs[key] = body
        self.platform.store.cdr_arrivals.append(key)
        path = "/".join(quote(part, safe="") for part in (cdr.country_code, cdr.party_id, cdr.id))
        location = f"{self.platform.endpoint_url('cdrs', RECEIVER)}/{path}"
        return ok(status=201, headers={"Location": location})

    async def get_cdr(self, request: web.Request) -> web.Response:
        info = request.match_info
        cdr = self.platform.store.cdrs.get(object_key(info["cc"], info["pid"], info["object_id"]))
        if cdr is None:
            raise NotFound("no such CDR")
        return ok(cdr)

    # --- Commands and charging profiles: answer now, POST the result later (§6.6, §6.7) ------------

    async def command(self, request: web.Request) -> web.Response:
        call: Call = request[CALL]
        model = _COMMAND_MODELS.get(request.match_info["command"])
        if model is None:
            raise InvalidParameters(f"unknown command {request.match_info['command']}", field="command")
        response_url = validated(model, call.body).response_url
        if self.platform.command_response == "ACCEPTED":
            self._result_later(call, response_url, {"result": self.platform.command_result})
        return ok({"result": self.platform.command_response, "timeout": self.platform.command_timeout})

    async def profile(self, request: web.Request) -> web.Response:
        call: Call = request[CALL]
        if request.method == "PUT":
            response_url = validated(SetChargingProfile, call.body).response_url
        elif "response_url" in request.query:
            response_url = request.query["response_url"]
        else:
            raise InvalidParameters("response_url is required", field="response_url")
        self._result_later(call, response_url, {"result": "ACCEPTED"})
        return ok({"result": "ACCEPTED", "timeout": self.platform.command_timeout})

    def _result_later(self, call: Call, response_url: str, result: dict[str, Any]) -> None:
        assert call.peer is not None and call.from_party is not None  # the middleware guarantees both
        # The result travels back: FROM = the party the command was addressed to, TO = its sender.
        routing = self.platform.routing_headers(call.to_party or call.from_party, call.from_party)
        job = self.platform.post_async_result(
            call.peer, response_url, result, routing=routing, correlation_id=call.correlation_id
        )
        self.platform.spawn(job)

    async def command_result(self, request: web.Request) -> web.Response:
        call: Call = request[CALL]
        result_id = request.match_info["result_id"]
        if not self.platform.knows_result_id(result_id):
            raise UnknownResultId(f"no command was sent with result id {result_id}")
        validated(CommandResult, call.body)
        expected = self.platform.command_targets.get(result_id)
        if (
            expected is not None
            and call.from_party is not None
            and party_key(expected) != party_key(call.from_party)
        ):
            self.platform.violations.append(
                f"POST {request.path}: result comes from {call.from_party}, the command went to {expected}"
            )
        self.platform.receive_command_result(result_id, call.body)
        return ok()


def _id_field(module: str) -> str:
    return "uid" if module == "tokens" else "id"


def _type_matches(stored: dict[str, Any], token_type: str | None) -> bool:
    return token_type is None or stored.get("type", token_type) == token_type


def _same_id(body_id: str, url_id: str | None, name: str) -> None:
    if url_id is not None and body_id.upper() != url_id.upper():
        raise InvalidParameters(f"{name} in the body ({body_id}) differs from the URL ({url_id})", field=name)


def _descend(
    location: dict[str, Any] | None, evse_uid: str | None, connector_id: str | None, *, put: bool = False
) -> list[dict[str, Any]]:
    """[location, evse, connector] down to the level the URL names; the last level may be absent on PUT."""
    if location is None:
        raise NotFound("unknown location")
    chain = [location]
    for list_field, id_field, child_id in (("evses", "uid", evse_uid), ("connectors", "id", connector_id)):
        if child_id is None:
            break
        child = find_child(chain[-1], list_field, id_field, child_id)
        last_level = list_field == "connectors" or connector_id is None
        if child is None:
            if put and last_level:
                break
            raise NotFound(f"unknown {list_field[:-1]} {child_id}")
        chain.append(child)
    return chain
