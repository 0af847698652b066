"""Admin API handlers for the ledger (under /admin/api, behind the operator token like the rest).

Each reads its parameters, asks hub/ledger, and answers JSON; statements also as CSV or HTML
(``?format=``). Errors are HubErrors, rendered by the one middleware.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast, get_args

from aiohttp import web
from pydantic import BaseModel

from hub.errors import InvalidParameters
from hub.keys import DB, SETTINGS
from hub.ledger import balances, reconcile, render, statements
from hub.ledger.cli import parse_instant

_CONTENT_TYPES = {"json": "application/json", "csv": "text/csv", "html": "text/html"}


def _json(data: BaseModel | Sequence[BaseModel], status: int = 200) -> web.Response:
    if isinstance(data, BaseModel):
        payload: Any = data.model_dump(mode="json")
    else:
        payload = [item.model_dump(mode="json") for item in data]
    return web.json_response(payload, status=status)


async def get_balances(request: web.Request) -> web.Response:
    as_of = parse_instant(request.query.get("as_of"), "as_of")
    return _json(await balances.balances(request.app[DB], as_of))


async def get_netting(request: web.Request) -> web.Response:
    currency = request.query.get("currency")
    as_of = parse_instant(request.query.get("as_of"), "as_of")
    return _json(await balances.netting(request.app[DB], currency.upper() if currency else None, as_of))


async def close_period(request: web.Request) -> web.Response:
    period = request.match_info["period"]
    return _json(await statements.close_period(request.app[DB], request.app[SETTINGS], period))


def _format(request: web.Request) -> statements.Format:
    fmt = request.query.get("format", "json")
    if fmt not in get_args(statements.Format):
        raise InvalidParameters(f"format must be one of {', '.join(statements.FORMATS)}", field="format")
    return cast(statements.Format, fmt)


async def get_statement(request: web.Request) -> web.Response:
    fmt = _format(request)
    party, period = request.match_info["party"].upper(), request.match_info["period"]
    statement = await statements.get_statement(request.app[DB], request.app[SETTINGS], party, period)
    text = render.RENDERERS[fmt](statement)
    return web.Response(text=text, content_type=_CONTENT_TYPES[fmt], charset="utf-8")


def _basis(request: web.Request) -> reconcile.Basis:
    basis = request.query.get("basis", "excl_vat")
    if basis not in get_args(reconcile.Basis):
        raise InvalidParameters("basis must be excl_vat or incl_vat", field="basis")
    return cast(reconcile.Basis, basis)


async def post_reconcile(request: web.Request) -> web.Response:
    """The partner's file is the body, CSV or JSON (told apart by content, whatever the Content-Type)."""
    party, period = request.match_info["party"].upper(), request.match_info["period"]
    raw, basis = await request.read(), _basis(request)
    db, settings = request.app[DB], request.app[SETTINGS]
    return _json(await reconcile.reconcile(db, settings, party, period, raw, "body", basis))
