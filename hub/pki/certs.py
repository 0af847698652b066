"""Certificates of the hub's partner CA, built with ``cryptography``: no files, no database, no clock.

Keys are EC P-256 with ECDSA/SHA-256 rather than RSA 3072. Both give about 128-bit security, but a P-256
key is generated in microseconds instead of up to a second, the hub's TLS listener signs every handshake
several times faster, and certificates are a third of the size. ECDSA P-256 certificates work in every
TLS 1.2/1.3 stack partners use (OpenSSL, Java, .NET, Go, Node). The CA signs with the same curve.
"""

from __future__ import annotations

import hashlib
import ipaddress
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_DAYS = 3650
SERVER_DAYS = 825
CLIENT_DAYS = 365
# A partner's clock a few minutes behind ours must not make a fresh certificate "not yet valid".
CLOCK_SKEW = timedelta(minutes=5)
# RFC 5280 upper bounds for a common name and an organisation name.
_NAME_MAX = 64


@dataclass(frozen=True)
class Authority:
    """The partner CA: its signing key and its self-signed certificate."""

    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate


def new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def new_serial() -> int:
    """A random positive 128-bit serial (RFC 5280 §4.1.2.2 allows up to 20 octets)."""
    return secrets.randbits(128) or 1


def serial_hex(serial: int) -> str:
    return format(serial, "x")


def fingerprint(der: bytes) -> str:
    """SHA-256 of the DER certificate, lower-case hex: the key the ``certificate`` table is looked up by."""
    return hashlib.sha256(der).hexdigest()


def key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    """PKCS#8 PEM, unencrypted: it is only ever written to a 0600 file (see ``files.write_private``)."""
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def cert_der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def load_key(pem: bytes) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError("the CA key is not an EC key")
    return key


def _name(common_name: str, organisation: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name[:_NAME_MAX]),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation[:_NAME_MAX]),
        ]
    )


def build_ca(name: str, now: datetime, *, days: int = CA_DAYS) -> Authority:
    """A self-signed root that may sign end-entity certificates only (pathlen 0)."""
    key = new_key()
    subject = _name(f"{name} partner CA", name)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(new_serial())
        .not_valid_before(now - CLOCK_SKEW)
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .add_extension(ski, critical=False)
        .sign(key, hashes.SHA256())
    )
    return Authority(key, cert)


def build_server_cert(
    ca: Authority, key: ec.EllipticCurvePrivateKey, name: str, hosts: Iterable[str], now: datetime
) -> x509.Certificate:
    """The hub's TLS listener certificate: serverAuth, one SAN per host (IP addresses as IP SANs)."""
    names: list[x509.GeneralName] = []
    for host in dict.fromkeys(hosts):  # de-duplicated, order kept
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    builder = _end_entity(ca, key, _name(next(iter(dict.fromkeys(hosts))), name), now, SERVER_DAYS)
    return (
        builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .sign(ca.key, hashes.SHA256())
    )


def build_client_cert(
    ca: Authority,
    key: ec.EllipticCurvePrivateKey,
    *,
    common_name: str,
    organisation: str,
    uri: str,
    now: datetime,
    days: int = CLIENT_DAYS,
) -> x509.Certificate:
    """A client certificate for mutual TLS: clientAuth only, identified by a ``urn:roamhub:…`` URI SAN."""
    builder = _end_entity(ca, key, _name(common_name, organisation), now, days)
    return (
        builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName([x509.UniformResourceIdentifier(uri)]), critical=False)
        .sign(ca.key, hashes.SHA256())
    )


def _end_entity(
    ca: Authority, key: ec.EllipticCurvePrivateKey, subject: x509.Name, now: datetime, days: int
) -> x509.CertificateBuilder:
    # Never valid beyond the CA: a chain with an expired root fails anyway, so say so in the certificate.
    not_after = min(now + timedelta(days=days), ca.cert.not_valid_after_utc)
    ca_ski = ca.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(new_serial())
        .not_valid_before(now - CLOCK_SKEW)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
    )


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    # An ECDSA end entity only signs (ECDHE handshakes); a CA only signs certificates and CRLs.
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )
