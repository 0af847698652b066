"""OCPI configuration modules on the hub: versions, version details, credentials, hubclientinfo (Sender)."""

from __future__ import annotations

from aiohttp import web

from hub.keys import OCPI, PRESENCE
from hub.ocpi import registration
from hub.ocpi.auth import TOKEN_C, Caller, authenticate, registered_caller, versions_caller
from hub.ocpi.context import VERSION
from hub.ocpi.endpoints import hub_endpoints
from hub.ocpi.hubclientinfo import all_client_infos
from hub.ocpi.pagination import page_headers, page_request, paginate
from hub.ocpi.responses import ocpi_response
from hub.validation import read_json


async def _seen(request: web.Request, caller: Caller) -> None:
    if caller.kind == TOKEN_C and caller.active:
        await request.app[PRESENCE].seen(caller.party_fk, caller.status)


async def versions(request: web.Request) -> web.Response:
    caller = await versions_caller(request)
    await _seen(request, caller)
    return ocpi_response([{"version": VERSION, "url": request.app[OCPI].details_url}])


async def version_details(request: web.Request) -> web.Response:
    caller = await versions_caller(request)
    await _seen(request, caller)
    return ocpi_response({"version": VERSION, "endpoints": hub_endpoints(request.app[OCPI])})


async def credentials_get(request: web.Request) -> web.Response:
    caller = await authenticate(request)
    return ocpi_response(await registration.show(request.app[OCPI], caller))


async def credentials_post(request: web.Request) -> web.Response:
    caller = await authenticate(request)
    body = await read_json(request)
    return ocpi_response(await registration.register(request.app[OCPI], caller, body))


async def credentials_put(request: web.Request) -> web.Response:
    caller = await authenticate(request)
    body = await read_json(request)
    return ocpi_response(await registration.update_credentials(request.app[OCPI], caller, body))


async def credentials_delete(request: web.Request) -> web.Response:
    caller = await authenticate(request)
    await registration.unregister(request.app[OCPI], caller)
    return ocpi_response()


async def hubclientinfo_list(request: web.Request) -> web.Response:
    """GET on the hub's HubClientInfo Sender: every other party's ClientInfo, paginated and date-filtered."""
    caller = await registered_caller(request)
    await _seen(request, caller)
    ctx = request.app[OCPI]
    page = page_request(request, ctx.settings.ocpi.page_limit)
    infos = [
        info
        for party, info in await all_client_infos(ctx, exclude_party=caller.party_fk)
        if page.admits(party.updated_at)
    ]
    headers = page_headers(ctx.url(request.path), request, page, len(infos))
    return ocpi_response(paginate(infos, page), headers=headers)
