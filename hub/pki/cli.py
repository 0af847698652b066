"""``roamhub pki``: the partner CA, client certificates for OICP partners, revocation.

Errors are :class:`hub.errors.ClientError` subclasses, so ``roamhub`` prints them and exits with 2.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from hub.cli import output
from hub.config import Settings
from hub.errors import InvalidParameters
from hub.pki import certs
from hub.pki.files import init_ca, issue_hub_client_cert, issue_server_cert
from hub.pki.registry import CertificateView, issue_party_cert, list_certificates, revoke
from hub.store import migrate


def add_parser(subparsers: Any) -> None:
    pki = subparsers.add_parser("pki", help="OICP mutual TLS: the partner CA and client certificates")
    commands = pki.add_subparsers(dest="pki_command", required=True)

    init = commands.add_parser("init", help="create the partner CA, the server and the hub's client cert")
    init.add_argument("--force", action="store_true", help="replace an existing CA (its certs stop working)")
    init.add_argument("--json", action="store_true")
    init.set_defaults(run=cmd_init)

    issue = commands.add_parser("issue", help="issue a client certificate to an OICP party, or to 'hub'")
    issue.add_argument("party", metavar="PARTY_ID", help="the party's id, or 'hub' for the hub's own")
    issue.add_argument("--out", type=Path, help="directory for PARTY.key, PARTY.crt and ca.crt")
    issue.add_argument("--days", type=int, default=certs.CLIENT_DAYS, help="validity (default 365)")
    issue.add_argument("--json", action="store_true")
    issue.set_defaults(run=cmd_issue)

    server = commands.add_parser("server", help="issue the TLS server certificate again (public_url changed)")
    server.add_argument("--json", action="store_true")
    server.set_defaults(run=cmd_server)

    rev = commands.add_parser("revoke", help="revoke client certificates; effective on the next request")
    which = rev.add_mutually_exclusive_group(required=True)
    which.add_argument("--serial", help="hexadecimal serial, as 'pki list' shows it")
    which.add_argument("--fingerprint", help="SHA-256 fingerprint (hex, colons allowed)")
    which.add_argument("--party", type=int, metavar="PARTY_ID", help="every certificate of this party")
    rev.add_argument("--json", action="store_true")
    rev.set_defaults(run=cmd_revoke)

    listing = commands.add_parser("list", help="issued client certificates")
    listing.add_argument("--party", type=int, metavar="PARTY_ID")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(run=cmd_list)


def _files(*paths: Path) -> dict[str, str]:
    return {path.name: str(path) for path in paths}


async def cmd_init(args: argparse.Namespace, settings: Settings) -> int:
    paths = await init_ca(settings, force=args.force)
    files = [paths.ca_key, paths.ca_cert, paths.server_key, paths.server_cert]
    files += [paths.hub_client_key, paths.hub_client_cert]
    if args.json:
        output.emit_json({"directory": str(paths.directory), "files": _files(*files)})
    else:
        print(f"Partner CA created in {paths.directory}:")
        print("\n".join(f"  {f.name}" for f in files))
        print(f"Give partners {paths.ca_cert} to trust the hub's server and client certificates.")
    return 0


async def cmd_issue(args: argparse.Namespace, settings: Settings) -> int:
    if args.party == "hub":
        if args.out is not None:
            raise InvalidParameters("the hub's own certificate is always written to <data_dir>/pki")
        paths = issue_hub_client_cert(settings)
        files = _files(paths.hub_client_key, paths.hub_client_cert)
        output.emit_json({"files": files}) if args.json else print(f"Hub client certificate: {files}")
        return 0
    try:
        party_id = int(args.party)
    except ValueError:
        raise InvalidParameters(f"{args.party!r} is neither a party id nor 'hub'") from None
    if args.out is None:
        raise InvalidParameters("--out DIR is required: where to write the key and certificates")
    issued = await migrate.with_database(
        settings.database, lambda db: issue_party_cert(db, settings, party_id, args.out, days=args.days)
    )
    if args.json:
        data = issued.certificate.model_dump(mode="json")
        output.emit_json({**data, "files": _files(issued.key, issued.cert, issued.ca)})
    else:
        cert = issued.certificate
        print(f"Issued certificate {cert.serial} to party {party_id} ({cert.subject}),")
        print(f"valid until {cert.not_after:%Y-%m-%d}. Hand these to the partner:")
        print(f"  {issued.key}  (private key: send it over a secure channel)\n  {issued.cert}\n  {issued.ca}")
    return 0


async def cmd_server(args: argparse.Namespace, settings: Settings) -> int:
    paths = issue_server_cert(settings)
    files = _files(paths.server_key, paths.server_cert)
    output.emit_json({"files": files}) if args.json else print(f"Server certificate issued again: {files}")
    return 0


async def cmd_revoke(args: argparse.Namespace, settings: Settings) -> int:
    views = await migrate.with_database(
        settings.database,
        lambda db: revoke(db, serial=args.serial, fingerprint=args.fingerprint, party_id=args.party),
    )
    if args.json:
        output.emit_json(views)
    else:
        for view in views:
            print(f"Revoked {view.serial} (party {view.party_fk}, {view.subject}) at {view.revoked_at}")
    return 0


async def cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    views = await migrate.with_database(
        settings.database, lambda db: list_certificates(db, party_id=args.party)
    )
    if args.json:
        output.emit_json(views)
    elif not views:
        print("No certificates.")
    else:
        print(output.table(_rows(views), ["ID", "PARTY", "SERIAL", "SUBJECT", "NOT AFTER", "STATUS"]))
    return 0


def _rows(views: list[CertificateView]) -> list[list[str]]:
    return [
        [str(v.id), str(v.party_fk), v.serial, v.subject, f"{v.not_after:%Y-%m-%d}", v.status] for v in views
    ]
