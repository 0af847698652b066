"""The hub calling an OICP partner over TLS: the partner's CA trusted, the hub's client certificate shown."""

from __future__ import annotations

import ssl
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509

from hub.pki import certs
from hub.pki.files import PkiPaths
from hub.simulators.oicp import OicpPartner
from tests.oicp.conftest import OicpHub, PartnerFactory

BACKEND_NEUTRAL = True  # routing/protocol logic: SQLite only (tests/conftest.py)

UID = "AABBCCDD"


def partner_server_context(tmp_path: Path, hub_ca: Path) -> tuple[ssl.SSLContext, str]:
    """A TLS server for the partner, under its own CA (not the hub's), asking for a client certificate."""
    ca = certs.build_ca("Partner GmbH", datetime.now(UTC))
    key = certs.new_key()
    cert = certs.build_server_cert(ca, key, "Partner GmbH", ["127.0.0.1"], datetime.now(UTC))
    (tmp_path / "partner.key").write_bytes(certs.key_pem(key))
    (tmp_path / "partner.crt").write_bytes(certs.cert_pem(cert))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(tmp_path / "partner.crt"), str(tmp_path / "partner.key"))
    context.verify_mode = ssl.CERT_REQUIRED  # the partner verifies the hub too (Hubject: optional)
    context.load_verify_locations(cafile=str(hub_ca))
    return context, certs.cert_pem(ca.cert).decode()


async def test_the_hub_verifies_the_partner_by_its_ca_and_presents_its_own_certificate(
    oicp_hub: OicpHub, partner: PartnerFactory, tmp_path: Path
) -> None:
    hub_ca = PkiPaths.of(oicp_hub.settings).ca_cert
    context, partner_ca = partner_server_context(tmp_path, hub_ca)
    emp = OicpPartner("emp", provider_id="DE-TLS", tokens=[UID], ssl=context)
    await emp.start()
    try:
        assert emp.base_url.startswith("https://")
        await oicp_hub.admit("DE", "TLS", "EMSP", base_url=emp.base_url, provider_id="DE-TLS", ca=partner_ca)
        cpo = await partner("cpo", "DE", "CPO")
        answer = await cpo.authorize_start(UID, "DE*CPO*E1")
        assert (answer["AuthorizationStatus"], answer["ProviderID"]) == ("Authorized", "DE-TLS")
        (asked,) = emp.received_for("eRoamingAuthorizeStart")
        assert asked.peer_cert is not None
        shown = x509.load_der_x509_certificate(asked.peer_cert)
        hub_client = x509.load_pem_x509_certificate(
            PkiPaths.of(oicp_hub.settings).hub_client_cert.read_bytes()
        )
        assert shown == hub_client  # the hub's own client certificate, from its CA
    finally:
        await emp.stop()


async def test_a_partner_whose_certificate_does_not_chain_to_its_ca_is_unreachable(
    oicp_hub: OicpHub, partner: PartnerFactory, tmp_path: Path
) -> None:
    context, _ = partner_server_context(tmp_path, PkiPaths.of(oicp_hub.settings).ca_cert)
    emp = OicpPartner("emp", provider_id="DE-TLS", tokens=[UID], ssl=context)
    await emp.start()
    try:
        other_ca = certs.cert_pem(certs.build_ca("Someone else", datetime.now(UTC)).cert).decode()
        await oicp_hub.admit("DE", "TLS", "EMSP", base_url=emp.base_url, provider_id="DE-TLS", ca=other_ca)
        cpo = await partner("cpo", "DE", "CPO")
        answer = await cpo.authorize_start(UID, "DE*CPO*E1")
        assert answer["AuthorizationStatus"] == "NotAuthorized"  # unreachable counts as no (notes §4.2)
        assert emp.received == []  # the handshake failed before any request
    finally:
        await emp.stop()
