"""Who is calling: the credentials token in ``Authorization: Token ...`` mapped to an admitted platform.

The token is Base64 of the credentials token (2.2.1), but many 2.1.1/2.2 peers send it raw (d2 note), so
both readings are tried (``[ocpi] accept_raw_tokens``). Only hashes are stored, and the lookup is by hash,
so no stored secret is ever compared byte by byte. Missing or unknown tokens are HTTP 401.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime

import structlog
from aiohttp import web
from sqlalchemy import select
from sqlmodel import col

from hub.crypto import hash_token
from hub.errors import NotAuthenticated
from hub.keys import DB, OCPI, SETTINGS
from hub.store.models import CredentialToken, Party
from hub.store.types import utcnow
from hub.traffic import CALLER_PARTY

log = structlog.get_logger("hub.ocpi.auth")

TOKEN_A = "A"  # noqa: S105 - a token kind, not a secret
TOKEN_C = "C"  # noqa: S105


@dataclass(frozen=True)
class Caller:
    """An authenticated platform, and which of its tokens it used."""

    party_fk: int
    kind: str
    token: str
    token_id: int
    revoked: bool
    status: str
    expires_at: datetime | None

    @property
    def active(self) -> bool:
        return not self.revoked


def presented_tokens(header: str, *, accept_raw: bool) -> list[str]:
    """The token readings of an Authorization header: Base64-decoded first, then raw."""
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() != "token" or not value:
        return []
    readings: list[str] = []
    try:
        decoded = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        decoded = ""
    if decoded and decoded.isprintable() and decoded.isascii():
        readings.append(decoded)
    if accept_raw:
        readings.append(value)
    return list(dict.fromkeys(readings))


async def authenticate(request: web.Request) -> Caller:
    """The caller behind the request's token, revoked tokens included (callers decide what those may do)."""
    settings = request.app[SETTINGS]
    readings = presented_tokens(
        request.headers.get("Authorization", ""), accept_raw=settings.ocpi.accept_raw_tokens
    )
    if not readings:
        raise _refused(request, "missing 'Authorization: Token <credentials token>' header")
    hashes = {hash_token(token): token for token in readings}
    ctx = request.app[OCPI]
    found = await ctx.tokens.get(tuple(sorted(hashes)), lambda: _lookup(request, list(hashes)))
    if found is None:
        raise _refused(request, "unknown credentials token")
    token, status = found
    request[CALLER_PARTY] = token.party_fk
    if token.expires_at is not None and token.expires_at <= utcnow():
        raise _refused(request, "this credentials token has expired")
    assert token.id is not None
    return Caller(
        party_fk=token.party_fk,
        kind=token.kind,
        token=hashes[token.token_hash],
        token_id=token.id,
        revoked=token.revoked_at is not None,
        status=status,
        expires_at=token.expires_at,
    )


def _refused(request: web.Request, reason: str) -> NotAuthenticated:
    """A credentials refusal, logged as a security event (the reason and the platform if known, never the
    token)."""
    log.warning(
        "security.credentials_refused",
        method=request.method,
        path=request.path,
        platform=request.get(CALLER_PARTY),
        reason=reason,
    )
    return NotAuthenticated(reason)


async def _lookup(request: web.Request, hashes: list[str]) -> tuple[CredentialToken, str] | None:
    async with request.app[DB].session() as session:
        row = (
            await session.execute(
                select(CredentialToken, Party)
                .join(Party, col(Party.id) == col(CredentialToken.party_fk))
                .where(col(CredentialToken.token_hash).in_(hashes))
            )
        ).first()
    return None if row is None else (row[0], row[1].status)


async def registered_caller(request: web.Request) -> Caller:
    """A platform that completed registration and holds a live token C: what functional modules require."""
    caller = await authenticate(request)
    if caller.kind == TOKEN_A:
        raise _refused(request, "token A opens only the versions and credentials endpoints")
    if caller.revoked:
        raise _refused(request, "this credentials token is no longer valid")
    return caller


async def versions_caller(request: web.Request) -> Caller:
    """Versions may be read with token A (to register) or a live token C."""
    caller = await authenticate(request)
    if caller.revoked:
        raise _refused(request, "this credentials token is no longer valid")
    return caller
