"""The operator's view of CDRs: where each one is in its delivery, and a way to send a dead one again."""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import Any

from aiohttp import web
from pydantic import BaseModel
from sqlalchemy import select
from sqlmodel import col

from hub import outbox
from hub.cli import output
from hub.config import Settings
from hub.errors import Conflict, InvalidParameters, NotFound
from hub.keys import DB, DISPATCHER, SETTINGS
from hub.ocpi.cdrs import CDR_DELIVERY, DEAD, DELIVERED, HELD, OICP_CDR_DELIVERY, PENDING, PULL_ONLY, REJECTED
from hub.oicp.cdrs import reprice
from hub.store import migrate
from hub.store.db import Database
from hub.store.models import Cdr, Party
from hub.validation import parse_id

STATES = (PENDING, DELIVERED, REJECTED, DEAD, PULL_ONLY, HELD)


class CdrView(BaseModel):
    id: int
    cdr_id: str
    cpo: str
    emsp: str
    currency: str
    credit: bool
    credit_reference_id: str | None
    delivery: str
    received_at: datetime
    delivered_at: datetime | None


def _view(row: Cdr) -> CdrView:
    assert row.id is not None
    return CdrView(
        id=row.id,
        cdr_id=row.cdr_id,
        cpo=f"{row.country_code}-{row.party_id}",
        emsp=f"{row.emsp_country_code}-{row.emsp_party_id}",
        currency=row.currency,
        credit=row.credit,
        credit_reference_id=row.credit_reference_id,
        delivery=row.delivery,
        received_at=row.received_at,
        delivered_at=row.delivered_at,
    )


async def list_cdrs(db: Database, *, delivery: str | None = None, limit: int = 50) -> list[CdrView]:
    if delivery is not None and delivery not in STATES:
        raise InvalidParameters(f"delivery must be one of {', '.join(STATES)}", field="delivery")
    if not 1 <= limit <= 1000:
        raise InvalidParameters("limit must be between 1 and 1000", field="limit")
    query = select(Cdr).order_by(col(Cdr.id).desc()).limit(limit)
    if delivery is not None:
        query = query.where(col(Cdr.delivery) == delivery)
    async with db.session() as session:
        return [_view(row) for row in (await session.execute(query)).scalars()]


async def retry(db: Database, settings: Settings, cdr_pk: int) -> CdrView:
    """Queue a dead, rejected or pull-only CDR for delivery again (e.g. after the eMSP fixed its side).

    A held CDR (an OICP CDR no price applied to) is priced again first, with the pricing products the
    CPO has pushed since; it stays held, and is never sent as free, while none applies.
    """
    async with db.session() as session:
        found = await session.get(Cdr, cdr_pk)
    if found is not None and found.delivery == HELD:
        if not await reprice(db, settings, cdr_pk):
            raise Conflict(f"CDR {found.cdr_id} is held: still no price applies (the CPO's pricing products)")
        async with db.session() as session:
            priced = await session.get(Cdr, cdr_pk)
        assert priced is not None
        return _view(priced)
    async with db.transaction() as session:
        row = await session.get(Cdr, cdr_pk, with_for_update=True)
        if row is None:
            raise NotFound(f"no CDR with id {cdr_pk}", field="id")
        if row.delivery in (PENDING, DELIVERED):
            raise Conflict(
                f"CDR {row.cdr_id} is {row.delivery}; only undelivered CDRs are sent again", field="id"
            )
        row.delivery = PENDING
        kind = OICP_CDR_DELIVERY if await _to_oicp(session, row) else CDR_DELIVERY
        outbox.enqueue(session, kind, {"cdr": row.id}, party_fk=row.emsp_party_fk, line=outbox.cdr_line(row))
    return _view(row)


async def _to_oicp(session: Any, row: Cdr) -> bool:
    party = await session.get(Party, row.emsp_party_fk) if row.emsp_party_fk is not None else None
    return party is not None and party.protocol == "oicp" and row.oicp_body is not None


# --- admin API ----------------------------------------------------------------------------------------


async def api_list(request: web.Request) -> web.Response:
    limit = parse_id(request.query.get("limit", "50"), "limit")
    views = await list_cdrs(request.app[DB], delivery=request.query.get("delivery"), limit=limit)
    return web.json_response([v.model_dump(mode="json") for v in views])


async def api_retry(request: web.Request) -> web.Response:
    view = await retry(request.app[DB], request.app[SETTINGS], parse_id(request.match_info["id"], "id"))
    request.app[DISPATCHER].wake()
    return web.json_response(view.model_dump(mode="json"))


# --- CLI ----------------------------------------------------------------------------------------------


def add_parser(subparsers: Any) -> None:
    cdrs = subparsers.add_parser("cdrs", help="CDRs and their delivery").add_subparsers(
        dest="cdrs_command", required=True
    )
    listing = cdrs.add_parser("list", help="recent CDRs, newest first")
    listing.add_argument("--delivery", choices=STATES, help="only CDRs in this delivery state")
    listing.add_argument("--limit", type=int, default=50)
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(run=cmd_list)
    again = cdrs.add_parser("retry", help="send an undelivered CDR again (the running hub delivers it)")
    again.add_argument("id", type=int)
    again.add_argument("--json", action="store_true")
    again.set_defaults(run=cmd_retry)


async def cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    views = await migrate.with_database(
        settings.database, lambda db: list_cdrs(db, delivery=args.delivery, limit=args.limit)
    )
    if args.json:
        output.emit_json(views)
    elif not views:
        print("No CDRs.")
    else:
        rows = [
            [
                str(v.id),
                v.cdr_id,
                v.cpo,
                v.emsp,
                v.currency,
                "credit" if v.credit else "",
                v.delivery,
                f"{v.received_at:%Y-%m-%d %H:%M:%S}",
            ]
            for v in views
        ]
        print(output.table(rows, ["ID", "CDR", "CPO", "EMSP", "CUR", "", "DELIVERY", "RECEIVED"]))
    return 0


async def cmd_retry(args: argparse.Namespace, settings: Settings) -> int:
    view = await migrate.with_database(settings.database, lambda db: retry(db, settings, args.id))
    output.emit_json(view) if args.json else print(f"CDR {view.cdr_id} queued for delivery to {view.emsp}.")
    return 0
