"""A statement as JSON (for machines), CSV (for spreadsheets) and HTML (for people), and the money format.

The CSV is one table whose first column says what a row is (``line``, ``gross``, ``fee``, ``net``,
``position``), so a spreadsheet can filter it. The HTML escapes every value it shows.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from decimal import Decimal
from html import escape
from typing import TYPE_CHECKING

from schemas.canonical.money import Money

if TYPE_CHECKING:
    from hub.ledger.statements import Statement

_CENTS = Decimal("0.01")
CSV_HEADER = [
    "record",
    "cdr_id",
    "role",
    "cpo",
    "emsp",
    "counterparty",
    "session_date",
    "credit",
    "reverses_cdr_id",
    "currency",
    "cost",
    "vat",
    "fee",
    "net",
]


def amount(money: Money) -> str:
    """At least two decimals, more only when they carry something (1.5 → 1.50; 0.1234 stays)."""
    value = money.amount
    return str(value.quantize(_CENTS) if value == value.quantize(_CENTS) else value.normalize())


def show(money: Money) -> str:
    return f"{amount(money)} {money.currency}"


def to_json(statement: Statement) -> str:
    return statement.model_dump_json(indent=2) + "\n"


def _csv_rows(statement: Statement) -> Iterable[list[str]]:
    for line in statement.lines:
        yield [
            "line",
            line.cdr_id,
            line.role,
            line.cpo,
            line.emsp,
            "",
            line.session_date.isoformat(),
            "true" if line.credit else "false",
            line.reverses_cdr_id or "",
            line.net.currency,
            str(line.cost.amount),
            str(line.vat.amount),
            str(line.fee.amount),
            str(line.net.amount),
        ]
    for gross in statement.gross:
        cur = gross.cost.currency
        yield [
            "gross",
            "",
            "",
            "",
            "",
            gross.counterparty,
            "",
            "",
            "",
            cur,
            str(gross.cost.amount),
            str(gross.vat.amount),
            "",
            "",
        ]
    for fee in statement.fees:
        yield ["fee", "", "", "", "", "", "", "", "", fee.currency, "", "", str(fee.amount), ""]
    for net in statement.nets:
        yield [
            "net",
            "",
            "",
            "",
            "",
            net.counterparty,
            "",
            "",
            "",
            net.owes.currency,
            "",
            "",
            "",
            str(-net.owes.amount),
        ]
    for total in statement.position:
        yield ["position", "", "", "", "", "", "", "", "", total.currency, "", "", "", str(total.amount)]


def to_csv(statement: Statement) -> str:
    """Amounts from the party's side: positive, it is owed; a ``net`` row is what the counterparty owes it."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    writer.writerows(_csv_rows(statement))
    return buffer.getvalue()


def _table(headers: list[str], rows: Iterable[list[str]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _line_rows(statement: Statement) -> Iterable[list[str]]:
    for line in statement.lines:
        reverses = f"reverses {line.reverses_cdr_id}" if line.reverses_cdr_id else (line.note or "")
        yield [
            line.cdr_id,
            f"{line.session_date:%Y-%m-%d %H:%M}",
            line.role,
            f"{line.cpo} → {line.emsp}",
            show(line.cost),
            show(line.vat),
            show(line.fee),
            show(line.net),
            ("credit " + reverses).strip() if line.credit else reverses,
        ]


_STYLE = (
    "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:1.5em}"
    "td,th{border:1px solid #bbb;padding:.3em .6em;text-align:left}td{font-variant-numeric:tabular-nums}"
)


def to_html(statement: Statement) -> str:
    title = escape(f"Statement {statement.period} for {statement.party}")
    sections = [
        f"<h1>{title}</h1>",
        f"<p>{escape(statement.status)}; {statement.starts_at:%Y-%m-%d} to {statement.ends_at:%Y-%m-%d}"
        f" (UTC, end exclusive); amounts from {escape(statement.party)}'s side: positive, it is owed.</p>",
        "<h2>Position against the hub</h2>",
        _table(["Currency", "Position"], ([m.currency, show(m)] for m in statement.position)),
        "<h2>Bilateral nets</h2>",
        _table(["Counterparty", "Owes you"], ([n.counterparty, show(-n.owes)] for n in statement.nets)),
        "<h2>Gross per counterparty</h2>",
        _table(
            ["Counterparty", "Cost", "VAT"],
            ([g.counterparty, show(g.cost), show(g.vat)] for g in statement.gross),
        ),
        "<h2>Hub fees</h2>",
        _table(["Currency", "Fees"], ([m.currency, show(m)] for m in statement.fees)),
        "<h2>CDRs</h2>",
        _table(
            ["CDR", "Ended", "Role", "CPO → eMSP", "Cost", "VAT", "Fee", "Net", "Note"], _line_rows(statement)
        ),
    ]
    body = "\n".join(sections)
    head = f'<meta charset="utf-8"><title>{title}</title><style>{_STYLE}</style>'
    return f'<!DOCTYPE html>\n<html lang="en"><head>{head}</head>\n<body>\n{body}\n</body></html>\n'


RENDERERS = {"json": to_json, "csv": to_csv, "html": to_html}
