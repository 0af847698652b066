"""The partner CA on disk: ``<data_dir>/pki/`` and the files ``roamhub pki init`` writes there.

Private keys are created with mode 0600 and ``O_EXCL`` from the first byte (never written, then chmod'ed),
as ``hub/crypto.py`` does for the secret key. They are PEM without a passphrase: the hub must start
unattended, and the file mode, like the secret key's, is what protects them.
"""

from __future__ import annotations

import asyncio
import functools
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import structlog

from hub.config import Settings
from hub.errors import ClientError, Conflict
from hub.pki import certs
from hub.store.types import utcnow

log = structlog.get_logger("hub.pki")


class CaMissing(ClientError):
    """The partner CA (or a file ``pki init`` writes) is missing: a setup step, exit code 2 on the CLI."""

    title = "The partner CA is not set up"


@dataclass(frozen=True)
class PkiPaths:
    directory: Path

    @classmethod
    def of(cls, settings: Settings) -> PkiPaths:
        return cls(Path(settings.data_dir) / "pki")

    @property
    def ca_key(self) -> Path:
        return self.directory / "ca.key"

    @property
    def ca_cert(self) -> Path:
        return self.directory / "ca.crt"

    @property
    def server_key(self) -> Path:
        return self.directory / "server.key"

    @property
    def server_cert(self) -> Path:
        return self.directory / "server.crt"

    @property
    def hub_client_key(self) -> Path:
        return self.directory / "hub-client.key"

    @property
    def hub_client_cert(self) -> Path:
        return self.directory / "hub-client.crt"

    def require(self, *files: Path) -> None:
        for file in files:
            if not file.is_file():
                raise CaMissing(f"{file} is missing: run 'roamhub pki init' first")


def write_private(path: Path, data: bytes, *, replace: bool = False) -> None:
    """Write a key readable by the owner only; without ``replace`` an existing file raises FileExistsError."""
    path.parent.mkdir(parents=True, exist_ok=True)
    target = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp") if replace else path
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        if replace:
            os.replace(target, path)  # atomic: a reader sees the old key or the new one, never half of one
    except BaseException:
        target.unlink(missing_ok=True)
        raise


def write_public(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    target = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    target.write_bytes(data)
    os.replace(target, path)


def hub_hosts(settings: Settings) -> list[str]:
    """The names the server certificate is valid for: the public URL's host, then loopback."""
    host = urlsplit(settings.public_url).hostname
    return [h for h in (host, "127.0.0.1", "localhost") if h]


async def init_ca(settings: Settings, *, force: bool = False) -> PkiPaths:
    """Create the partner CA, the server certificate and the hub's client certificate (files only)."""
    return await asyncio.to_thread(_init_ca, settings, force)


def _init_ca(settings: Settings, force: bool) -> PkiPaths:
    paths = PkiPaths.of(settings)
    if not force and (paths.ca_key.exists() or paths.ca_cert.exists()):
        raise Conflict(
            f"a partner CA already exists in {paths.directory}; pass --force to replace it"
            " (every certificate it issued, the hub's own included, then stops working)"
        )
    paths.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    ca = certs.build_ca(settings.name, utcnow())
    try:
        write_private(paths.ca_key, certs.key_pem(ca.key), replace=force)
    except FileExistsError as exc:  # another `pki init` won the race
        raise Conflict(f"a partner CA already exists in {paths.directory}") from exc
    write_public(paths.ca_cert, certs.cert_pem(ca.cert))
    _load_authority.cache_clear()
    _write_server_cert(paths, ca, settings)
    _write_hub_client_cert(paths, ca, settings)
    log.info("pki.ca_created", directory=str(paths.directory), replaced=force)
    return paths


def load_authority(paths: PkiPaths) -> certs.Authority:
    """The CA key and certificate, parsed once per process (and again only when a file is replaced)."""
    paths.require(paths.ca_key, paths.ca_cert)
    return _load_authority(
        str(paths.ca_key), str(paths.ca_cert), file_stamp(paths.ca_key), file_stamp(paths.ca_cert)
    )


def file_stamp(path: Path) -> tuple[int, int, int]:
    """What changes when a file is replaced: inode (``os.replace``), size and modification time."""
    stat = path.stat()
    return stat.st_ino, stat.st_size, stat.st_mtime_ns


@functools.lru_cache(maxsize=8)
def _load_authority(
    key_path: str, cert_path: str, _key_stamp: tuple[int, int, int], _cert_stamp: tuple[int, int, int]
) -> certs.Authority:
    from cryptography import x509

    key = certs.load_key(Path(key_path).read_bytes())
    return certs.Authority(key, x509.load_pem_x509_certificate(Path(cert_path).read_bytes()))


def issue_server_cert(settings: Settings) -> PkiPaths:
    """Issue the TLS listener's certificate again from the existing CA (e.g. after public_url changed)."""
    paths = PkiPaths.of(settings)
    _write_server_cert(paths, load_authority(paths), settings)
    return paths


def issue_hub_client_cert(settings: Settings) -> PkiPaths:
    """Issue the certificate the hub presents when it calls OICP partners: ``pki/hub-client.{key,crt}``."""
    paths = PkiPaths.of(settings)
    _write_hub_client_cert(paths, load_authority(paths), settings)
    return paths


def _write_server_cert(paths: PkiPaths, ca: certs.Authority, settings: Settings) -> None:
    key = certs.new_key()
    cert = certs.build_server_cert(ca, key, settings.name, hub_hosts(settings), utcnow())
    write_private(paths.server_key, certs.key_pem(key), replace=True)
    write_public(paths.server_cert, certs.cert_pem(cert))
    log.info("pki.server_cert_issued", hosts=hub_hosts(settings), serial=certs.serial_hex(cert.serial_number))


def _write_hub_client_cert(paths: PkiPaths, ca: certs.Authority, settings: Settings) -> None:
    key = certs.new_key()
    cert = certs.build_client_cert(
        ca,
        key,
        common_name=settings.name,
        organisation=settings.name,
        uri=f"urn:roamhub:hub:{settings.country_code}-{settings.party_id}",
        now=utcnow(),
        days=certs.SERVER_DAYS,
    )
    write_private(paths.hub_client_key, certs.key_pem(key), replace=True)
    write_public(paths.hub_client_cert, certs.cert_pem(cert))
    log.info("pki.hub_client_cert_issued", serial=certs.serial_hex(cert.serial_number))
