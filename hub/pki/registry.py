"""Client certificates issued to OICP parties, recorded in table ``certificate``, and their revocation.

The table is what makes a certificate usable: a chain to our CA gets a partner through the TLS handshake,
but :func:`hub.pki.callers.partner_for_peer_cert` accepts only a fingerprint recorded here and not revoked.
So revoking is one UPDATE, effective on the next request, with no CRL to publish.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import structlog
from cryptography import x509
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from hub.config import Settings
from hub.errors import Conflict, InvalidParameters, NotFound
from hub.pki import certs
from hub.pki.files import PkiPaths, load_authority, write_private, write_public
from hub.store.db import Database
from hub.store.models import Certificate, Party, PartyRole
from hub.store.types import utcnow
from schemas.canonical.party import Protocol, Role

log = structlog.get_logger("hub.pki")

_HEX = re.compile(r"^[0-9a-f]+$")


class CertificateView(BaseModel):
    id: int
    party_fk: int
    serial: str
    fingerprint: str
    subject: str
    not_before: datetime
    not_after: datetime
    issued_at: datetime
    revoked_at: datetime | None
    status: Literal["valid", "revoked", "expired"]


@dataclass(frozen=True)
class IssuedFiles:
    certificate: CertificateView
    key: Path
    cert: Path
    ca: Path


def _view(row: Certificate, now: datetime) -> CertificateView:
    assert row.id is not None
    status: Literal["valid", "revoked", "expired"] = (
        "revoked" if row.revoked_at is not None else "expired" if row.not_after <= now else "valid"
    )
    return CertificateView(
        id=row.id,
        party_fk=row.party_fk,
        serial=row.serial,
        fingerprint=row.fingerprint,
        subject=row.subject,
        not_before=row.not_before,
        not_after=row.not_after,
        issued_at=row.issued_at,
        revoked_at=row.revoked_at,
        status=status,
    )


async def _oicp_party(db: Database, party_id: int) -> tuple[Party, list[str]]:
    """The party and its OICP ids (OperatorID first), or a clear error naming the party."""
    async with db.session() as session:
        party = await session.get(Party, party_id)
        if party is None:
            raise NotFound(f"no party with id {party_id}")
        if party.protocol != Protocol.OICP:
            raise InvalidParameters(
                f"party {party_id} ({party.name}) speaks {party.protocol}: only OICP parties get client"
                " certificates (OCPI parties authenticate with credentials tokens)"
            )
        roles = (
            await session.execute(
                select(PartyRole).where(col(PartyRole.party_fk) == party_id).order_by(col(PartyRole.id))
            )
        ).scalars()
        ids = sorted((r.role != Role.CPO, r.oicp_id) for r in roles if r.oicp_id)
    return party, [oicp_id for _, oicp_id in ids]


async def issue_party_cert(
    db: Database, settings: Settings, party_id: int, out_dir: Path, *, days: int = certs.CLIENT_DAYS
) -> IssuedFiles:
    """Issue a client certificate to an OICP party, record it, write ``party-<id>.{key,crt}`` and ``ca.crt``.

    The certificate names the party (URI SAN ``urn:roamhub:party:<id>``), not its ids: which OperatorIDs
    and ProviderIDs it may use is read from the party's roles on every request, so adding a role needs
    no new certificate.
    """
    if not 1 <= days <= certs.CA_DAYS:
        raise InvalidParameters(f"must be between 1 and {certs.CA_DAYS}", field="days")
    ca = load_authority(PkiPaths.of(settings))
    party, oicp_ids = await _oicp_party(db, party_id)
    key = certs.new_key()
    cert = certs.build_client_cert(
        ca,
        key,
        common_name=oicp_ids[0] if oicp_ids else party.name,
        organisation=party.name,
        uri=f"urn:roamhub:party:{party_id}",
        now=utcnow(),
        days=days,
    )
    stem = f"party-{party_id}"
    files = (out_dir / f"{stem}.key", out_dir / f"{stem}.crt", out_dir / "ca.crt")
    try:
        write_private(files[0], certs.key_pem(key))
    except FileExistsError as exc:
        raise Conflict(f"{files[0]} already exists: choose another --out directory or remove it") from exc
    try:
        write_public(files[1], certs.cert_pem(cert))
        write_public(files[2], certs.cert_pem(ca.cert))
        view = await _record(db, party_id, cert)
    except BaseException:
        files[0].unlink(missing_ok=True)  # an unrecorded certificate would never work: leave nothing behind
        files[1].unlink(missing_ok=True)
        raise
    log.info("pki.client_cert_issued", party=party_id, serial=view.serial, fingerprint=view.fingerprint)
    return IssuedFiles(view, *files)


async def _record(db: Database, party_id: int, cert: x509.Certificate) -> CertificateView:
    row = Certificate(
        party_fk=party_id,
        serial=certs.serial_hex(cert.serial_number),
        fingerprint=certs.fingerprint(certs.cert_der(cert)),
        subject=cert.subject.rfc4514_string()[:255],
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
    )
    try:
        async with db.transaction() as session:
            session.add(row)
    except IntegrityError as exc:  # the party was deleted meanwhile, or (2^-128) a serial collided
        raise Conflict(f"the certificate for party {party_id} could not be recorded") from exc
    return _view(row, utcnow())


def normalise_serial(text: str) -> str:
    """A serial as stored (lower-case hex, no leading zeros) from ``0A:1B…``, ``0x0a1b`` or ``A1B``."""
    value = text.strip().lower().replace(":", "").removeprefix("0x")
    if not value or not _HEX.fullmatch(value):
        raise InvalidParameters(f"{text!r} is not a hexadecimal serial number", field="serial")
    return certs.serial_hex(int(value, 16))


def normalise_fingerprint(text: str) -> str:
    value = text.strip().lower().replace(":", "")
    if len(value) != 64 or not _HEX.fullmatch(value):
        raise InvalidParameters(f"{text!r} is not a SHA-256 fingerprint (64 hex digits)", field="fingerprint")
    return value


async def revoke(
    db: Database, *, serial: str | None = None, fingerprint: str | None = None, party_id: int | None = None
) -> list[CertificateView]:
    """Revoke by serial, fingerprint, or every certificate of a party; return what matched.

    Certificates that were already revoked keep their original ``revoked_at``.
    """
    if sum(x is not None for x in (serial, fingerprint, party_id)) != 1:
        raise InvalidParameters("give exactly one of --serial, --fingerprint, --party")
    where: Any
    if serial is not None:
        where, what = col(Certificate.serial) == normalise_serial(serial), f"serial {serial}"
    elif fingerprint is not None:
        where = col(Certificate.fingerprint) == normalise_fingerprint(fingerprint)
        what = f"fingerprint {fingerprint}"
    else:
        where, what = col(Certificate.party_fk) == party_id, f"party {party_id}"
    now = utcnow()
    async with db.transaction() as session:
        rows = list(
            (await session.execute(select(Certificate).where(where).with_for_update())).scalars().all()
        )
        if not rows:
            raise NotFound(f"no certificate with {what}")
        for row in rows:
            if row.revoked_at is None:
                row.revoked_at = now
                session.add(row)
                log.info("pki.client_cert_revoked", party=row.party_fk, serial=row.serial)
    return [_view(row, now) for row in rows]


async def list_certificates(db: Database, *, party_id: int | None = None) -> list[CertificateView]:
    query = select(Certificate).order_by(col(Certificate.id))
    if party_id is not None:
        query = query.where(col(Certificate.party_fk) == party_id)
    async with db.session() as session:
        rows = (await session.execute(query)).scalars().all()
    now = utcnow()
    return [_view(row, now) for row in rows]
