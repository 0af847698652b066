"""The hub's partner CA for OICP mutual TLS (DESIGN.md "OICP security", oicp-hub-notes §7).

As Hubject does, the hub runs its own CA, issues client certificates to OICP partners, and maps the
certificate a partner presents to that partner and its OperatorIDs/ProviderIDs::

    certs      pure X.509: keys (EC P-256), the CA, server and client certificates, fingerprints
    files      <data_dir>/pki/: init_ca, the server and hub client certificates, 0600 key files
    registry   table ``certificate``: issue to a party, revoke, list
    tls        server_ssl_context (the mTLS listener), client_ssl_context (calls to partners),
               peer_certificate_der (the certificate of an aiohttp request)
    callers    partner_for_peer_cert -> OicpCaller, check_owns (017 when an id is not the caller's)
    cli        ``roamhub pki init | issue | server | revoke | list``
"""

from hub.pki.callers import OicpCaller, check_owns, partner_for_peer_cert
from hub.pki.files import CaMissing, PkiPaths, init_ca, issue_hub_client_cert, issue_server_cert
from hub.pki.registry import CertificateView, IssuedFiles, issue_party_cert, list_certificates, revoke
from hub.pki.tls import client_ssl_context, peer_certificate_der, server_ssl_context

__all__ = [
    "CaMissing",
    "CertificateView",
    "IssuedFiles",
    "OicpCaller",
    "PkiPaths",
    "check_owns",
    "client_ssl_context",
    "init_ca",
    "issue_hub_client_cert",
    "issue_party_cert",
    "issue_server_cert",
    "list_certificates",
    "partner_for_peer_cert",
    "peer_certificate_der",
    "revoke",
    "server_ssl_context",
]
