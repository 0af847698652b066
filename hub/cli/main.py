"""``roamhub``: serve the hub and administer it.

Exit codes: 0 done, 2 bad input (usage, validation, configuration), 1 anything else.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

from hub import agreements, cdr_admin, demo, parties, traffic
from hub.bench.run import add_parser as add_bench_parser
from hub.cli import output
from hub.config import ConfigError, Settings, load_settings, masked
from hub.errors import ClientApiUnusable, ClientError, HubError, InvalidParameters
from hub.ledger import cli as ledger_cli
from hub.pki import cli as pki_cli
from hub.store import migrate
from hub.store.db import Database
from schemas.canonical.party import Protocol

Command = Callable[[argparse.Namespace, Settings], Coroutine[Any, Any, int]]


async def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from hub.server import serve

    await serve(settings, host=args.host, port=args.port)
    return 0


async def cmd_db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    db = Database(settings.database)
    try:
        await migrate.upgrade(db.engine)
        revision = await migrate.current_revision(db.engine)
    finally:
        await db.close()
    print(f"database at revision {revision} (head {migrate.head_revision()})")
    return 0


async def cmd_party_add(args: argparse.Namespace, settings: Settings) -> int:
    data = parties.PartyCreate.model_validate(
        {
            "name": args.name,
            "country_code": args.country,
            "party_id": args.party_id,
            "roles": args.role,
            "protocol": args.protocol,
            "base_url": args.base_url,
            "operator_id": args.operator_id,
            "provider_id": args.provider_id,
            "oicp_ca": _read_pem(args.partner_ca),
            "oicp_services": _services(args.service),
        }
    )
    view = await migrate.with_database(settings.database, lambda db: parties.add_party(db, settings, data))
    output.emit_json(view) if args.json else print(output.party_detail(view))
    return 0


def _read_pem(path: str | None) -> str | None:
    if path is None:
        return None
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidParameters(f"cannot read {path}: {exc.strerror}", field="oicp_ca") from exc


def _services(pairs: list[str] | None) -> dict[str, str | None] | None:
    """``--service charging=https://...`` (repeatable); ``=none`` marks a service the partner lacks."""
    if not pairs:
        return None
    found: dict[str, str | None] = {}
    for pair in pairs:
        name, sep, url = pair.partition("=")
        if not sep or not name:
            raise InvalidParameters(f"{pair!r} is not SERVICE=URL", field="oicp_services")
        found[name.strip()] = None if url.strip().lower() in ("", "none") else url.strip()
    return found


async def cmd_party_list(args: argparse.Namespace, settings: Settings) -> int:
    views = await migrate.with_database(settings.database, lambda db: parties.list_parties(db, settings))
    output.emit_json(views) if args.json else print(output.party_table(views))
    return 0


async def cmd_party_show(args: argparse.Namespace, settings: Settings) -> int:
    view = await migrate.with_database(settings.database, lambda db: parties.get_party(db, settings, args.id))
    output.emit_json(view) if args.json else print(output.party_detail(view))
    return 0


async def cmd_party_suspend(args: argparse.Namespace, settings: Settings) -> int:
    view = await migrate.with_database(
        settings.database, lambda db: parties.suspend_party(db, settings, args.id)
    )
    output.emit_json(view) if args.json else print(f"Party {view.id} ({view.name}) is now {view.status}.")
    return 0


async def cmd_party_token(args: argparse.Namespace, settings: Settings) -> int:
    view = await migrate.with_database(
        settings.database, lambda db: parties.new_registration_token(db, settings, args.id)
    )
    output.emit_json(view) if args.json else print(output.party_detail(view))
    return 0


async def cmd_party_connect(args: argparse.Namespace, settings: Settings) -> int:
    """Registration initiated by the hub: the partner handed the operator its versions URL and a token A."""
    import aiohttp

    from hub.crypto import load_vault
    from hub.ocpi import registration
    from hub.ocpi.client import OcpiClient
    from hub.ocpi.context import OcpiContext

    async def work(db: Database) -> dict[str, object]:
        async with aiohttp.ClientSession() as http:
            ctx = OcpiContext(db, settings, load_vault(settings), OcpiClient(http, settings.ocpi))
            return await registration.connect(ctx, args.id, args.versions_url, args.token_a)

    result = await migrate.with_database(settings.database, work)
    if args.json:
        output.emit_json(result)
    else:
        print(f"Party {args.id} is registered: {result['endpoints']} endpoints from {args.versions_url}")
    return 0


async def cmd_simulate(args: argparse.Namespace, settings: Settings) -> int:
    """A simulated partner platform, for trying the hub out (and the tests, demo and benchmarks)."""
    from hub.logs import configure_logging

    configure_logging(settings.log)
    if args.protocol == "oicp":
        return await _simulate_oicp(args)
    from hub.simulators.ocpi import RegistrationFailed, run_simulator

    if args.hub and not args.token_a:
        raise InvalidParameters(
            "registering with a hub needs the token A from 'roamhub party add'", field="token_a"
        )
    try:
        await run_simulator(
            "emsp" if args.role == "emp" else args.role,
            host=args.host,
            port=args.port,
            hub_versions_url=args.hub,
            token_a=args.token_a,
            country_code=args.country,
            party_id=args.party_id,
        )
    except RegistrationFailed as exc:
        raise ClientApiUnusable(f"registration with {args.hub} failed: {exc}") from exc
    return 0


async def _simulate_oicp(args: argparse.Namespace) -> int:
    """An OICP partner: serves what the hub forwards; with --hub-url, calls it with the pki issue files."""
    from hub.simulators.oicp import partner_ssl_context, run_oicp_simulator

    if args.hub_url and args.hub_url.startswith("https://"):
        if not (args.cert and args.key and args.ca):
            raise InvalidParameters("mutual TLS needs --cert, --key and --ca from 'roamhub pki issue'")
        try:
            partner_ssl_context(args.cert, args.key, args.ca)
        except OSError as exc:  # missing, unreadable or mismatched files (ssl.SSLError is an OSError)
            raise InvalidParameters(f"--cert/--key/--ca cannot be used: {exc}") from exc
    try:
        await run_oicp_simulator(
            "emp" if args.role in ("emp", "emsp") else "cpo",
            host=args.host,
            port=args.port,
            hub_url=args.hub_url,
            cert=args.cert,
            key=args.key,
            ca=args.ca,
            operator_id=args.operator_id or f"{args.country}*{args.party_id}",
            provider_id=args.provider_id or f"{args.country}-{args.party_id}",
            tokens=args.authorize or (),
        )
    except ValueError as exc:  # an OperatorID, ProviderID or token that is not one; raised before serving
        raise InvalidParameters(str(exc)) from exc
    return 0


def _pair(args: argparse.Namespace) -> agreements.AgreementCreate:
    return agreements.AgreementCreate.model_validate({"cpo": args.cpo, "emsp": args.emsp})


async def cmd_agreement_add(args: argparse.Namespace, settings: Settings) -> int:
    data = _pair(args)
    view = await migrate.with_database(settings.database, lambda db: agreements.add_agreement(db, data))
    output.emit_json(view) if args.json else print(f"Agreement {view.id}: {view.cpo} <-> {view.emsp}")
    if settings.agreements == "open" and not args.json:
        print("note: the policy is 'open', so every pair may roam; set agreements = \"explicit\" to enforce")
    return 0


async def cmd_agreement_list(args: argparse.Namespace, settings: Settings) -> int:
    views = await migrate.with_database(settings.database, agreements.list_agreements)
    if args.json:
        output.emit_json(
            {"policy": settings.agreements, "agreements": [v.model_dump(mode="json") for v in views]}
        )
    else:
        print(f"policy: {settings.agreements}")
        print(output.agreement_table(views))
    return 0


async def cmd_agreement_remove(args: argparse.Namespace, settings: Settings) -> int:
    pair = _pair(args) if args.cpo or args.emsp else None
    view = await migrate.with_database(
        settings.database, lambda db: agreements.remove_agreement(db, agreement_id=args.id, pair=pair)
    )
    output.emit_json(view) if args.json else print(f"Removed agreement {view.id}: {view.cpo} <-> {view.emsp}")
    return 0


async def cmd_config_show(args: argparse.Namespace, settings: Settings) -> int:
    data = masked(settings)
    if args.json:
        output.emit_json(data)
    else:
        print(json.dumps(data, indent=2))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="roamhub", description="An EV-charging roaming hub (OCPI 2.2.1, OICP 2.3)."
    )
    parser.add_argument(
        "--config", help="configuration file (default: config/roamhub.toml, or ROAMHUB_CONFIG)"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the hub")
    serve.add_argument("--host", help="address to listen on (default from config: host)")
    serve.add_argument("--port", type=int, help="port to listen on (default from config: port)")
    serve.set_defaults(run=cmd_serve)

    db = sub.add_parser("db", help="database schema").add_subparsers(dest="db_command", required=True)
    db.add_parser("upgrade", help="migrate the database to the latest schema").set_defaults(
        run=cmd_db_upgrade
    )

    party = sub.add_parser("party", help="admit and manage partner parties").add_subparsers(
        dest="party_command", required=True
    )
    add = party.add_parser("add", help="admit a party")
    add.add_argument("--name", required=True)
    add.add_argument("--country", required=True, help="ISO 3166-1 alpha-2 country code, e.g. NL")
    add.add_argument("--party-id", required=True, help="three-character party id, e.g. ABC")
    add.add_argument(
        "--role",
        action="append",
        required=True,
        type=str.upper,
        metavar="ROLE",
        help=f"one of {', '.join(r.value for r in sorted(parties.ADMISSIBLE_ROLES))}; repeat for several",
    )
    add.add_argument("--protocol", required=True, type=str.lower, choices=[p.value for p in Protocol])
    add.add_argument("--base-url", help="OICP: the URL the hub calls the partner at")
    add.add_argument("--operator-id", help="OICP CPO: OperatorID (default COUNTRY*PARTY)")
    add.add_argument("--provider-id", help="OICP eMSP: ProviderID (default COUNTRY-PARTY)")
    add.add_argument("--partner-ca", metavar="PEM_FILE", help="OICP: the CA bundle to verify the partner by")
    add.add_argument(
        "--service",
        action="append",
        metavar="SERVICE=URL",
        help="OICP: a base URL for one service (charging, reservation, cdrmgmt, notificationmgmt);"
        " =none if the partner does not offer it; repeat for several",
    )
    add.add_argument("--json", action="store_true")
    add.set_defaults(run=cmd_party_add)
    listing = party.add_parser("list", help="list admitted parties")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(run=cmd_party_list)
    connect = party.add_parser("connect", help="register the hub with a partner that gave you a token A")
    connect.add_argument("id", type=int)
    connect.add_argument("--versions-url", required=True, help="the partner's OCPI versions URL")
    connect.add_argument("--token-a", required=True, help="the registration token the partner gave you")
    connect.add_argument("--json", action="store_true")
    connect.set_defaults(run=cmd_party_connect)
    for name, run, text in (
        ("show", cmd_party_show, "show one party"),
        ("token", cmd_party_token, "issue a new one-time token A (e.g. after the party unregistered)"),
        ("suspend", cmd_party_suspend, "suspend a party: its traffic stops and its tokens are revoked"),
    ):
        cmd = party.add_parser(name, help=text)
        cmd.add_argument("id", type=int)
        cmd.add_argument("--json", action="store_true")
        cmd.set_defaults(run=run)

    agreement = sub.add_parser("agreement", help="roaming agreements").add_subparsers(
        dest="agreement_command", required=True
    )
    a_add = agreement.add_parser("add", help="let a CPO and an eMSP roam (policy 'explicit')")
    a_add.add_argument("--cpo", required=True, metavar="CC-PID")
    a_add.add_argument("--emsp", required=True, metavar="CC-PID")
    a_add.add_argument("--json", action="store_true")
    a_add.set_defaults(run=cmd_agreement_add)
    a_list = agreement.add_parser("list", help="list agreements and the policy")
    a_list.add_argument("--json", action="store_true")
    a_list.set_defaults(run=cmd_agreement_list)
    a_rm = agreement.add_parser("remove", help="remove an agreement by id, or by --cpo and --emsp")
    a_rm.add_argument("id", type=int, nargs="?")
    a_rm.add_argument("--cpo", metavar="CC-PID")
    a_rm.add_argument("--emsp", metavar="CC-PID")
    a_rm.add_argument("--json", action="store_true")
    a_rm.set_defaults(run=cmd_agreement_remove)

    simulate = sub.add_parser("simulate", help="run a simulated partner platform (CPO or eMSP)")
    simulate.add_argument("role", type=str.lower, choices=["cpo", "emsp", "emp"])
    simulate.add_argument("--protocol", default="ocpi", type=str.lower, choices=["ocpi", "oicp"])
    simulate.add_argument("--host", default="127.0.0.1")
    simulate.add_argument("--port", type=int, default=0, help="0 picks a free port")
    simulate.add_argument("--hub", metavar="VERSIONS_URL", help="register with this hub's versions URL")
    simulate.add_argument("--token-a", help="the token A the hub issued (or, without --hub, one to accept)")
    simulate.add_argument("--country", default="NL")
    simulate.add_argument("--party-id", default="SIM")
    simulate.add_argument("--hub-url", help="OICP: the hub's OICP base URL, e.g. https://127.0.0.1:8443")
    simulate.add_argument("--cert", help="OICP: the client certificate from 'roamhub pki issue'")
    simulate.add_argument("--key", help="OICP: its private key")
    simulate.add_argument("--ca", help="OICP: the hub's CA certificate")
    simulate.add_argument("--operator-id", help="OICP CPO: OperatorID (default COUNTRY*PARTY)")
    simulate.add_argument("--provider-id", help="OICP EMP: ProviderID (default COUNTRY-PARTY)")
    simulate.add_argument(
        "--authorize", action="append", metavar="TOKEN", help="OICP EMP: a UID or EvcoID to authorize; repeat"
    )
    simulate.set_defaults(run=cmd_simulate)

    config = sub.add_parser("config", help="configuration").add_subparsers(
        dest="config_command", required=True
    )
    show = config.add_parser("show", help="the effective configuration, secrets masked")
    show.add_argument("--json", action="store_true")
    show.set_defaults(run=cmd_config_show)
    traffic.add_parser(sub)
    cdr_admin.add_parser(sub)
    pki_cli.add_parser(sub)
    add_bench_parser(sub)
    ledger_cli.add_parsers(sub)
    demo.add_parser(sub)
    return parser


# Model fields as the command line spells them, so an error names the flag the operator typed.
_FLAGS = {
    "country_code": "--country",
    "party_id": "--party-id",
    "roles": "--role",
    "protocol": "--protocol",
    "name": "--name",
    "base_url": "--base-url",
    "operator_id": "--operator-id",
    "provider_id": "--provider-id",
    "oicp_ca": "--partner-ca",
    "oicp_services": "--service",
    "cpo": "--cpo",
    "emsp": "--emsp",
    "token_a": "--token-a",
    "serial": "--serial",
    "fingerprint": "--fingerprint",
    "days": "--days",
}


def _client_error(exc: ClientError) -> str:
    if exc.field:
        head, _, rest = exc.field.partition(".")
        flag = _FLAGS.get(head, exc.field)
        return f"{flag}{'.' + rest if rest else ''}: {exc.message}"
    return exc.message


def _fail(message: str, code: int) -> int:
    print(f"roamhub: error: {message}", file=sys.stderr)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    from pydantic import ValidationError

    from hub.validation import first_error

    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        return _fail(str(exc), 2)
    run: Command = args.run
    try:
        return asyncio.run(run(args, settings))
    except ValidationError as exc:
        return _fail(_client_error(first_error(exc)), 2)
    except ClientError as exc:
        return _fail(_client_error(exc), 2)
    except HubError as exc:
        return _fail(str(exc), 1)
    except KeyboardInterrupt:
        return 130


def entry() -> None:  # pragma: no cover - the console script
    sys.exit(main())
