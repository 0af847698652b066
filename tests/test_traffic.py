"""The traffic log: batched writes, what is (and is never) kept, inbound and outbound recording, queries,
the admin API and the CLI, on SQLite and PostgreSQL."""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession
from structlog.testing import capture_logs

from hub import errors, traffic
from hub.config import Settings
from hub.keys import DB, METRICS
from hub.metrics import Metrics
from hub.middleware import request_context
from hub.ocpi.endpoints import CONFIGURATION_MODULES, FUNCTIONAL_MODULES
from hub.store.db import Database
from hub.store.models import TrafficRecord
from hub.traffic import CALLER_PARTY, TRAFFIC, TrafficEntry, TrafficRecorder, recent, record_inbound

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def entry(seconds: int = 0, **fields: Any) -> TrafficEntry:
    values: dict[str, Any] = {
        "at": T0 + timedelta(seconds=seconds),
        "direction": "in",
        "protocol": "ocpi",
        "module": "locations",
        "method": "GET",
        "path": "/ocpi/2.2.1/sender/locations",
        "sender": "NL-CPA",
        "receiver": "NL-EMA",
        "http_status": 200,
        "status_code": "1000",
        "latency_ms": 1.5,
        "request_id": f"req-{seconds}",
        "correlation_id": "corr-1",
    }
    values.update(fields)
    return TrafficEntry(**values)


async def _tick() -> None:
    await asyncio.sleep(0.01)


async def all_rows(db: Database) -> list[TrafficRecord]:
    async with db.session() as session:
        return list((await session.execute(select(TrafficRecord))).scalars())


@pytest.fixture(autouse=True)
def captured_logs() -> Iterator[list[Any]]:
    """Logs in memory: an earlier test may have pointed structlog at a captured stream since closed."""
    with capture_logs() as logs:
        yield logs


@pytest.fixture
def inserts(db: Database) -> Iterator[list[str]]:
    """Every INSERT statement the engine sends, to see batching."""
    seen: list[str] = []

    def listen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO TRAFFIC"):
            seen.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", listen)
    yield seen
    event.remove(db.engine.sync_engine, "before_cursor_execute", listen)


# --- the recorder --------------------------------------------------------------------------------------


async def test_entries_are_written_in_one_insert_and_read_newest_first(
    db: Database, inserts: list[str]
) -> None:
    recorder = TrafficRecorder(db)
    for seconds in range(3):
        recorder.record(entry(seconds))
    assert await recorder.flush() == 3
    assert len(inserts) == 1
    views = await recent(db)
    assert [v.request_id for v in views] == ["req-2", "req-1", "req-0"]
    assert views[0].at == T0 + timedelta(seconds=2) and views[0].status_code == "1000"


async def test_large_buffers_are_written_in_batches(db: Database, inserts: list[str]) -> None:
    recorder = TrafficRecorder(db, batch_size=4)
    for seconds in range(10):
        recorder.record(entry(seconds))
    assert await recorder.flush() == 10
    assert len(inserts) == 3 and recorder.pending == 0


async def test_filters(db: Database) -> None:
    recorder = TrafficRecorder(db)
    recorder.record(entry(0, party_fk=1))
    recorder.record(entry(1, party_fk=2, module="cdrs"))
    recorder.record(entry(2, party_fk=1, direction="out", module="cdrs"))
    await recorder.flush()
    assert [v.request_id for v in await recent(db, party_fk=1)] == ["req-2", "req-0"]
    assert [v.request_id for v in await recent(db, module="cdrs")] == ["req-2", "req-1"]
    assert [v.request_id for v in await recent(db, direction="in")] == ["req-1", "req-0"]
    assert [v.request_id for v in await recent(db, since=T0 + timedelta(seconds=1))] == ["req-2", "req-1"]
    assert [v.request_id for v in await recent(db, limit=1)] == ["req-2"]


@pytest.mark.parametrize(
    ("options", "field"),
    [({"limit": 0}, "limit"), ({"limit": 1001}, "limit"), ({"direction": "up"}, "direction")],
)
async def test_bad_query_parameters_name_the_field(db: Database, options: dict[str, Any], field: str) -> None:
    with pytest.raises(errors.InvalidParameters) as caught:
        await recent(db, **options)
    assert caught.value.field == field


async def test_the_background_task_flushes_on_its_interval_and_on_stop(db: Database) -> None:
    recorder = TrafficRecorder(db, flush_interval=0.01)
    recorder.start()
    recorder.record(entry(0))
    for _ in range(200):
        if await recent(db):
            break
        await _tick()
    assert len(await recent(db)) == 1
    await recorder.stop()


async def test_stop_writes_what_is_left(db: Database) -> None:
    recorder = TrafficRecorder(db, flush_interval=3600)
    recorder.start()
    recorder.record(entry(0))
    recorder.record(entry(1))
    await recorder.stop()
    assert len(await recent(db)) == 2


async def test_a_full_buffer_wakes_the_writer_before_its_interval(db: Database) -> None:
    recorder = TrafficRecorder(db, flush_interval=3600, batch_size=2)
    recorder.start()
    recorder.record(entry(0))
    recorder.record(entry(1))
    for _ in range(200):
        if recorder.pending == 0 and await recent(db):
            break
        await _tick()
    assert len(await recent(db)) == 2
    await recorder.stop()


def events(logs: list[Any], name: str) -> list[Any]:
    return [log for log in logs if log["event"] == name]


async def test_overflow_drops_the_oldest_and_counts(db: Database, captured_logs: list[Any]) -> None:
    recorder = TrafficRecorder(db, max_buffer=3)
    for seconds in range(5):
        recorder.record(entry(seconds))
    assert recorder.dropped == 2
    await recorder.flush()
    await recorder.flush()
    assert [v.request_id for v in await recent(db)] == ["req-4", "req-3", "req-2"]
    drops = events(captured_logs, "traffic.dropped")  # once per flush that saw drops, not once per entry
    assert drops == [{"event": "traffic.dropped", "log_level": "warning", "count": 2, "total": 2}]


def failing_transaction(db: Database, times: int) -> Any:
    """A ``db.transaction`` that fails ``times`` times, as a database that went away would."""
    real = db.transaction
    left = [times]

    @asynccontextmanager
    async def transaction() -> AsyncIterator[AsyncSession]:
        if left[0] > 0:
            left[0] -= 1
            raise OSError("connection refused")
        async with real() as session:
            yield session

    return transaction


async def test_a_failing_database_is_logged_and_the_batch_retried(
    db: Database, monkeypatch: pytest.MonkeyPatch, captured_logs: list[Any]
) -> None:
    recorder = TrafficRecorder(db)
    monkeypatch.setattr(db, "transaction", failing_transaction(db, 1))
    recorder.record(entry(0))
    assert await recorder.flush() == 0
    (failed,) = events(captured_logs, "traffic.flush_failed")
    assert failed["error"] == "OSError" and failed["attempt"] == 1
    recorder.record(entry(1))
    assert await recorder.flush() == 2
    assert len(await recent(db)) == 2 and recorder.dropped == 0


async def test_retries_are_bounded(
    db: Database, monkeypatch: pytest.MonkeyPatch, captured_logs: list[Any]
) -> None:
    recorder = TrafficRecorder(db, max_attempts=2)
    monkeypatch.setattr(db, "transaction", failing_transaction(db, 2))
    recorder.record(entry(0))
    await recorder.flush()
    await recorder.flush()
    assert recorder.dropped == 1 and recorder.pending == 0
    assert [log["count"] for log in events(captured_logs, "traffic.dropped")] == [1]
    recorder.record(entry(1))
    await recorder.flush()
    assert [v.request_id for v in await recent(db)] == ["req-1"]


async def test_the_background_task_survives_a_disposed_engine(db: Database) -> None:
    recorder = TrafficRecorder(db, flush_interval=0.01)
    recorder.start()
    await db.engine.dispose()  # the pool reconnects: the point is that nothing escapes the task
    recorder.record(entry(0))
    for _ in range(200):
        if recorder.pending == 0:
            break
        await _tick()
    await recorder.stop()
    assert len(await recent(db)) == 1


async def test_values_too_long_for_their_columns_are_cut_not_refused(db: Database) -> None:
    recorder = TrafficRecorder(db)
    recorder.record(
        entry(0, request_id="r" * 300, sender="X" * 40, module="m" * 40, path="/ocpi/\x00" + "p" * 3000)
    )
    assert await recorder.flush() == 1
    (view,) = await recent(db)
    assert len(view.request_id or "") == 64 and len(view.sender or "") == 16 and len(view.module) == 32
    assert "\x00" not in view.path


async def test_short_nul_and_undecodable_values_are_cleaned_and_unicode_kept(db: Database) -> None:
    recorder = TrafficRecorder(db)
    recorder.record(entry(0, path="/ocpi/\udcff/x", sender="A\x00B", correlation_id="Zürich-1"))
    assert await recorder.flush() == 1
    (view,) = await recent(db)
    assert view.path == "/ocpi/?/x" and view.sender == "AB" and view.correlation_id == "Zürich-1"


# --- inbound -------------------------------------------------------------------------------------------


async def located(request: web.Request) -> web.Response:
    request[CALLER_PARTY] = 7  # what hub/ocpi/auth.py does once it knows the token
    body = {"data": [{"id": "LOC1"}] * 200, "status_code": 1000, "timestamp": "2024-05-01T12:00:00Z"}
    return web.json_response(body)


async def unroutable(request: web.Request) -> web.Response:
    raise errors.UnknownReceiver("nobody is NL-XXX")


async def unauthenticated(request: web.Request) -> web.Response:
    raise errors.NotAuthenticated("unknown credentials token")


async def broken(request: web.Request) -> web.Response:
    raise RuntimeError("a bug")


async def oicp_authorize(request: web.Request) -> web.Response:
    body = {"AuthorizationStatus": "Authorized", "StatusCode": {"Code": "000", "Description": "ok"}}
    return web.json_response(body)


async def plain(request: web.Request) -> web.Response:
    return web.json_response({"status_code": 1000})


def traffic_app(db: Database, recorder: TrafficRecorder, middlewares: list[Any]) -> web.Application:
    app = web.Application(middlewares=middlewares)
    app[METRICS] = Metrics()
    app[DB] = db
    app[TRAFFIC] = recorder
    app.router.add_routes(
        [
            web.get("/ocpi/versions", plain),
            web.get("/ocpi/2.2.1", plain),
            web.get("/ocpi/2.2.1/sender/locations", located),
            web.post("/ocpi/2.2.1/receiver/commands/START_SESSION", unroutable),
            web.get("/ocpi/2.2.1/credentials", unauthenticated),
            web.get("/ocpi/2.2.1/sender/tariffs", broken),
            web.post("/api/oicp/charging/v21/operators/{op}/authorize/start", oicp_authorize),
            web.get("/healthz", plain),
            web.get("/ocpix", plain),
            web.get("/admin/api/traffic", traffic.list_traffic),
        ]
    )
    return app


Recorded = tuple[TestClient[web.Request, web.Application], TrafficRecorder]
OUTERMOST = [record_inbound, request_context]
INSIDE = [request_context, record_inbound]


@pytest.fixture(params=[OUTERMOST, INSIDE], ids=["outermost", "inside"])
async def recorded(request: pytest.FixtureRequest, aiohttp_client: Any, db: Database) -> Recorded:
    recorder = TrafficRecorder(db)
    client = await aiohttp_client(traffic_app(db, recorder, request.param))
    return client, recorder


async def test_an_ocpi_request_is_recorded_with_ids_parties_and_status(
    recorded: Recorded, db: Database
) -> None:
    client, recorder = recorded
    headers = {
        "X-Request-ID": "req-abc",
        "X-Correlation-ID": "corr-abc",
        "OCPI-from-country-code": "NL",
        "OCPI-from-party-id": "EMA",
        "OCPI-to-country-code": "NL",
        "OCPI-to-party-id": "CPA",
    }
    response = await client.get("/ocpi/2.2.1/sender/locations", headers=headers)
    assert response.status == 200
    await recorder.flush()
    (view,) = await recent(db)
    assert (view.direction, view.protocol, view.module, view.method) == ("in", "ocpi", "locations", "GET")
    assert (view.sender, view.receiver, view.party_fk) == ("NL-EMA", "NL-CPA", 7)
    assert (view.http_status, view.status_code) == (200, "1000")  # found after 200 objects of data
    assert (view.request_id, view.correlation_id) == ("req-abc", "corr-abc")
    assert view.latency_ms is not None and view.latency_ms >= 0


async def test_query_strings_and_tokens_are_never_stored(recorded: Recorded, db: Database) -> None:
    client, recorder = recorded
    await client.get(
        "/ocpi/2.2.1/sender/locations?response_url=http://x/secret&offset=10",
        headers={"Authorization": "Token secret-xyz"},
    )
    await recorder.flush()
    (row,) = await all_rows(db)
    assert row.path == "/ocpi/2.2.1/sender/locations"
    for value in row.model_dump().values():
        assert "secret" not in str(value) and "xyz" not in str(value)


@pytest.mark.parametrize(
    ("method", "path", "module", "http_status", "status_code"),
    [
        ("POST", "/ocpi/2.2.1/receiver/commands/START_SESSION", "commands", 200, "4001"),
        ("GET", "/ocpi/2.2.1/credentials", "credentials", 401, "2000"),
        ("GET", "/ocpi/2.2.1/sender/nothing", "nothing", 404, "2000"),
        ("GET", "/ocpi/versions", "versions", 200, "1000"),
        ("GET", "/ocpi/2.2.1", "versions", 200, "1000"),
    ],
)
async def test_error_answers_are_recorded_with_their_status(
    recorded: Recorded,
    db: Database,
    method: str,
    path: str,
    module: str,
    http_status: int,
    status_code: str | None,
) -> None:
    client, recorder = recorded
    response = await client.request(method, path)
    assert response.status == http_status
    await recorder.flush()
    (view,) = await recent(db)
    assert (view.module, view.http_status) == (module, http_status)
    if client.app.middlewares[0] is record_inbound:
        assert view.status_code == status_code
    else:  # inside request_context, aiohttp's own 404 is seen before it becomes an envelope
        assert view.status_code in (status_code, None)
    assert view.request_id == response.headers["X-Request-ID"]


async def test_an_unexpected_error_is_recorded_as_500_3000(recorded: Recorded, db: Database) -> None:
    client, recorder = recorded
    response = await client.get("/ocpi/2.2.1/sender/tariffs")
    assert response.status == 500
    await recorder.flush()
    (view,) = await recent(db)
    assert (view.http_status, view.status_code) == (500, "3000")


async def test_oicp_requests_are_recorded_by_service(recorded: Recorded, db: Database) -> None:
    client, recorder = recorded
    await client.post("/api/oicp/charging/v21/operators/DE*ABC/authorize/start", json={})
    await recorder.flush()
    (view,) = await recent(db)
    assert (view.protocol, view.module, view.status_code) == ("oicp", "charging", "000")
    assert view.path == "/api/oicp/charging/v21/operators/DE*ABC/authorize/start"


async def test_other_paths_are_not_recorded(recorded: Recorded) -> None:
    client, recorder = recorded
    await client.get("/healthz")
    await client.get("/ocpix")
    await client.get("/admin/api/traffic")
    assert recorder.pending == 0


async def test_without_a_recorder_requests_pass_untouched(aiohttp_client: Any, db: Database) -> None:
    app = traffic_app(db, TrafficRecorder(db), OUTERMOST)
    del app[TRAFFIC]
    client = await aiohttp_client(app)
    assert (await client.get("/ocpi/versions")).status == 200


# --- outbound ------------------------------------------------------------------------------------------


async def test_outbound_calls_keep_ids_and_routing_headers_but_no_token_or_query(db: Database) -> None:
    recorder = TrafficRecorder(db)
    sent = {
        "Authorization": "Token c2VjcmV0LXh5eg==",
        "X-Request-ID": "out-1",
        "X-Correlation-ID": "corr-9",
        "OCPI-from-country-code": "NL",
        "OCPI-from-party-id": "CPA",
        "OCPI-to-country-code": "DE",
        "OCPI-to-party-id": "EMB",
        "Content-Type": "application/json",
    }
    url = "https://user:pw@emsp.example:8443/ocpi/emsp/2.2.1/tokens/NL/CPA/123/authorize?type=RFID"
    traffic.observe_outbound(recorder, "post", url, sent, 200, 1000, 12.3456, party_fk=3)
    await recorder.flush()
    (row,) = await all_rows(db)
    assert (row.direction, row.module, row.method, row.party_fk) == ("out", "tokens", "POST", 3)
    assert row.path == "https://emsp.example:8443/ocpi/emsp/2.2.1/tokens/NL/CPA/123/authorize"
    assert (row.sender, row.receiver, row.request_id, row.correlation_id) == (
        "NL-CPA",
        "DE-EMB",
        "out-1",
        "corr-9",
    )
    assert (row.http_status, row.status_code, row.latency_ms) == (200, "1000", 12.346)
    assert not any("c2VjcmV0" in str(value) or "pw" in str(value) for value in row.model_dump().values())


@pytest.mark.parametrize(
    ("error", "code"), [(errors.ForwardTimeout, "4002"), (errors.ReceiverNotConnected, "4003")]
)
async def test_failed_outbound_calls_have_no_http_status(
    db: Database, error: type[errors.HubError], code: str
) -> None:
    recorder = TrafficRecorder(db)
    url = "http://cpo.example/ocpi/cpo/2.2.1/commands/START_SESSION"
    traffic.observe_outbound(recorder, "POST", url, {}, None, error.ocpi_status, 2000.0)
    await recorder.flush()
    (view,) = await recent(db)
    assert (view.module, view.http_status, view.status_code, view.sender) == ("commands", None, code, None)


@pytest.mark.parametrize(
    ("url", "module"),
    [
        ("https://p.example/ocpi/versions", "versions"),
        ("https://p.example/ocpi/cpo/2.2.1", "versions"),
        ("https://p.example/ocpi/cpo/2.2.1/", "versions"),
        ("https://p.example/ocpi/2.2.1/locations/LOC1/EVSE1", "locations"),
        ("https://p.example/callbacks/abc", ""),
    ],
)
def test_outbound_modules_are_guessed_from_the_path(url: str, module: str) -> None:
    assert traffic._outbound_module(urlsplit(url).path) == module


def test_observing_without_a_recorder_does_nothing() -> None:
    traffic.observe_outbound(None, "GET", "http://x/versions", {}, 200, None, 1.0)


def test_module_names_match_the_hub_endpoints() -> None:
    assert set(FUNCTIONAL_MODULES + CONFIGURATION_MODULES) == traffic.OCPI_MODULES


@pytest.mark.parametrize(
    ("body", "protocol", "expected"),
    [
        (b'{"status_code": 2001, "data": null}', "ocpi", "2001"),
        (b'{"data": "' + b"x" * 5000 + b'", "status_code":1000}', "ocpi", "1000"),
        (
            b'{"data": "' + b"x" * 5000 + b'", "status_code":1000, "status_message": "' + b"y" * 600 + b'"}',
            "ocpi",
            None,
        ),
        (b'{"Result": false, "StatusCode": {"Code": "017"}}', "oicp", "017"),
        (b"not json", "ocpi", None),
    ],
)
def test_sniffing_the_status(body: bytes, protocol: traffic.Protocol, expected: str | None) -> None:
    assert traffic.sniff_status(body, protocol) == expected


# --- admin API and CLI ---------------------------------------------------------------------------------


async def test_admin_api_lists_traffic(recorded: Recorded, db: Database) -> None:
    client, recorder = recorded
    recorder.record(entry(0, party_fk=1))
    recorder.record(entry(1, party_fk=2, direction="out"))
    await recorder.flush()
    response = await client.get("/admin/api/traffic", params={"party": "2", "limit": "5"})
    assert response.status == 200
    listed = await response.json()
    assert [(item["party_fk"], item["direction"]) for item in listed] == [(2, "out")]
    assert listed[0]["at"].startswith("2024-05-01T12:00:01")
    response = await client.get(
        "/admin/api/traffic", params={"direction": "out", "since": "2024-05-01T12:00:00Z"}
    )
    assert len(await response.json()) == 1


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"limit": "ten"}, "limit"),
        ({"limit": "0"}, "limit"),
        ({"party": "-1"}, "party"),
        ({"direction": "sideways"}, "direction"),
        ({"since": "yesterday"}, "since"),
        ({"since": "2024-05-01T12:00:00"}, "since"),
    ],
)
async def test_admin_api_refuses_bad_parameters_naming_them(
    recorded: Recorded, query: dict[str, str], field: str
) -> None:
    client, _ = recorded
    response = await client.get("/admin/api/traffic", params=query)
    assert response.status == 400
    assert (await response.json())["field"] == field


def cli_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="roamhub")
    traffic.add_parser(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(["traffic", *argv])


async def test_cli_prints_a_table_and_json(
    db: Database, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    recorder = TrafficRecorder(db)
    recorder.record(entry(0))
    recorder.record(
        entry(1, direction="out", module="cdrs", method="POST", http_status=None, status_code="4002")
    )
    await recorder.flush()

    args = cli_args([])
    assert args.run is traffic.cmd_traffic
    assert await traffic.cmd_traffic(args, settings) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == [
        "TIME",
        "DIR",
        "MODULE",
        "METHOD",
        "PATH",
        "FROM",
        "→",
        "TO",
        "HTTP",
        "STATUS",
        "MS",
    ]
    assert lines[1].split()[2:] == [
        "out",
        "cdrs",
        "POST",
        "/ocpi/2.2.1/sender/locations",
        "NL-CPA",
        "→",
        "NL-EMA",
        "4002",
        "1.5",
    ]
    assert lines[2].split()[0] == "2024-05-01" and "1000" in lines[2]

    assert await traffic.cmd_traffic(cli_args(["--json", "--module", "CDRS", "--limit", "5"]), settings) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(item["module"], item["status_code"]) for item in listed] == [("cdrs", "4002")]


async def test_cli_says_when_there_is_no_traffic(
    db: Database, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await traffic.cmd_traffic(cli_args(["--direction", "in"]), settings) == 0
    assert capsys.readouterr().out.strip() == "No traffic recorded yet."


async def test_cli_refuses_a_bad_limit(db: Database, settings: Settings) -> None:
    with pytest.raises(errors.InvalidParameters):
        await traffic.cmd_traffic(cli_args(["--limit", "0"]), settings)
