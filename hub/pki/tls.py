"""TLS contexts for OICP: the mutual-TLS listener, and outbound calls to OICP partners.

The listener requires a client certificate chaining to the partner CA, and trusts nothing else: the system
store is not loaded, so a certificate from any public CA fails the handshake (oicp-hub-notes §7). Which
partner a valid chain belongs to, and whether it was revoked, is decided per request by
:func:`hub.pki.callers.partner_for_peer_cert`.
"""

from __future__ import annotations

import functools
import ssl
from pathlib import Path

from aiohttp import web

from hub.config import Settings
from hub.pki.files import CaMissing, PkiPaths, file_stamp

_Stamp = tuple[int, int, int]


def server_ssl_context(settings: Settings) -> ssl.SSLContext:
    """The context for the OICP listener: TLS 1.2+, client certificate required, our CA the only anchor.

    Built once, when the listener starts, so it is not cached; a renewed server certificate is picked up
    on the next start.
    """
    paths = PkiPaths.of(settings)
    paths.require(paths.ca_cert, paths.server_cert, paths.server_key)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_verify_locations(cafile=str(paths.ca_cert))
    context.load_cert_chain(str(paths.server_cert), str(paths.server_key))
    return context


def client_ssl_context(settings: Settings, partner_ca: str | None) -> ssl.SSLContext:
    """The context for calling an OICP partner: the hub's client certificate, TLS 1.2+.

    ``partner_ca`` is the partner's CA bundle, as PEM text or as the path of a PEM file; without it the
    partner is verified against the system store. Contexts are cached per process (loading the system
    store takes milliseconds, too slow for every call) and rebuilt when a file behind them is replaced.
    Callers must not modify the returned context: it is shared.
    """
    paths = PkiPaths.of(settings)
    paths.require(paths.hub_client_cert, paths.hub_client_key)
    ca_stamp = None
    if partner_ca is not None and "-----BEGIN" not in partner_ca:
        if not Path(partner_ca).is_file():
            raise CaMissing(f"the partner CA bundle {partner_ca} does not exist")
        ca_stamp = file_stamp(Path(partner_ca))
    return _client_context(
        str(paths.hub_client_cert),
        str(paths.hub_client_key),
        file_stamp(paths.hub_client_cert),
        file_stamp(paths.hub_client_key),
        partner_ca,
        ca_stamp,
    )


@functools.lru_cache(maxsize=64)
def _client_context(
    cert: str,
    key: str,
    _cert_stamp: _Stamp,
    _key_stamp: _Stamp,
    partner_ca: str | None,
    _ca_stamp: _Stamp | None,
) -> ssl.SSLContext:
    if partner_ca is None:
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    elif "-----BEGIN" in partner_ca:
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cadata=partner_ca)
    else:
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=partner_ca)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    return context


def peer_certificate_der(request: web.BaseRequest) -> bytes | None:
    """The client certificate of this request's TLS connection (DER), or None on plain HTTP."""
    transport = request.transport
    if transport is None:
        return None
    ssl_object = transport.get_extra_info("ssl_object")
    if ssl_object is None:
        return None
    der: bytes | None = ssl_object.getpeercert(binary_form=True)
    return der
