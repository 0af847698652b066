"""HubClientInfo (ocpi-hub-notes §5): tell every connected platform which parties it can reach, and how.

Pushes are outbox work queued in the same transaction as the status change (see
:func:`hub.parties.set_status`), so a change made by the CLI is announced by the running hub. Like every
OCPI push, a failed ClientInfo PUT is not retried (§2.8): the platform resynchronises with GET.
"""

from __future__ import annotations

import asyncio
from typing import Any

import structlog
from sqlalchemy import select
from sqlmodel import col

from hub.errors import HubError
from hub.ocpi.context import OcpiContext
from hub.ocpi.endpoints import find_endpoint
from hub.ocpi.envelope import ocpi_timestamp
from hub.store.models import OcpiConnection, OutboxItem, Party, PartyRole
from schemas.canonical.party import ConnectionStatus, Protocol

log = structlog.get_logger("hub.ocpi.hubclientinfo")


def client_info(party: Party, role: PartyRole) -> dict[str, Any]:
    return {
        "party_id": role.party_id,
        "country_code": role.country_code,
        "role": role.role,
        "status": party.status,
        "last_updated": ocpi_timestamp(party.updated_at),
    }


async def all_client_infos(
    ctx: OcpiContext, *, exclude_party: int | None = None
) -> list[tuple[Party, dict[str, Any]]]:
    """Every admitted party's ClientInfo, oldest party first (a stable order for pagination)."""
    async with ctx.db.session() as session:
        rows = await session.execute(
            select(Party, PartyRole)
            .join(PartyRole, col(PartyRole.party_fk) == col(Party.id))
            .order_by(col(Party.id), col(PartyRole.id))
        )
        return [(party, client_info(party, role)) for party, role in rows.all() if party.id != exclude_party]


async def _receivers(ctx: OcpiContext) -> list[tuple[Party, OcpiConnection, str]]:
    async with ctx.db.session() as session:
        rows = await session.execute(
            select(Party, OcpiConnection)
            .join(OcpiConnection, col(OcpiConnection.party_fk) == col(Party.id))
            .where(
                col(Party.protocol) == Protocol.OCPI.value,
                col(Party.status) == ConnectionStatus.CONNECTED.value,
            )
        )
        found = []
        for party, connection in rows.all():
            url = find_endpoint(connection.endpoints, "hubclientinfo", "RECEIVER")
            if url is not None:
                found.append((party, connection, url))
        return found


async def _put(ctx: OcpiContext, connection: OcpiConnection, url: str, info: dict[str, Any]) -> bool:
    target = f"{url.rstrip('/')}/{info['country_code']}/{info['party_id']}"
    try:
        reply = await ctx.client.request(
            "PUT",
            target,
            token=ctx.vault.decrypt(connection.token_b),
            encode=connection.encode_token,
            json_body=info,
        )
    except HubError as exc:
        log.info("hubclientinfo.push_failed", to=connection.party_fk, url=target, error=str(exc))
        return False
    ok = reply.status < 300 and reply.status_code == 1000
    if not ok:
        log.info(
            "hubclientinfo.push_refused", to=connection.party_fk, http=reply.status, ocpi=reply.status_code
        )
    return ok


async def push(ctx: OcpiContext, item: OutboxItem) -> None:
    """Outbox handler: announce one party's status to every other connected receiver.

    A platform that has just connected also gets every other party's current status, so it does not need
    to GET the list to start.
    """
    party_fk = int(item.payload["party_fk"])
    infos = await all_client_infos(ctx)
    own = [info for party, info in infos if party.id == party_fk]
    others = [info for party, info in infos if party.id != party_fk]
    sends = []
    for receiver, connection, url in await _receivers(ctx):
        if receiver.id == party_fk:
            sends += [_put(ctx, connection, url, info) for info in others]
        else:
            sends += [_put(ctx, connection, url, info) for info in own]
    results = await asyncio.gather(*sends)
    log.info("hubclientinfo.pushed", party=party_fk, sent=len(results), accepted=sum(results))
