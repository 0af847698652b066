"""The credentials handshake (ocpi-hub-notes §4.2), both ways, and its updates.

Initiated by a partner (the hub is the receiver): token A in, the partner's token B stored (encrypted),
its versions and endpoints fetched with B *before* answering, a fresh token C out; token A is spent.
Initiated by the hub (``roamhub party connect``): the hub fetches the partner's endpoints with the token A
the partner gave, creates the token the partner will present, and POSTs its own credentials.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import structlog
from pydantic import ValidationError
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hub.crypto import hash_token, new_token
from hub.errors import (
    ClientApiUnusable,
    Conflict,
    Forbidden,
    ForwardTimeout,
    MethodNotAllowed,
    NoMatchingEndpoints,
    NotAuthenticated,
    NotFound,
    ReceiverNotConnected,
    UnsupportedVersion,
)
from hub.ocpi.auth import TOKEN_A, TOKEN_C, Caller
from hub.ocpi.client import OcpiReply, expect_success
from hub.ocpi.context import VERSION, OcpiContext
from hub.ocpi.endpoints import find_endpoint
from hub.parties import set_status
from hub.store.models import CredentialToken, OcpiConnection, Party, PartyRole
from hub.store.types import utcnow
from schemas.canonical.party import ConnectionStatus, Protocol
from schemas.ocpi.v2_2_1 import Credentials, Version, VersionDetails

log = structlog.get_logger("hub.ocpi.registration")

REQUIRED_MODULES = ("credentials",)


def hub_credentials(ctx: OcpiContext, token: str) -> dict[str, Any]:
    """The hub's credentials: in 2.2.1 a hub reports only its own HUB role (notes §4.2)."""
    settings = ctx.settings
    return {
        "token": token,
        "url": ctx.versions_url,
        "roles": [
            {
                "role": "HUB",
                "party_id": settings.party_id,
                "country_code": settings.country_code,
                "business_details": {"name": settings.name},
            }
        ],
    }


# --- fetching a partner's endpoints ------------------------------------------------------------------


async def _get(ctx: OcpiContext, url: str, token: str, encode: bool, what: str) -> tuple[OcpiReply, bool]:
    """GET with the token Base64-encoded; a 401 makes one more try with the raw token (d2 note)."""
    try:
        reply = await ctx.client.request("GET", url, token=token, encode=encode)
        if reply.status == 401 and encode:
            encode = False
            reply = await ctx.client.request("GET", url, token=token, encode=encode)
    except (ForwardTimeout, ReceiverNotConnected) as exc:
        raise ClientApiUnusable(f"{what} at {url}: {exc}") from exc
    return reply, encode


async def fetch_endpoints(
    ctx: OcpiContext, versions_url: str, token: str
) -> tuple[str, list[dict[str, Any]], bool]:
    """The partner's 2.2.1 details URL, endpoints, and whether it wants Base64 tokens."""
    reply, encode = await _get(ctx, versions_url, token, True, "versions")
    try:
        versions = [Version.model_validate(v) for v in expect_success(reply, "versions") or []]
    except ValidationError as exc:
        raise ClientApiUnusable(f"versions at {versions_url} are not OCPI Version objects") from exc
    chosen = next((v for v in versions if str(v.version) == VERSION), None)
    if chosen is None:
        offered = ", ".join(str(v.version) for v in versions) or "none"
        raise UnsupportedVersion(f"the platform offers versions {offered}; the hub speaks {VERSION}")
    reply, encode = await _get(ctx, chosen.url, token, encode, "version details")
    try:
        details = VersionDetails.model_validate(expect_success(reply, "version details"))
    except ValidationError as exc:
        raise ClientApiUnusable(f"version details at {chosen.url} are not valid") from exc
    endpoints = [endpoint.model_dump(mode="json") for endpoint in details.endpoints]
    missing = [
        m
        for m in REQUIRED_MODULES
        if find_endpoint(endpoints, m, "SENDER") is None and find_endpoint(endpoints, m, "RECEIVER") is None
    ]
    if missing:
        raise NoMatchingEndpoints(f"the platform's {VERSION} endpoints lack {', '.join(missing)}")
    return chosen.url, endpoints, encode


# --- roles ------------------------------------------------------------------------------------------


async def check_roles(session: AsyncSession, party_fk: int, credentials: Credentials) -> list[dict[str, Any]]:
    """A platform may register only the (country, party, role) combinations admitted for it."""
    admitted = {
        (r.country_code, r.party_id, r.role)
        for r in (
            await session.execute(select(PartyRole).where(col(PartyRole.party_fk) == party_fk))
        ).scalars()
    }
    for role in credentials.roles:
        key = (role.country_code.upper(), role.party_id.upper(), str(role.role))
        if key not in admitted:
            raise Forbidden(f"{key[0]}-{key[1]} {key[2]} is not admitted for this platform", field="roles")
    return [role.model_dump(mode="json") for role in credentials.roles]


def _credentials(body: Any) -> Credentials:
    from hub.validation import parse_model

    return parse_model(Credentials, body)


# --- initiated by the partner ------------------------------------------------------------------------


async def _connection(session: AsyncSession, party_fk: int) -> OcpiConnection | None:
    return await session.get(OcpiConnection, party_fk)


async def register(ctx: OcpiContext, caller: Caller, body: Any) -> dict[str, Any]:
    """POST credentials with token A."""
    if caller.kind != TOKEN_A:
        raise MethodNotAllowed("this platform is already registered; use PUT to update its credentials")
    if caller.revoked:
        raise NotAuthenticated("token A was already used; ask the operator for a new one")
    credentials = _credentials(body)
    async with ctx.db.session() as session:
        roles = await check_roles(session, caller.party_fk, credentials)
    _, endpoints, encode = await fetch_endpoints(ctx, credentials.url, credentials.token)
    token_c = new_token()
    async with ctx.db.transaction() as session:
        spent = await session.execute(
            update(CredentialToken)
            .where(col(CredentialToken.id) == caller.token_id, col(CredentialToken.revoked_at).is_(None))
            .values(revoked_at=utcnow())
        )
        if spent.rowcount != 1:  # type: ignore[attr-defined]
            raise NotAuthenticated("token A was already used; ask the operator for a new one")
        await session.execute(delete(OcpiConnection).where(col(OcpiConnection.party_fk) == caller.party_fk))
        session.add(_new_connection(ctx, caller.party_fk, credentials, endpoints, roles, encode))
        session.add(CredentialToken(party_fk=caller.party_fk, kind=TOKEN_C, token_hash=hash_token(token_c)))
        party = await session.get(Party, caller.party_fk)
        assert party is not None
        set_status(session, party, ConnectionStatus.CONNECTED)
    ctx.forget(caller.party_fk)
    ctx.wake()
    log.info("ocpi.registered", party=caller.party_fk, versions_url=credentials.url, endpoints=len(endpoints))
    return hub_credentials(ctx, token_c)


def _new_connection(
    ctx: OcpiContext,
    party_fk: int,
    credentials: Credentials,
    endpoints: list[dict[str, Any]],
    roles: list[dict[str, Any]],
    encode: bool,
) -> OcpiConnection:
    now = utcnow()
    return OcpiConnection(
        party_fk=party_fk,
        version=VERSION,
        versions_url=credentials.url,
        token_b=ctx.vault.encrypt(credentials.token),
        endpoints=endpoints,
        roles=roles,
        encode_token=encode,
        registered_at=now,
        last_seen_at=now,
    )


async def _registered(ctx: OcpiContext, caller: Caller) -> OcpiConnection:
    """GET, PUT and DELETE need a completed registration; otherwise 405 (spec, and issue #441)."""
    if caller.kind != TOKEN_C or caller.revoked:
        raise MethodNotAllowed("this platform is not registered")
    async with ctx.db.session() as session:
        connection = await _connection(session, caller.party_fk)
    if connection is None:
        raise MethodNotAllowed("this platform is not registered")
    return connection


async def show(ctx: OcpiContext, caller: Caller) -> dict[str, Any]:
    """GET credentials: the credentials this platform uses to reach the hub (its own token C)."""
    await _registered(ctx, caller)
    return hub_credentials(ctx, caller.token)


async def update_credentials(ctx: OcpiContext, caller: Caller, body: Any) -> dict[str, Any]:
    """PUT credentials: new token B, endpoints fetched again (even for the same version), new token C.

    The old token C keeps working for the grace period (issue #568 leaves the switch-over undefined).
    """
    await _registered(ctx, caller)
    credentials = _credentials(body)
    async with ctx.db.session() as session:
        roles = await check_roles(session, caller.party_fk, credentials)
    _, endpoints, encode = await fetch_endpoints(ctx, credentials.url, credentials.token)
    token_c = new_token()
    grace = ctx.settings.ocpi.credentials_grace_period
    async with ctx.db.transaction() as session:
        old = await session.get(CredentialToken, caller.token_id)
        assert old is not None
        if grace > 0:
            old.expires_at = min(
                old.expires_at or utcnow() + timedelta(days=1), utcnow() + timedelta(seconds=grace)
            )
        else:
            old.revoked_at = utcnow()
        connection = await _connection(session, caller.party_fk)
        if connection is None:
            raise MethodNotAllowed("this platform is not registered")
        connection.versions_url = credentials.url
        connection.token_b = ctx.vault.encrypt(credentials.token)
        connection.endpoints = endpoints
        connection.roles = roles
        connection.encode_token = encode
        connection.last_seen_at = utcnow()
        session.add(CredentialToken(party_fk=caller.party_fk, kind=TOKEN_C, token_hash=hash_token(token_c)))
    ctx.forget(caller.party_fk)
    log.info("ocpi.credentials_updated", party=caller.party_fk, grace_seconds=grace)
    return hub_credentials(ctx, token_c)


async def unregister(ctx: OcpiContext, caller: Caller) -> None:
    """DELETE credentials: the hub stops all traffic with the platform, and its parties become SUSPENDED."""
    await _registered(ctx, caller)
    async with ctx.db.transaction() as session:
        await session.execute(delete(OcpiConnection).where(col(OcpiConnection.party_fk) == caller.party_fk))
        await session.execute(
            update(CredentialToken)
            .where(
                col(CredentialToken.party_fk) == caller.party_fk, col(CredentialToken.revoked_at).is_(None)
            )
            .values(revoked_at=utcnow())
        )
        party = await session.get(Party, caller.party_fk)
        assert party is not None
        set_status(session, party, ConnectionStatus.SUSPENDED)
    ctx.forget(caller.party_fk)
    ctx.wake()
    log.info("ocpi.unregistered", party=caller.party_fk)


# --- initiated by the hub ----------------------------------------------------------------------------


async def connect(ctx: OcpiContext, party_fk: int, versions_url: str, token_a: str) -> dict[str, Any]:
    """Register the hub with a partner platform that handed the operator a token A."""
    async with ctx.db.session() as session:
        party = await session.get(Party, party_fk)
        if party is None:
            raise NotFound(f"no party with id {party_fk}", field="id")
        if party.protocol != Protocol.OCPI:
            raise Conflict("only OCPI parties register with credentials", field="id")
        if party.status == ConnectionStatus.SUSPENDED:
            raise Conflict("this party is suspended", field="id")
        if await _connection(session, party_fk) is not None:
            raise Conflict("this party is already registered", field="id")
    _, endpoints, encode = await fetch_endpoints(ctx, versions_url, token_a)
    credentials_url = find_endpoint(endpoints, "credentials", "SENDER") or find_endpoint(
        endpoints, "credentials", "RECEIVER"
    )
    assert credentials_url is not None  # fetch_endpoints insists on it
    ours = new_token()
    # The partner calls back our versions with this token before it answers: it must be committed first.
    async with ctx.db.transaction() as session:
        row = CredentialToken(party_fk=party_fk, kind=TOKEN_C, token_hash=hash_token(ours))
        session.add(row)
    try:
        theirs = await _post_credentials(ctx, credentials_url, token_a, encode, ours)
        async with ctx.db.transaction() as session:
            roles = await check_roles(session, party_fk, theirs)
            session.add(_new_connection(ctx, party_fk, theirs, endpoints, roles, encode))
            party = await session.get(Party, party_fk)
            assert party is not None
            set_status(session, party, ConnectionStatus.CONNECTED)
    except BaseException:
        async with ctx.db.transaction() as session:
            await session.execute(delete(CredentialToken).where(col(CredentialToken.id) == row.id))
        raise
    ctx.forget(party_fk)
    ctx.wake()
    log.info("ocpi.connected", party=party_fk, versions_url=versions_url)
    return {"party_id": party_fk, "versions_url": versions_url, "endpoints": len(endpoints)}


async def _post_credentials(ctx: OcpiContext, url: str, token_a: str, encode: bool, ours: str) -> Credentials:
    try:
        reply = await ctx.client.request(
            "POST", url, token=token_a, encode=encode, json_body=hub_credentials(ctx, ours)
        )
    except (ForwardTimeout, ReceiverNotConnected) as exc:
        raise ClientApiUnusable(f"credentials POST to {url}: {exc}") from exc
    data = expect_success(reply, "credentials POST")
    try:
        return Credentials.model_validate(data)
    except ValidationError as exc:
        raise ClientApiUnusable(
            "the platform answered the credentials POST without valid credentials"
        ) from exc
