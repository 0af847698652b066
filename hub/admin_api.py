"""The operator's REST API under /admin/api: the same operations as the CLI, behind the operator token."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from hub import agreements, parties
from hub.config import masked
from hub.keys import DB, OCPI, SETTINGS
from hub.ocpi import registration
from hub.validation import parse_id, parse_model, read_json


def _json(data: BaseModel | Sequence[BaseModel] | dict[str, Any], status: int = 200) -> web.Response:
    if isinstance(data, BaseModel):
        payload: Any = data.model_dump(mode="json")
    elif isinstance(data, Sequence):
        payload = [item.model_dump(mode="json") for item in data]
    else:
        payload = data
    return web.json_response(payload, status=status)


def _int_param(request: web.Request, name: str) -> int:
    return parse_id(request.match_info[name], name)


async def list_parties(request: web.Request) -> web.Response:
    return _json(await parties.list_parties(request.app[DB], request.app[SETTINGS]))


async def add_party(request: web.Request) -> web.Response:
    data = parse_model(parties.PartyCreate, await read_json(request))
    view = await parties.add_party(request.app[DB], request.app[SETTINGS], data)
    request.app[OCPI].forget()  # an OICP partner is routable at once: this worker's roster must show it
    return _json(view, status=201)


async def show_party(request: web.Request) -> web.Response:
    party_id = _int_param(request, "id")
    return _json(await parties.get_party(request.app[DB], request.app[SETTINGS], party_id))


async def suspend_party(request: web.Request) -> web.Response:
    party_id = _int_param(request, "id")
    view = await parties.suspend_party(request.app[DB], request.app[SETTINGS], party_id)
    request.app[OCPI].forget(party_id)  # this worker stops at once; others within [ocpi] cache_seconds
    return _json(view)


async def new_token(request: web.Request) -> web.Response:
    party_id = _int_param(request, "id")
    view = await parties.new_registration_token(request.app[DB], request.app[SETTINGS], party_id)
    request.app[OCPI].forget(party_id)
    return _json(view, status=201)


class ConnectRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    versions_url: Annotated[str, Field(pattern=r"^https?://")]
    token_a: Annotated[str, Field(min_length=1, max_length=64)]


async def connect_party(request: web.Request) -> web.Response:
    party_id = _int_param(request, "id")
    data = parse_model(ConnectRequest, await read_json(request))
    return _json(await registration.connect(request.app[OCPI], party_id, data.versions_url, data.token_a))


async def list_agreements(request: web.Request) -> web.Response:
    return _json(await agreements.list_agreements(request.app[DB]))


async def add_agreement(request: web.Request) -> web.Response:
    data = parse_model(agreements.AgreementCreate, await read_json(request))
    view = await agreements.add_agreement(request.app[DB], data)
    request.app[OCPI].forget()  # this worker routes under it at once; others within [ocpi] cache_seconds
    return _json(view, status=201)


async def remove_agreement(request: web.Request) -> web.Response:
    agreement_id = _int_param(request, "id")
    view = await agreements.remove_agreement(request.app[DB], agreement_id=agreement_id)
    request.app[OCPI].forget()
    return _json(view)


async def show_config(request: web.Request) -> web.Response:
    return _json(masked(request.app[SETTINGS]))
