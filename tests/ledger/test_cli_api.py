"""The ledger's command line (exit codes, text and JSON) and its admin API handlers."""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from hub.app import create_app
from hub.cli import main as cli_main
from hub.config import Settings
from hub.ledger import api
from hub.ledger.cli import add_parsers
from hub.store.db import Database
from tests.ledger.support import Parties, make_cdr, store_and_book

Two = tuple[Parties, str, str]
END = datetime(2026, 1, 20, tzinfo=UTC)


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, settings: Settings) -> Path:
    """The CLI on the test database; the ledger's commands hooked in as the lead will in build_parser."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ROAMHUB_DATABASE_URL", settings.database.url)
    monkeypatch.setenv("ROAMHUB_DATA_DIR", settings.data_dir)
    build = cli_main.build_parser

    def with_ledger() -> argparse.ArgumentParser:
        parser = build()
        subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        if "ledger" not in subparsers.choices:
            add_parsers(subparsers)
        return parser

    monkeypatch.setattr(cli_main, "build_parser", with_ledger)
    return tmp_path


async def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = await asyncio.to_thread(cli_main.main, list(argv))
    out, err = capsys.readouterr()
    return code, out, err


async def _book(db: Database, settings: Settings, two: Two) -> None:
    who, cpo, emsp = two
    await store_and_book(db, settings, make_cdr(who, cpo, emsp, excl="10", incl="12", cdr_id="K1", end=END))
    await store_and_book(db, settings, make_cdr(who, emsp, cpo, excl="4", cdr_id="K2", end=END))


async def test_fee_commands(cli: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = await run(
        capsys, "fee", "set", "--party", "nl-abc", "--currency", "eur", "--percent", "1.5"
    )
    assert code == 0 and "NL-ABC" in out and "1.5 %" in out
    code, out, _ = await run(capsys, "fee", "list", "--json")
    assert json.loads(out) == [
        {"party": "NL-ABC", "currency": "EUR", "fixed": {"amount": "0", "currency": "EUR"}, "percent": "1.5"}
    ]
    code, _, err = await run(capsys, "fee", "set", "--party", "NL-ABC", "--currency", "EUR", "--fixed", "-1")
    assert code == 2 and "--fixed" in err
    code, _, err = await run(capsys, "fee", "set", "--party", "NLABC", "--currency", "EUR")
    assert code == 2 and "--party" in err
    assert (await run(capsys, "fee", "remove", "--party", "NL-ABC", "--currency", "EUR"))[0] == 0
    code, _, err = await run(capsys, "fee", "remove", "--party", "NL-ABC", "--currency", "EUR")
    assert code == 2 and "no fee" in err


async def test_balances_and_netting(
    cli: Path, capsys: pytest.CaptureFixture[str], db: Database, settings: Settings, two: Two
) -> None:
    _, cpo, emsp = two
    await _book(db, settings, two)
    code, out, _ = await run(capsys, "ledger", "balances", "--json")
    positions = {p["party"]: p["position"]["amount"] for p in json.loads(out)["positions"]}
    assert code == 0 and positions == {cpo: "8", emsp: "-8"}
    code, out, _ = await run(capsys, "ledger", "balances")
    assert code == 0 and f"{emsp}  {cpo}" in out and "8.00" in out
    code, out, _ = await run(capsys, "ledger", "balances", "--as-of", "2000-01-01")
    assert code == 0 and "Nothing booked as of 2000-01-01" in out
    assert (await run(capsys, "ledger", "balances", "--as-of", "yesterday"))[0] == 2
    code, out, _ = await run(capsys, "ledger", "netting", "--currency", "EUR")
    assert code == 0 and "EUR: what each row owes each column" in out and "-8.00" in out
    code, out, _ = await run(capsys, "ledger", "netting", "--json")
    assert json.loads(out)[0]["rows"][emsp][cpo] == {"amount": "8", "currency": "EUR"}


async def test_settle_close_statement_and_reconcile(
    cli: Path, capsys: pytest.CaptureFixture[str], db: Database, settings: Settings, two: Two
) -> None:
    _, cpo, _ = two
    await _book(db, settings, two)
    code, out, _ = await run(capsys, "settle", "close", "--period", "2026-01")
    assert code == 0 and "Period 2026-01 is closed: 2 statement(s)" in out
    code, _, err = await run(capsys, "settle", "close", "--period", "2026-01")
    assert code == 2 and "closed" in err
    assert (await run(capsys, "settle", "close", "--period", "January"))[0] == 2
    code, out, _ = await run(
        capsys, "settle", "statement", "--party", cpo, "--period", "2026-01", "--format", "csv"
    )
    assert code == 0 and out.startswith("record,cdr_id") and "line,K1" in out
    code, out, _ = await run(
        capsys, "settle", "statement", "--party", cpo, "--period", "2026-01", "--format", "html"
    )
    assert code == 0 and out.startswith("<!DOCTYPE html>")
    code, out, _ = await run(capsys, "settle", "periods", "--json")
    assert code == 0 and json.loads(out)[0]["status"] == "closed"

    good, bad = cli / "partner.csv", cli / "bad.csv"
    good.write_text("id,amount,currency\nK1,10,EUR\nK3,1,EUR\n")
    bad.write_text("id,amount,currency\nK1,10,EUR\nK2,,EUR\n")
    code, out, _ = await run(
        capsys, "reconcile", "--party", cpo, "--period", "2026-01", "--file", str(good), "--json"
    )
    report = json.loads(out)
    assert code == 0 and report["matched"] == ["K1"] and [i["id"] for i in report["missing_at_hub"]] == ["K3"]
    assert [i["id"] for i in report["missing_at_partner"]] == ["K2"]
    code, out, _ = await run(capsys, "reconcile", "--party", cpo, "--period", "2026-01", "--file", str(good))
    assert code == 0 and "Differences found." in out
    code, _, err = await run(capsys, "reconcile", "--party", cpo, "--period", "2026-01", "--file", str(bad))
    assert code == 2 and "line 3, field 'amount': missing" in err
    code, _, err = await run(capsys, "reconcile", "--party", cpo, "--period", "2026-01", "--file", "nope.csv")
    assert code == 2 and "cannot read nope.csv" in err


ROUTES = [
    web.get("/admin/api/ledger/balances", api.get_balances),
    web.get("/admin/api/ledger/netting", api.get_netting),
    web.post("/admin/api/settlement/{period}/close", api.close_period),
    web.get("/admin/api/settlement/{period}/statements/{party}", api.get_statement),
    web.post("/admin/api/reconcile/{party}/{period}", api.post_reconcile),
]


async def test_admin_api(
    aiohttp_client: Any, settings: Settings, db: Database, two: Two, admin_headers: dict[str, str]
) -> None:
    _, cpo, emsp = two
    await _book(db, settings, two)
    app = create_app(settings)
    app.router.add_routes(ROUTES)
    client: TestClient[Any, Any] = await aiohttp_client(app)
    reply = await client.get("/admin/api/ledger/balances", headers=admin_headers)
    assert reply.status == 200 and len((await reply.json())["positions"]) == 2
    assert (await client.get("/admin/api/ledger/balances")).status == 401
    reply = await client.get("/admin/api/ledger/netting?currency=eur", headers=admin_headers)
    assert (await reply.json())[0]["rows"][cpo][emsp]["amount"] == "-8"
    reply = await client.get(
        f"/admin/api/settlement/2026-01/statements/{cpo}?format=html", headers=admin_headers
    )
    assert reply.status == 200 and reply.content_type == "text/html"
    reply = await client.get(
        f"/admin/api/settlement/2026-01/statements/{cpo}?format=pdf", headers=admin_headers
    )
    assert reply.status == 400
    reply = await client.post("/admin/api/settlement/2026-01/close", headers=admin_headers)
    assert reply.status == 200 and (await reply.json())["parties"] == sorted([cpo, emsp])
    assert (await client.post("/admin/api/settlement/2026-01/close", headers=admin_headers)).status == 409
    body = b'[{"id": "K2", "amount": "4", "currency": "EUR"}]'
    reply = await client.post(f"/admin/api/reconcile/{cpo}/2026-01", data=body, headers=admin_headers)
    result = await reply.json()
    assert reply.status == 200 and result["matched"] == ["K2"]
    reply = await client.post(
        f"/admin/api/reconcile/{cpo}/2026-01", data=b"id,amount\n", headers=admin_headers
    )
    assert reply.status == 400
