"""The traffic log: every OCPI and OICP message in and out of the hub, for the operator to look at.

Recording must never slow down or break a request, so :meth:`TrafficRecorder.record` only appends to an
in-memory buffer and a background task writes the buffer in batches (one multi-row INSERT each). The
buffer is bounded: when the database cannot keep up, the oldest entries are dropped and counted.

What is kept: when, which way, module, method, path (never the query string: it may hold a
``response_url``), parties, outcome, latency and the request/correlation ids. Never a token nor any header
other than the ids and the OCPI routing headers (DESIGN.md, Logs).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import time
from collections import deque
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any, Literal, get_args
from urllib.parse import urlsplit

import structlog
from aiohttp import web
from aiohttp.typedefs import Handler
from pydantic import BaseModel, ConfigDict
from sqlalchemy import insert, select
from sqlmodel import col

from hub.cli import output
from hub.config import Settings
from hub.errors import HubError, InvalidParameters
from hub.keys import DB
from hub.middleware import (
    CORRELATION_ID,
    OICP_PREFIX,
    REQUEST_ID,
    PartnerProtocol,
    partner_protocol,
    render_error,
)
from hub.ocpi.routing_headers import FROM_COUNTRY, FROM_PARTY, TO_COUNTRY, TO_PARTY
from hub.store import migrate
from hub.store.db import Database
from hub.store.models import TrafficRecord
from hub.store.types import utcnow
from hub.validation import parse_id, parse_time

log = structlog.get_logger("hub.traffic")

Direction = Literal["in", "out"]
Protocol = PartnerProtocol
DIRECTIONS: tuple[str, ...] = get_args(Direction)

# The OCPI module identifiers (hub/ocpi/endpoints.py, checked equal in the tests). Not imported from
# there: hub.ocpi.client imports this module, and endpoints imports the client through its context.
OCPI_MODULES = frozenset(
    {"cdrs", "chargingprofiles", "commands", "credentials", "hubclientinfo", "locations", "sessions"}
    | {"tariffs", "tokens", "versions"}
)

# The authenticated caller's party id; hub/ocpi/auth.py sets it once the token is known.
CALLER_PARTY = web.RequestKey("caller_party", int)

MAX_LIMIT = 1000
_PATH_CHARS = 2000
_SNIFF_BYTES = 512
_OCPI_STATUS = re.compile(rb'"status_code"\s*:\s*(\d+)')
_OICP_STATUS = re.compile(rb'"Code"\s*:\s*"(\d+)"')
_VERSION = re.compile(r"\d+(\.\d+)+")
_MAX_BACKOFF = 30.0


@dataclass(frozen=True, slots=True)
class TrafficEntry:
    """One message, as the ``traffic`` table keeps it."""

    at: datetime
    direction: Direction
    protocol: Protocol
    module: str
    method: str
    path: str
    party_fk: int | None = None
    sender: str | None = None
    receiver: str | None = None
    http_status: int | None = None
    status_code: str | None = None
    latency_ms: float | None = None
    request_id: str | None = None
    correlation_id: str | None = None


# Column widths of the traffic table: values come from partners' headers and paths, so they are cut to
# fit rather than failing a whole batch on PostgreSQL (SQLite would not even notice).
_WIDTHS = {
    "module": 32,
    "method": 8,
    "path": _PATH_CHARS,
    "sender": 16,
    "receiver": 16,
    "status_code": 8,
    "request_id": 64,
    "correlation_id": 64,
}


def _clean(value: str, width: int) -> str:
    # PostgreSQL text refuses NUL, and UTF-8 refuses the lone surrogates aiohttp uses for undecodable bytes.
    if len(value) <= width and value.isascii() and "\x00" not in value:
        return value  # the usual case, and no surrogate is ASCII
    text = value[:width].replace("\x00", "")
    return text.encode("utf-8", "replace").decode("utf-8")


_FIELDS = tuple(field.name for field in fields(TrafficEntry))


def _row(entry: TrafficEntry) -> dict[str, Any]:
    # Not dataclasses.asdict: it deep-copies every value, and the recorder's flush writes every message.
    row = {name: getattr(entry, name) for name in _FIELDS}
    for name, width in _WIDTHS.items():
        value = row[name]
        if isinstance(value, str):
            row[name] = _clean(value, width)
    return row


# On the table, not the entity: the ORM's bulk path costs more than the insert itself, and the recorder
# writes a row for every message (fifty per status update fanned out to fifty eMSPs).
_INSERT = insert(TrafficRecord.__table__)  # type: ignore[attr-defined]


class TrafficRecorder:
    """Buffers entries in memory and writes them in batches from one background task per process."""

    def __init__(
        self,
        db: Database,
        *,
        flush_interval: float = 0.5,
        max_buffer: int = 10_000,
        batch_size: int = 500,
        max_attempts: int = 5,
    ) -> None:
        self._db = db
        self._interval = flush_interval
        # 500 rows x 14 columns stays far below the bind-parameter limits of SQLite and PostgreSQL.
        self._batch_size = batch_size
        self._max_attempts = max_attempts
        self._buffer: deque[TrafficEntry] = deque(maxlen=max_buffer)
        # The batch being written, or that failed and waits for its retry: out of the buffer, not yet stored.
        self._batch: list[TrafficEntry] = []
        self._attempts = 0
        self._unreported_drops = 0
        self.dropped = 0
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    def record(self, entry: TrafficEntry) -> None:
        """Queue one entry; O(1), never waits and never raises."""
        if len(self._buffer) == self._buffer.maxlen:
            self._count_drops(1)  # the deque's maxlen pushes the oldest out
        self._buffer.append(entry)
        if len(self._buffer) >= self._batch_size:
            self._wake.set()

    @property
    def pending(self) -> int:
        return len(self._buffer) + len(self._batch)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="traffic-recorder")

    async def stop(self) -> None:
        """Stop the background task, then write what is left (one try per batch: shutdown must not hang)."""
        if self._task is not None:
            async with self._lock:  # never cancel a write half way
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
            self._task = None
        await self.flush()
        if self.pending:
            log.error("traffic.unwritten", count=self.pending)

    async def _run(self) -> None:
        while True:
            await self._wait()
            try:
                await self.flush()
            except Exception:  # a bug here must not end the recording for the life of the process
                log.exception("traffic.cycle_failed")

    async def _wait(self) -> None:
        if self._attempts:
            # The last write failed: back off, however full the buffer (it sheds the oldest meanwhile).
            await asyncio.sleep(min(_MAX_BACKOFF, self._interval * 2**self._attempts))
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self._interval):  # not wait_for: it can swallow a cancellation on 3.11
                await self._wake.wait()
        self._wake.clear()

    async def flush(self) -> int:
        """Write everything buffered, batch by batch; stops at the first failure. Returns rows written."""
        written = 0
        async with self._lock:
            while batch := self._next_batch():
                if not await self._write(batch):
                    break
                written += len(batch)
            self._report_drops()
        return written

    def _next_batch(self) -> list[TrafficEntry]:
        if not self._batch:
            count = min(self._batch_size, len(self._buffer))
            self._batch = [self._buffer.popleft() for _ in range(count)]
        return self._batch

    async def _write(self, batch: list[TrafficEntry]) -> bool:
        try:
            async with self._db.transaction() as session:
                # One statement with a list of parameter sets: compiled once and cached, run as the
                # driver's executemany (a VALUES list per batch would be compiled anew every time).
                await session.execute(_INSERT, [_row(entry) for entry in batch])
        except Exception as exc:
            self._failed(batch, exc)
            return False
        self._batch, self._attempts = [], 0
        return True

    def _failed(self, batch: list[TrafficEntry], exc: Exception) -> None:
        """Keep the batch for the next flush, a bounded number of times, so a dead database costs memory
        for at most ``max_buffer`` entries plus one batch."""
        self._attempts += 1
        detail = str(getattr(exc, "orig", None) or exc)[:200]  # SQLAlchemy's own text repeats all parameters
        log.error("traffic.flush_failed", error=type(exc).__name__, detail=detail, attempt=self._attempts)
        if self._attempts >= self._max_attempts:
            self._count_drops(len(batch))
            self._batch, self._attempts = [], 0

    def _count_drops(self, count: int) -> None:
        self.dropped += count
        self._unreported_drops += count

    def _report_drops(self) -> None:
        if self._unreported_drops:
            log.warning("traffic.dropped", count=self._unreported_drops, total=self.dropped)
            self._unreported_drops = 0


TRAFFIC = web.AppKey("traffic", TrafficRecorder)


async def lifecycle(app: web.Application) -> AsyncIterator[None]:
    """``cleanup_ctx``: after the database is open, before anything that calls partners."""
    recorder = TrafficRecorder(app[DB])
    app[TRAFFIC] = recorder
    recorder.start()
    yield
    await recorder.stop()


# --- inbound -------------------------------------------------------------------------------------------


def _ocpi_module(segments: list[str]) -> str:
    """``/ocpi/2.2.1/sender/locations/...`` is ``locations``; ``/ocpi/versions`` and ``/ocpi/2.2.1`` are
    ``versions`` (the version details belong to the versions module, 2.2.1 §6)."""
    for index, segment in enumerate(segments):
        if segment in ("sender", "receiver") and index + 1 < len(segments):
            return segments[index + 1]
        if segment in OCPI_MODULES:
            return segment
    return "versions" if len(segments) == 2 and _VERSION.fullmatch(segments[1]) else ""


def _inbound_module(path: str, protocol: Protocol) -> str:
    if protocol == "ocpi":
        return _ocpi_module(path.strip("/").split("/"))
    # OICP: the service segment after /api/oicp (charging, evsepush, cdrmgmt ...).
    return path[len(OICP_PREFIX) :].strip("/").partition("/")[0]


def _party(headers: Mapping[str, str], country: str, party: str) -> str | None:
    cc, pid = headers.get(country), headers.get(party)
    return f"{cc}-{pid}" if cc and pid else None


def sniff_status(body: bytes, protocol: Protocol) -> str | None:
    """The OCPI ``status_code`` or OICP ``StatusCode.Code`` of a JSON answer, without parsing the body.

    Only the head and the tail are searched: OCPI envelopes may put the status before or after ``data``
    (the hub writes it after), and ``data`` is the only part that can be large.
    """
    pattern = _OCPI_STATUS if protocol == "ocpi" else _OICP_STATUS
    found = pattern.search(body[:_SNIFF_BYTES]) or pattern.search(body[-_SNIFF_BYTES:])
    return found.group(1).decode("ascii") if found else None


def _outcome(response: web.StreamResponse, protocol: Protocol) -> tuple[int, str | None]:
    body = response.body if isinstance(response, web.Response) else None
    return response.status, sniff_status(body, protocol) if isinstance(body, bytes) else None


def _inbound_entry(
    request: web.Request, protocol: Protocol, at: datetime, started: float, outcome: tuple[int, str | None]
) -> TrafficEntry:
    raw_path = request.rel_url.raw_path  # percent-encoded and without the query string
    return TrafficEntry(
        at=at,
        direction="in",
        protocol=protocol,
        module=_inbound_module(raw_path, protocol),
        method=request.method,
        path=raw_path,
        party_fk=request.get(CALLER_PARTY),
        sender=_party(request.headers, FROM_COUNTRY, FROM_PARTY),
        receiver=_party(request.headers, TO_COUNTRY, TO_PARTY),
        http_status=outcome[0],
        status_code=outcome[1],
        latency_ms=_elapsed_ms(started),
        request_id=request.get(REQUEST_ID),
        correlation_id=request.get(CORRELATION_ID),
    )


def _elapsed_ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)


@web.middleware
async def record_inbound(request: web.Request, handler: Handler) -> web.StreamResponse:
    """One ``in`` entry per OCPI or OICP request.

    Best placed before ``request_context`` (outermost): it then sees every answer as sent, errors
    included. Placed inside, it renders a :class:`HubError` the same way to learn its status.
    """
    recorder = request.app.get(TRAFFIC)
    protocol = partner_protocol(request.path)
    if recorder is None or protocol is None:
        return await handler(request)
    at, started = utcnow(), time.perf_counter()
    outcome: tuple[int, str | None] | None = None  # stays None if the client went away (cancelled)
    try:
        response = await handler(request)
        outcome = _outcome(response, protocol)
        return response
    except web.HTTPException as exc:
        outcome = (exc.status, None)
        raise
    except Exception as exc:
        # Only when placed inside request_context: learn the status by rendering the error as it will.
        error = exc if isinstance(exc, HubError) else HubError()
        outcome = _outcome(render_error(request, error), protocol)
        raise
    finally:
        if outcome is not None:
            _safely_record(recorder, request, protocol, at, started, outcome)


def _safely_record(
    recorder: TrafficRecorder,
    request: web.Request,
    protocol: Protocol,
    at: datetime,
    started: float,
    outcome: tuple[int, str | None],
) -> None:
    try:
        recorder.record(_inbound_entry(request, protocol, at, started, outcome))
    except Exception:  # the traffic log is never a reason to fail the request it describes
        log.exception("traffic.record_failed", path=request.path)


# --- outbound ------------------------------------------------------------------------------------------


def _outbound_module(path: str) -> str:
    """The last OCPI module name in a partner's URL path (its layout is the partner's choice); a path
    ending in a version number is that version's details, part of the versions module."""
    segments = [segment for segment in path.split("/") if segment]
    known = [segment for segment in segments if segment in OCPI_MODULES]
    if known:
        return known[-1]
    return "versions" if segments and _VERSION.fullmatch(segments[-1]) else ""


def _without_query(url: str) -> str:
    """Scheme, host and path: no query (it may hold a response_url), no fragment, no user:password."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return f"{parts.scheme}://{netloc}{parts.path}" if parts.scheme else parts.path


def observe_outbound(
    recorder: TrafficRecorder | None,
    method: str,
    url: str,
    request_headers: Mapping[str, str],
    status: int | None,
    status_code: int | str | None,
    latency_ms: float,
    party_fk: int | None = None,
) -> None:
    """Record one call the hub made to an OCPI platform. ``status`` is None when no answer came (give
    ``status_code`` 4002 for a timeout, 4003 for a refused connection). Reads only the ids and routing
    headers from ``request_headers``, never Authorization."""
    if recorder is None:
        return
    try:
        headers = {name.lower(): value for name, value in request_headers.items()}
        recorder.record(
            TrafficEntry(
                at=utcnow() - timedelta(milliseconds=latency_ms),  # when it was sent, as inbound entries
                direction="out",
                protocol="ocpi",
                module=_outbound_module(urlsplit(url).path),
                method=method.upper(),
                path=_without_query(url),
                party_fk=party_fk,
                sender=_party(headers, FROM_COUNTRY.lower(), FROM_PARTY.lower()),
                receiver=_party(headers, TO_COUNTRY.lower(), TO_PARTY.lower()),
                http_status=status,
                status_code=None if status_code is None else str(status_code),
                latency_ms=round(latency_ms, 3),
                request_id=headers.get("x-request-id"),
                correlation_id=headers.get("x-correlation-id"),
            )
        )
    except Exception:  # never let the log break a call to a partner
        log.exception("traffic.record_failed", method=method)


# --- queries -------------------------------------------------------------------------------------------


class TrafficView(BaseModel):
    """One row of the traffic log, as the admin API and ``roamhub traffic --json`` show it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    direction: str
    protocol: str
    module: str
    method: str
    path: str
    party_fk: int | None
    sender: str | None
    receiver: str | None
    http_status: int | None
    status_code: str | None
    latency_ms: float | None
    request_id: str | None
    correlation_id: str | None


async def recent(
    db: Database,
    *,
    limit: int = 50,
    party_fk: int | None = None,
    module: str | None = None,
    direction: str | None = None,
    since: datetime | None = None,
) -> list[TrafficView]:
    """The latest traffic first, optionally for one party, module or direction, or since a moment."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidParameters(f"must be between 1 and {MAX_LIMIT}, not {limit}", field="limit")
    if direction is not None and direction not in DIRECTIONS:
        raise InvalidParameters(f"must be 'in' or 'out', not {direction!r}", field="direction")
    if since is not None and since.tzinfo is None:
        raise InvalidParameters("needs a time zone, e.g. 2024-05-01T12:00:00Z", field="since")
    query = select(TrafficRecord).order_by(col(TrafficRecord.at).desc(), col(TrafficRecord.id).desc())
    if party_fk is not None:
        query = query.where(col(TrafficRecord.party_fk) == party_fk)
    if module:
        query = query.where(col(TrafficRecord.module) == module)
    if direction:
        query = query.where(col(TrafficRecord.direction) == direction)
    if since is not None:
        query = query.where(col(TrafficRecord.at) >= since)
    async with db.session() as session:
        rows = (await session.execute(query.limit(limit))).scalars()
        return [TrafficView.model_validate(row) for row in rows]


# --- admin API -----------------------------------------------------------------------------------------


def _int_query(query: Mapping[str, str], name: str) -> int | None:
    text = query.get(name)
    return None if text is None else parse_id(text, name)


def _since_query(query: Mapping[str, str]) -> datetime | None:
    text = query.get("since")
    return None if text is None else parse_time(text, "since", naive_is_utc=False)


async def list_traffic(request: web.Request) -> web.Response:
    """``GET /admin/api/traffic?limit=&party=&module=&direction=&since=``"""
    query = request.query
    limit = _int_query(query, "limit")
    views = await recent(
        request.app[DB],
        limit=50 if limit is None else limit,
        party_fk=_int_query(query, "party"),
        module=query.get("module"),
        direction=query.get("direction"),
        since=_since_query(query),
    )
    return web.json_response([view.model_dump(mode="json") for view in views])


# --- command line --------------------------------------------------------------------------------------


def add_parser(subparsers: Any) -> None:
    """``roamhub traffic``; ``subparsers`` is what ``ArgumentParser.add_subparsers()`` returned."""
    traffic = subparsers.add_parser("traffic", help="recent OCPI/OICP traffic in and out of the hub")
    traffic.add_argument("--limit", type=int, default=50, help=f"how many, newest first (max {MAX_LIMIT})")
    traffic.add_argument("--party", type=int, metavar="ID", help="only this party's traffic")
    traffic.add_argument("--module", type=str.lower, metavar="M", help="e.g. locations, cdrs, charging")
    traffic.add_argument("--direction", choices=DIRECTIONS)
    traffic.add_argument("--json", action="store_true")
    traffic.set_defaults(run=cmd_traffic)


async def cmd_traffic(args: argparse.Namespace, settings: Settings) -> int:
    views = await migrate.with_database(
        settings.database,
        lambda db: recent(
            db, limit=args.limit, party_fk=args.party, module=args.module, direction=args.direction
        ),
    )
    output.emit_json(views) if args.json else print(traffic_table(views))
    return 0


def _parties(view: TrafficView) -> str:
    if view.sender is None and view.receiver is None:
        return ""
    return f"{view.sender or '?'} → {view.receiver or '?'}"


def traffic_table(views: list[TrafficView]) -> str:
    if not views:
        return "No traffic recorded yet."
    rows = [
        [
            f"{v.at:%Y-%m-%d %H:%M:%S}",
            v.direction,
            v.module,
            v.method,
            v.path,
            _parties(v),
            "" if v.http_status is None else str(v.http_status),
            v.status_code or "",
            "" if v.latency_ms is None else f"{v.latency_ms:.1f}",
        ]
        for v in views
    ]
    return output.table(
        rows, ["TIME", "DIR", "MODULE", "METHOD", "PATH", "FROM → TO", "HTTP", "STATUS", "MS"]
    )
