"""Who is calling: from the client certificate of a mutual-TLS connection to an OICP partner and its ids.

OICP has no other credential: the OperatorID or ProviderID in a request's path and body must belong to the
partner the certificate was issued to, otherwise Hubject answers 017 "Unauthorized Access" (oicp-hub-notes
§1, §5, §7). An unknown, revoked or expired certificate, or a locked (SUSPENDED) partner, is 017 as well.

Revocation takes effect even on a kept-alive connection: a request's certificate is looked up by its
fingerprint (one query on the unique index, joined with the party and its roles), and the OICP front door
trusts what it read for ``[ocpi] cache_seconds`` (1 s by default), as OCPI trusts what it read of a
credentials token: a revocation or suspension through the CLI or another worker counts everywhere within
that time, at once in the worker that suspended the partner. The look-up was a tenth of the CPU of every
AuthorizeStart (nearly all of it SQLAlchemy's per-query overhead). The certificate's validity period is
checked on every request, cached or not.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NoReturn

import structlog
from sqlalchemy import bindparam, select
from sqlmodel import col

from hub.cache import TtlCache
from hub.errors import Forbidden, NotAuthenticated
from hub.pki.certs import fingerprint
from hub.store.db import Database
from hub.store.models import Certificate, Party, PartyRole
from hub.store.types import utcnow
from schemas.canonical.party import ConnectionStatus, Protocol, Role, normalise_oicp_id

log = structlog.get_logger("hub.pki")


@dataclass(frozen=True)
class OicpCaller:
    """The partner behind a client certificate; its ids in normalised form (``DEABC`` for ``DE*ABC``)."""

    party_fk: int
    name: str
    status: str
    operator_ids: frozenset[str]
    provider_ids: frozenset[str]

    def owns(self, oicp_id: str, role: Role | None = None) -> bool:
        """Whether an id is the caller's: its normalised form is one of the caller's ids (of ``role``)."""
        if role is Role.CPO:
            candidates = self.operator_ids
        elif role is Role.EMSP:
            candidates = self.provider_ids
        else:
            candidates = self.operator_ids | self.provider_ids
        return normalise_oicp_id(oicp_id) in candidates


# Built once: the fingerprint is bound per request (every OICP request runs this look-up).
_CALLER = (
    select(
        col(Certificate.revoked_at),
        col(Certificate.not_before),
        col(Certificate.not_after),
        col(Party.id),
        col(Party.name),
        col(Party.status),
        col(Party.protocol),
        col(PartyRole.role),
        col(PartyRole.oicp_id),
    )
    .select_from(Certificate)
    .join(Party, col(Party.id) == col(Certificate.party_fk))
    .outerjoin(PartyRole, col(PartyRole.party_fk) == col(Party.id))
    .where(col(Certificate.fingerprint) == bindparam("fingerprint"))
)


@dataclass(frozen=True)
class _Issued:
    """What the certificate table says of one fingerprint: judged afresh on every request."""

    revoked_at: datetime | None
    not_before: datetime
    not_after: datetime
    protocol: str
    caller: OicpCaller


async def partner_for_peer_cert(
    db: Database,
    der: bytes | None,
    *,
    now: datetime | None = None,
    cache: TtlCache[str, _Issued | None] | None = None,
) -> OicpCaller:
    """The partner a presented certificate was issued to; :class:`NotAuthenticated` (017) if none may call.

    With ``cache``, what was read of a fingerprint is trusted for the cache's lifetime (as the OCPI
    credentials are); its validity period is checked against ``now`` every time.
    """
    if not der:
        raise NotAuthenticated("a client certificate is required")
    print_ = fingerprint(der)
    issued = await (_read(db, print_) if cache is None else cache.get(print_, lambda: _read(db, print_)))
    if issued is None:
        _refuse("unknown", print_, "the client certificate was not issued by this hub")
    now = now or utcnow()
    if issued.revoked_at is not None:
        _refuse("revoked", print_, "the client certificate has been revoked")
    if not (issued.not_before <= now < issued.not_after):
        _refuse("expired", print_, "the client certificate is expired or not yet valid")
    if issued.caller.status == ConnectionStatus.SUSPENDED or issued.protocol != Protocol.OICP:
        _refuse("suspended", print_, "the partner is locked")
    return issued.caller


async def _read(db: Database, print_: str) -> _Issued | None:
    async with db.engine.connect() as connection:  # Core: no ORM session needed
        rows = (await connection.execute(_CALLER, {"fingerprint": print_})).all()
    if not rows:
        return None
    revoked_at, not_before, not_after, party_fk, name, status, protocol = rows[0][:7]
    ids: dict[str, set[str]] = {Role.CPO: set(), Role.EMSP: set()}
    for *_, role, oicp_id in rows:
        if role in ids and oicp_id:
            ids[role].add(normalise_oicp_id(oicp_id))
    assert party_fk is not None
    caller = OicpCaller(party_fk, name, status, frozenset(ids[Role.CPO]), frozenset(ids[Role.EMSP]))
    return _Issued(revoked_at, not_before, not_after, protocol, caller)


def _refuse(reason: str, print_: str, message: str) -> NoReturn:
    log.warning("security.certificate_refused", reason=reason, fingerprint=print_)
    raise NotAuthenticated(message)


def _role_for(field: str) -> Role | None:
    name = field.rsplit(".", 1)[-1].lower()
    return {"operatorid": Role.CPO, "providerid": Role.EMSP}.get(name)


def check_owns(caller: OicpCaller, oicp_id: str, field: str, *, role: Role | None = None) -> None:
    """Refuse (017) an id in the path or body that is not the caller's.

    ``field`` names where the id was found (``OperatorID``, ``operatorID``, ``ProviderID``…). An
    OperatorID must be one of the caller's OperatorIDs and a ProviderID one of its ProviderIDs (``role``,
    else derived from ``field``); for any other field, either kind will do.
    """
    if not caller.owns(oicp_id, role or _role_for(field)):
        raise Forbidden(f"{oicp_id} does not belong to the calling partner ({caller.name})", field=field)
