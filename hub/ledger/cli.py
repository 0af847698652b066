"""``roamhub ledger|settle|reconcile|fee``: the settlement ledger from the command line.

Every command opens the configured database itself (and migrates it), like the rest of the CLI. Bad input
raises a ClientError, which ``roamhub`` turns into exit code 2 with a message naming the flag or line.
"""

from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from hub.cli import output
from hub.config import Settings
from hub.errors import InvalidParameters
from hub.ledger import balances, booking, fees, periods, reconcile, render, statements
from hub.store import migrate
from hub.store.db import Database
from hub.validation import first_error, parse_time


def parse_instant(text: str | None, flag: str = "--as-of") -> datetime | None:
    """ISO 8601; a time without a zone is taken as UTC (the ledger's clock)."""
    return None if text is None else parse_time(text, flag)


# --- ledger ---------------------------------------------------------------------------------------------


def balances_text(result: balances.Balances) -> str:
    when = f" as of {result.as_of.isoformat()}" if result.as_of else ""
    if not result.positions:
        return f"Nothing booked{when}."
    rows = [[p.party, p.position.currency, render.amount(p.position)] for p in result.positions]
    owed = [
        [n.party, n.counterparty, n.owes.currency, render.amount(n.owes)]
        for n in result.nets
        if n.owes.amount > 0
    ]
    return "\n".join(
        [
            f"Clearing positions{when} (positive: the hub owes the party)",
            output.table(rows, ["PARTY", "CURRENCY", "POSITION"]),
            "",
            "Bilateral nets (PARTY owes COUNTERPARTY)",
            output.table(owed, ["PARTY", "COUNTERPARTY", "CURRENCY", "OWES"]) if owed else "none",
        ]
    )


def netting_text(matrices: list[balances.Netting]) -> str:
    if not matrices:
        return "Nothing booked."
    parts = []
    for m in matrices:
        rows = [[a] + ["-" if a == b else render.amount(m.rows[a][b]) for b in m.parties] for a in m.parties]
        parts.append(
            f"{m.currency}: what each row owes each column\n" + output.table(rows, ["OWES →", *m.parties])
        )
    return "\n\n".join(parts)


async def cmd_balances(args: argparse.Namespace, settings: Settings) -> int:
    as_of = parse_instant(args.as_of)
    result = await migrate.with_database(settings.database, lambda db: balances.balances(db, as_of))
    output.emit_json(result) if args.json else print(balances_text(result))
    return 0


async def cmd_netting(args: argparse.Namespace, settings: Settings) -> int:
    currency = args.currency.upper() if args.currency else None
    as_of = parse_instant(args.as_of)
    result = await migrate.with_database(settings.database, lambda db: balances.netting(db, currency, as_of))
    output.emit_json(result) if args.json else print(netting_text(result))
    return 0


async def cmd_book_pending(args: argparse.Namespace, settings: Settings) -> int:
    count = await migrate.with_database(settings.database, lambda db: booking.book_unbooked(db, settings))
    output.emit_json({"booked": count}) if args.json else print(f"Booked {count} CDR(s).")
    return 0


# --- settle ---------------------------------------------------------------------------------------------


async def cmd_close(args: argparse.Namespace, settings: Settings) -> int:
    result = await migrate.with_database(
        settings.database, lambda db: statements.close_period(db, settings, args.period)
    )
    if args.json:
        output.emit_json(result)
    else:
        print(f"Period {result.period} is closed: {len(result.parties)} statement(s) in {result.directory}")
    return 0


async def cmd_statement(args: argparse.Namespace, settings: Settings) -> int:
    party = args.party.upper()
    result = await migrate.with_database(
        settings.database, lambda db: statements.get_statement(db, settings, party, args.period)
    )
    print(render.RENDERERS[args.format](result), end="")
    return 0


async def _periods(db: Database) -> list[dict[str, Any]]:
    async with db.session() as session:
        rows = await periods.list_periods(session)
    return [row.model_dump(mode="json", exclude={"id"}) for row in rows]


async def cmd_periods(args: argparse.Namespace, settings: Settings) -> int:
    rows = await migrate.with_database(settings.database, _periods)
    if args.json:
        output.emit_json(rows)
    else:
        table = [[r["name"], r["status"], r["starts_at"], r["ends_at"], r["closed_at"] or ""] for r in rows]
        print(
            output.table(table, ["PERIOD", "STATUS", "STARTS", "ENDS", "CLOSED"])
            if rows
            else "No periods yet."
        )
    return 0


# --- reconcile ------------------------------------------------------------------------------------------


def _read(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise InvalidParameters(f"cannot read {path}: {exc.strerror}", field="--file") from exc


async def cmd_reconcile(args: argparse.Namespace, settings: Settings) -> int:
    raw, party = _read(args.file), args.party.upper()
    result = await migrate.with_database(
        settings.database,
        lambda db: reconcile.reconcile(db, settings, party, args.period, raw, args.file, args.basis),
    )
    output.emit_json(result) if args.json else print(reconcile.report_text(result))
    return 0


# --- fees -----------------------------------------------------------------------------------------------


def _fee_set(args: argparse.Namespace) -> fees.FeeSet:
    values = {"party": args.party, "currency": args.currency, "fixed": args.fixed, "percent": args.percent}
    try:
        return fees.FeeSet.model_validate({k: v for k, v in values.items() if v is not None})
    except ValidationError as exc:
        error = first_error(exc)
        raise InvalidParameters(error.message, field=f"--{error.field}" if error.field else None) from exc


def fee_table(views: list[fees.FeeView]) -> str:
    if not views:
        return "No hub fees set."
    rows = [[v.party, v.currency, render.amount(v.fixed), f"{v.percent.normalize():f} %"] for v in views]
    return output.table(rows, ["PARTY", "CURRENCY", "FIXED PER CDR", "PERCENT OF COST"])


async def cmd_fee_set(args: argparse.Namespace, settings: Settings) -> int:
    data = _fee_set(args)
    view = await migrate.with_database(settings.database, lambda db: fees.set_fee(db, data))
    output.emit_json(view) if args.json else print(fee_table([view]))
    return 0


async def cmd_fee_list(args: argparse.Namespace, settings: Settings) -> int:
    views = await migrate.with_database(settings.database, fees.list_fees)
    output.emit_json(views) if args.json else print(fee_table(views))
    return 0


async def cmd_fee_remove(args: argparse.Namespace, settings: Settings) -> int:
    await migrate.with_database(settings.database, lambda db: fees.remove_fee(db, args.party, args.currency))
    print(f"Removed the fee for {args.party.upper()} in {args.currency.upper()}.")
    return 0


# --- parsers --------------------------------------------------------------------------------------------


def _json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="one JSON document instead of text")


def _ledger(subparsers: Any) -> None:
    ledger = subparsers.add_parser("ledger", help="the settlement ledger: balances and netting")
    sub = ledger.add_subparsers(dest="ledger_command", required=True)
    bal = sub.add_parser("balances", help="clearing positions and bilateral nets")
    bal.add_argument("--as-of", metavar="ISO", help="entries booked up to this instant (default: now)")
    _json_flag(bal)
    bal.set_defaults(run=cmd_balances)
    net = sub.add_parser("netting", help="the matrix of bilateral nets, per currency")
    net.add_argument("--currency", metavar="EUR")
    net.add_argument("--as-of", metavar="ISO")
    _json_flag(net)
    net.set_defaults(run=cmd_netting)
    pending = sub.add_parser(
        "book-pending", help="book CDRs stored without an entry (e.g. not priced before)"
    )
    _json_flag(pending)
    pending.set_defaults(run=cmd_book_pending)


def _settle(subparsers: Any) -> None:
    settle = subparsers.add_parser("settle", help="settlement periods and statements")
    sub = settle.add_subparsers(dest="settle_command", required=True)
    close = sub.add_parser("close", help="close a period for good and write its statements")
    close.add_argument("--period", required=True, help="e.g. 2026-11 (monthly periods)")
    _json_flag(close)
    close.set_defaults(run=cmd_close)
    statement = sub.add_parser("statement", help="print a party's statement (provisional while open)")
    statement.add_argument("--party", required=True, metavar="CC-PID")
    statement.add_argument("--period", required=True)
    statement.add_argument("--format", choices=statements.FORMATS, default="json")
    statement.set_defaults(run=cmd_statement)
    listing = sub.add_parser("periods", help="list settlement periods")
    _json_flag(listing)
    listing.set_defaults(run=cmd_periods)


def _reconcile(subparsers: Any) -> None:
    rec = subparsers.add_parser("reconcile", help="compare a partner's CDR list with the hub's")
    rec.add_argument("--party", required=True, metavar="CC-PID")
    rec.add_argument("--period", required=True)
    rec.add_argument("--file", required=True, help="CSV (id,amount,currency) or JSON list")
    rec.add_argument(
        "--basis", choices=["excl_vat", "incl_vat"], default="excl_vat", help="what amount means"
    )
    _json_flag(rec)
    rec.set_defaults(run=cmd_reconcile)


def _fee(subparsers: Any) -> None:
    fee = subparsers.add_parser("fee", help="the hub's fees per party and currency")
    sub = fee.add_subparsers(dest="fee_command", required=True)
    fee_set = sub.add_parser("set", help="set (or replace) a party's fee in a currency")
    fee_set.add_argument("--party", required=True, metavar="CC-PID")
    fee_set.add_argument("--currency", required=True, metavar="EUR")
    fee_set.add_argument("--fixed", metavar="AMOUNT", help="per CDR, e.g. 0.05")
    fee_set.add_argument("--percent", metavar="P", help="of the cost excl. VAT, e.g. 1.5")
    _json_flag(fee_set)
    fee_set.set_defaults(run=cmd_fee_set)
    fee_list = sub.add_parser("list", help="list fees")
    _json_flag(fee_list)
    fee_list.set_defaults(run=cmd_fee_list)
    fee_rm = sub.add_parser("remove", help="remove a party's fee in a currency")
    fee_rm.add_argument("--party", required=True, metavar="CC-PID")
    fee_rm.add_argument("--currency", required=True, metavar="EUR")
    fee_rm.set_defaults(run=cmd_fee_remove)


def add_parsers(subparsers: Any) -> None:
    """``ledger``, ``settle``, ``reconcile`` and ``fee``; ``subparsers`` is ``add_subparsers()``'s result."""
    _ledger(subparsers)
    _settle(subparsers)
    _reconcile(subparsers)
    _fee(subparsers)
