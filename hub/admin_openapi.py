"""The admin API described in OpenAPI 3.1, built from the pydantic models its handlers read and answer.

Served at ``GET /admin/api/openapi.json``, behind the operator token like everything under ``/admin``.
:data:`ENDPOINTS` has one row per admin route of :func:`hub.routes.routes` (a test holds the two equal);
request and answer bodies come from the handlers' own models, so the description follows the code.
Errors are RFC 9457 problem objects (``application/problem+json``), as :func:`hub.middleware.render_error`
writes them. OpenAPI 3.1 because its schemas are JSON Schema 2020-12, which is what pydantic generates.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from hub import agreements, parties
from hub.admin_api import ConnectRequest
from hub.cdr_admin import STATES, CdrView
from hub.config import Settings
from hub.keys import SETTINGS
from hub.ledger.balances import Balances, Netting
from hub.ledger.periods import DEFAULT_PERIOD, PeriodKind, period_kind
from hub.ledger.reconcile import Reconciliation
from hub.ledger.statements import FORMATS, ClosedPeriod, Statement
from hub.traffic import DIRECTIONS, MAX_LIMIT, TrafficView

OPENAPI_PATH = "/admin/api/openapi.json"
_COMPONENTS = "#/components/schemas/{model}"
# Row ids are INTEGER columns, 32 bits on PostgreSQL: no row has a larger id.
_MAX_ID = 2**31 - 1
_PROBLEM = "application/problem+json"


class Connected(BaseModel):
    """What ``POST /admin/api/parties/{id}/connect`` answers (hub.ocpi.registration.connect)."""

    party_id: int
    versions_url: str
    endpoints: int


# --- parameters and bodies -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Param:
    name: str
    where: Literal["path", "query"]
    schema: dict[str, Any]
    description: str

    def spec(self, kind: PeriodKind) -> dict[str, Any]:
        schema = self.schema
        if self is _PERIOD:  # its names depend on the configured kind of period
            schema = {**schema, "pattern": PERIOD_PATTERNS[kind]}
        return {
            "name": self.name,
            "in": self.where,
            "required": self.where == "path",
            "description": self.description,
            "schema": schema,
        }


_ID = {"type": "integer", "minimum": 0, "maximum": _MAX_ID}


def _path_id(what: str) -> Param:
    return Param("id", "path", _ID, f"the {what}'s id")


def _limit(default: int) -> Param:
    schema = {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": default}
    return Param("limit", "query", schema, "how many, newest first")


_INSTANT = {"type": "string", "format": "date-time"}
# Settlement period names of each kind ([ledger] period; hub.ledger.periods), e.g. 2026-11, 2026-W47.
PERIOD_PATTERNS: dict[PeriodKind, str] = {
    "monthly": r"^\d{4}-(0[1-9]|1[0-2])$",
    "weekly": r"^\d{4}-W(0[1-9]|[1-4]\d|5[0-3])$",
    "daily": r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$",
}
_PERIOD = Param("period", "path", {"type": "string"}, "a settlement period of the configured kind")
_PARTY = Param("party", "path", {"type": "string", "pattern": "^[A-Za-z]{2}-[A-Za-z0-9]{3}$"}, "CC-PID")

# The partner's file for reconciliation (hub.ledger.reconcile): JSON items or CSV with a header line.
_PARTNER_ITEM = {
    "type": "object",
    "required": ["id", "amount", "currency"],
    "properties": {
        "id": {"type": "string", "minLength": 1},
        "amount": {
            "description": "total cost of the CDR (negative for a credit), at most 4 decimals",
            "anyOf": [{"type": "number"}, {"type": "string", "pattern": r"^-?\d+(\.\d{1,4})?$"}],
        },
        "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
    },
}
_CSV_FILE = {"type": "string", "description": "CSV whose header names id, amount and currency"}


@dataclass(frozen=True)
class Endpoint:
    """One admin route: what it reads, what it answers on success, and which problems it may answer."""

    method: str
    path: str
    operation_id: str
    summary: str
    status: int
    answer: type[BaseModel] | None  # None: a free-form JSON object
    many: bool = False
    params: tuple[Param, ...] = ()
    body: type[BaseModel] | None = None
    problems: tuple[int, ...] = ()
    other_media: tuple[str, ...] = ()  # the same answer also as these text formats (statements)
    example: Any = None  # of the JSON request body


_ID_PROBLEMS = (400, 404)
_BODY_PROBLEMS = (400, 413)

ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(
        "GET", "/admin/api/parties", "listParties", "Every admitted party", 200, parties.PartyView, True
    ),
    Endpoint(
        "POST",
        "/admin/api/parties",
        "addParty",
        "Admit a party (an OCPI party's token A is shown only here)",
        201,
        parties.PartyView,
        body=parties.PartyCreate,
        problems=(*_BODY_PROBLEMS, 409),
        example={
            "name": "Example CPO",
            "country_code": "NL",
            "party_id": "EXA",
            "roles": ["CPO"],
            "protocol": "ocpi",
        },
    ),
    Endpoint(
        "GET",
        "/admin/api/parties/{id}",
        "showParty",
        "One party",
        200,
        parties.PartyView,
        params=(_path_id("party"),),
        problems=_ID_PROBLEMS,
    ),
    Endpoint(
        "POST",
        "/admin/api/parties/{id}/suspend",
        "suspendParty",
        "Stop a party's traffic and revoke its tokens",
        200,
        parties.PartyView,
        params=(_path_id("party"),),
        problems=_ID_PROBLEMS,
    ),
    Endpoint(
        "POST",
        "/admin/api/parties/{id}/token",
        "newRegistrationToken",
        "A fresh token A for an OCPI party",
        201,
        parties.PartyView,
        params=(_path_id("party"),),
        problems=_ID_PROBLEMS,
    ),
    Endpoint(
        "POST",
        "/admin/api/parties/{id}/connect",
        "connectParty",
        "Register the hub with a partner platform that gave the operator a token A",
        200,
        Connected,
        params=(_path_id("party"),),
        body=ConnectRequest,
        example={
            "versions_url": "https://partner.example/ocpi/versions",
            "token_a": "token-a-from-the-partner",
        },
        problems=(*_ID_PROBLEMS, 409, 413, 502, 504),  # 502/504: the partner's platform failed
    ),
    Endpoint(
        "GET",
        "/admin/api/agreements",
        "listAgreements",
        "Every roaming agreement",
        200,
        agreements.AgreementView,
        True,
    ),
    Endpoint(
        "POST",
        "/admin/api/agreements",
        "addAgreement",
        "Let a CPO and an eMSP roam (policy explicit)",
        201,
        agreements.AgreementView,
        body=agreements.AgreementCreate,
        problems=(*_BODY_PROBLEMS, 409),
        example={"cpo": "NL-EXA", "emsp": "DE-EXB"},
    ),
    Endpoint(
        "DELETE",
        "/admin/api/agreements/{id}",
        "removeAgreement",
        "End a roaming agreement",
        200,
        agreements.AgreementView,
        params=(_path_id("agreement"),),
        problems=_ID_PROBLEMS,
    ),
    Endpoint(
        "GET", "/admin/api/config", "showConfig", "The effective configuration, secrets masked", 200, Settings
    ),
    Endpoint(
        "GET",
        "/admin/api/traffic",
        "listTraffic",
        "Recent OCPI and OICP messages in and out, newest first",
        200,
        TrafficView,
        True,
        params=(
            _limit(50),
            Param("party", "query", _ID, "only this party's traffic (its id)"),
            Param("module", "query", {"type": "string"}, "e.g. locations, cdrs, charging"),
            Param("direction", "query", {"type": "string", "enum": list(DIRECTIONS)}, "in or out"),
            Param("since", "query", _INSTANT, "only traffic since this moment (with a time zone)"),
        ),
        problems=(400,),
    ),
    Endpoint(
        "GET",
        "/admin/api/cdrs",
        "listCdrs",
        "Recent CDRs and where each is in its delivery",
        200,
        CdrView,
        True,
        params=(
            Param("delivery", "query", {"type": "string", "enum": list(STATES)}, "only CDRs in this state"),
            _limit(50),
        ),
        problems=(400,),
    ),
    Endpoint(
        "POST",
        "/admin/api/cdrs/{id}/retry",
        "retryCdr",
        "Send an undelivered CDR again (a held one is priced again first)",
        200,
        CdrView,
        params=(_path_id("CDR"),),
        problems=(*_ID_PROBLEMS, 409),
    ),
    Endpoint(
        "GET",
        "/admin/api/ledger/balances",
        "getBalances",
        "Clearing positions and bilateral nets",
        200,
        Balances,
        params=(Param("as_of", "query", _INSTANT, "as booked at this moment (UTC when no zone)"),),
        problems=(400,),
    ),
    Endpoint(
        "GET",
        "/admin/api/ledger/netting",
        "getNetting",
        "The matrix of bilateral nets, one per currency",
        200,
        Netting,
        True,
        params=(
            Param("currency", "query", {"type": "string"}, "only this currency (ISO 4217); empty: all"),
            Param("as_of", "query", _INSTANT, "as booked at this moment (UTC when no zone)"),
        ),
        problems=(400,),
    ),
    Endpoint(
        "POST",
        "/admin/api/settlement/{period}/close",
        "closePeriod",
        "Close a settlement period for good and write its statements",
        200,
        ClosedPeriod,
        params=(_PERIOD,),
        problems=(400, 409),
    ),
    Endpoint(
        "GET",
        "/admin/api/settlement/{period}/statements/{party}",
        "getStatement",
        "A party's statement for a period (provisional while the period is open)",
        200,
        Statement,
        params=(
            _PERIOD,
            _PARTY,
            Param(
                "format",
                "query",
                {"type": "string", "enum": list(FORMATS), "default": "json"},
                "json/csv/html",
            ),
        ),
        problems=(400, 404),
        other_media=("text/csv", "text/html"),
    ),
    Endpoint(
        "POST",
        "/admin/api/reconcile/{party}/{period}",
        "reconcile",
        "Compare a partner's list of CDRs for a period with what the hub booked",
        200,
        Reconciliation,
        params=(
            _PARTY,
            _PERIOD,
            Param(
                "basis",
                "query",
                {"type": "string", "enum": ["excl_vat", "incl_vat"]},
                "amounts without or with VAT",
            ),
        ),
        problems=_BODY_PROBLEMS,
        example=[{"id": "CDR0001", "amount": "12.50", "currency": "EUR"}],
    ),
    Endpoint("GET", OPENAPI_PATH, "getOpenApi", "This description of the admin API", 200, None),
)

# --- the document --------------------------------------------------------------------------------------

_PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details; field names the offending parameter or body field",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "field": {"type": "string"},
    },
}

_PROBLEM_TEXT = {
    400: "Invalid parameters or body",
    401: "No or a wrong operator token",
    404: "Not found",
    409: "Conflicts with the current state",
    413: "Request body too large",
    502: "The partner's platform could not be used",
    504: "The partner's platform did not answer in time",
}


def _problem_response(status: int) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": _PROBLEM_TEXT[status],
        "content": {_PROBLEM: {"schema": {"$ref": _COMPONENTS.format(model="Problem")}}},
    }
    if status == 401:
        response["headers"] = {"WWW-Authenticate": {"required": True, "schema": {"type": "string"}}}
    return response


# A model and its mode -> the reference to its schema among the components.
Refs = Mapping[tuple[Any, JsonSchemaMode], dict[str, Any]]


def _model_schemas() -> tuple[Refs, dict[str, Any]]:
    wanted: list[tuple[type[BaseModel], JsonSchemaMode]] = []
    for endpoint in ENDPOINTS:
        if endpoint.body is not None:
            wanted.append((endpoint.body, "validation"))
        if endpoint.answer is not None:
            wanted.append((endpoint.answer, "serialization"))
    refs, definitions = models_json_schema(list(dict.fromkeys(wanted)), ref_template=_COMPONENTS)
    return refs, _readable(definitions.get("$defs", {}))


def _readable(schema: Any) -> Any:
    """Without pydantic's ``writeOnly`` on secrets: the configuration answer shows them, masked."""
    if isinstance(schema, dict):
        return {key: _readable(value) for key, value in schema.items() if key != "writeOnly"}
    if isinstance(schema, list):
        return [_readable(item) for item in schema]
    return schema


def _answer(endpoint: Endpoint, ref: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object"} if ref is None else ref
    if endpoint.many:
        schema = {"type": "array", "items": schema}
    content: dict[str, Any] = {"application/json": {"schema": schema}}
    for media in endpoint.other_media:
        content[media] = {"schema": {"type": "string"}}
    return {"description": endpoint.summary, "content": content}


def _body(endpoint: Endpoint, ref: Any) -> dict[str, Any] | None:
    if endpoint.body is not None:
        content = {"application/json": {"schema": ref}}
    elif endpoint.operation_id == "reconcile":
        array = {"type": "array", "items": _PARTNER_ITEM}
        content = {"application/json": {"schema": array}, "text/csv": {"schema": _CSV_FILE}}
    else:
        return None
    if endpoint.example is not None:
        content["application/json"]["example"] = endpoint.example
    return {"required": True, "content": content}


def _operation(endpoint: Endpoint, refs: Refs, kind: PeriodKind) -> dict[str, Any]:
    answer_ref = refs[(endpoint.answer, "serialization")] if endpoint.answer is not None else None
    responses = {str(endpoint.status): _answer(endpoint, answer_ref)}
    for status in sorted({*endpoint.problems, 401}):
        responses[str(status)] = _problem_response(status)
    operation: dict[str, Any] = {
        "operationId": endpoint.operation_id,
        "summary": endpoint.summary,
        "parameters": [param.spec(kind) for param in endpoint.params],
        "responses": responses,
    }
    body = _body(endpoint, refs[(endpoint.body, "validation")] if endpoint.body is not None else None)
    if body is not None:
        operation["requestBody"] = body
    return operation


def document(kind: PeriodKind = DEFAULT_PERIOD) -> dict[str, Any]:
    """The OpenAPI 3.1 description of the admin API, for the configured kind of settlement period."""
    refs, schemas = _model_schemas()
    paths: dict[str, dict[str, Any]] = {}
    for endpoint in ENDPOINTS:
        paths.setdefault(endpoint.path, {})[endpoint.method.lower()] = _operation(endpoint, refs, kind)
    # A deep copy: the parameter and problem schemas above are module constants, never to be changed by
    # whoever edits the document it is given.
    return copy.deepcopy(
        {
            "openapi": "3.1.0",
            "info": {
                "title": "roamhub admin API",
                "version": "1",
                "description": "The operator's REST API: the same operations as the roamhub CLI.",
            },
            "paths": paths,
            "components": {
                "schemas": {**schemas, "Problem": _PROBLEM_SCHEMA},
                "securitySchemes": {
                    "operatorToken": {
                        "type": "http",
                        "scheme": "bearer",
                        "description": "the operator token of [admin] token in the configuration",
                    }
                },
            },
            "security": [{"operatorToken": []}],
        }
    )


@functools.cache
def _serialised(kind: PeriodKind) -> str:
    return json.dumps(document(kind), separators=(",", ":"))


async def openapi_json(request: web.Request) -> web.Response:
    text = _serialised(period_kind(request.app[SETTINGS]))
    return web.Response(text=text, content_type="application/json")
