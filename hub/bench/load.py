"""A load-generator process: aiohttp clients against one target, one JSON line of figures on stdout.

Modes:

* ``saturate``: C concurrent workers, each sending the next request as soon as the last is answered, for
  D seconds; counts completions (throughput at saturation).
* ``rate``: an open loop at R requests/s for D seconds; each latency runs from the moment the request was
  *due*, so a target that falls behind is charged for the queue it causes (no coordinated omission).
* ``fanout``: the bare-client baseline of the fan-out scenario: every update is PATCHed to every receiver
  directly, at most W updates and C requests in flight (the hub's broadcaster allows 64 requests).

Kinds: ``authorize`` (OCPI real-time authorisation), ``cdr`` (OCPI CDR POST) and ``oicp-authorize``
(OICP eRoamingAuthorizeStart over mutual TLS, presenting the client certificate ``--cert``/``--key``
issued by the hub's CA and trusting only ``--ca``, as a real CPO does).

A warm-up of the same workload may precede the measurement (``--warmup``); it is not measured. Connections
are kept alive and reused throughout (one pool per process); the result says how many were opened. Only
answers with HTTP 2xx and OCPI ``status_code`` 1000 count as completed, or for OICP HTTP 200 with
``AuthorizationStatus`` Authorized.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import ssl
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from hub.bench import (
    AUTHORIZE_BODY,
    HUB,
    TOKEN_UID,
    cdr_id,
    cdr_payload,
    emit,
    evse_patch,
    ocpi_headers,
    ocpi_time,
    oicp_wire,
    parse_party,
    percentiles_ms,
)

REQUEST_TIMEOUT = 10.0
MAX_IN_FLIGHT = 2000  # rate mode: beyond this many unanswered requests, due requests are skipped


Verdict = Callable[[int, bytes], str | None]  # HTTP status, body -> None when the answer counts


@dataclass
class Request:
    method: str
    url: str
    body: bytes
    headers: dict[str, str]
    cdr_id: str | None = None


@dataclass
class Tally:
    """What one phase (warm-up or measurement) produced."""

    started: float = field(default_factory=time.time)
    ended: float = 0.0
    completed: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    acked_ids: list[str] = field(default_factory=list)
    skipped: int = 0

    def figures(self) -> dict[str, Any]:
        elapsed = max(self.ended - self.started, 1e-9)
        return {
            "started_at": self.started,
            "ended_at": self.ended,
            "seconds": round(elapsed, 3),
            "completed": self.completed,
            "errors": sum(self.errors.values()),
            "error_kinds": dict(self.errors.most_common(5)),
            "per_s": round(self.completed / elapsed, 2),
            "latency_ms": percentiles_ms(self.latencies),
            "skipped": self.skipped,
        }


class Workload:
    """Builds the requests of one kind for one target; the same bytes whatever the target."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.kind: str = args.kind
        self.base: str = args.url.rstrip("/")
        self.headers = ocpi_headers(args.token, parse_party(args.sender), parse_party(args.receiver))
        # cdr kind: the CPOs whose CDRs these are, taken in turn (--senders), else --from alone
        given = json.loads(args.senders) if args.senders else [[args.sender, args.token]]
        receiver = parse_party(args.receiver)
        self.senders = [
            (parse_party(party), ocpi_headers(token, parse_party(party), receiver)) for party, token in given
        ]
        self.prefix: str = args.prefix
        self.verdict: Verdict = oicp_wire.verdict if self.kind == "oicp-authorize" else ocpi_verdict
        self._seq = itertools.count()

    def next(self, worker: int, phase: str) -> Request:
        if self.kind == "oicp-authorize":
            body = oicp_wire.authorize_start_body(f"bench-{phase}{worker}-{next(self._seq)}")
            return Request("POST", self.base + oicp_wire.AUTHORIZE_START_PATH, body, OICP_HEADERS)
        if self.kind == "authorize":
            url = f"{self.base}/{TOKEN_UID}/authorize?type=RFID"
            return Request("POST", url, AUTHORIZE_BODY, ocpi_request_headers(self.headers))
        seq = next(self._seq)
        cpo, cpo_headers = self.senders[seq % len(self.senders)]
        ident = cdr_id(f"{self.prefix}{phase}", worker, seq, time.time())
        body = json.dumps(cdr_payload(ident, cpo), separators=(",", ":")).encode()
        return Request("POST", self.base, body, ocpi_request_headers(cpo_headers), cdr_id=ident)


OICP_HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}


def ocpi_request_headers(base: dict[str, str]) -> dict[str, str]:
    return {**base, "X-Request-ID": str(uuid.uuid4()), "X-Correlation-ID": str(uuid.uuid4())}


def ocpi_verdict(status: int, raw: bytes) -> str | None:
    """None when the answer is HTTP 2xx with OCPI 1000; else a short reason."""
    if status >= 300:
        return f"HTTP {status}"
    try:
        status_code = json.loads(raw).get("status_code")
    except (ValueError, AttributeError):
        return "not JSON"
    return None if status_code == 1000 else f"OCPI {status_code}"


async def send(
    http: aiohttp.ClientSession,
    method: str,
    url: str,
    body: bytes,
    headers: dict[str, str],
    verdict: Verdict = ocpi_verdict,
) -> str | None:
    """None when the answer counts (``verdict``); else a short reason."""
    try:
        async with http.request(method, url, data=body, headers=headers) as response:
            raw = await response.read()
    except (aiohttp.ClientError, TimeoutError) as exc:
        return type(exc).__name__
    return verdict(response.status, raw)


async def _one(http: aiohttp.ClientSession, load: Workload, tally: Tally, worker: int, phase: str) -> float:
    request = load.next(worker, phase)
    started = time.perf_counter()
    error = await send(http, request.method, request.url, request.body, request.headers, load.verdict)
    if error is None:
        tally.completed += 1
        if request.cdr_id is not None:
            tally.acked_ids.append(request.cdr_id)
    else:
        tally.errors[error] += 1
    return time.perf_counter() - started


async def saturate(
    http: aiohttp.ClientSession, load: Workload, seconds: float, workers: int, phase: str
) -> Tally:
    tally = Tally()
    deadline = time.perf_counter() + seconds

    async def worker(number: int) -> None:
        while time.perf_counter() < deadline:
            tally.latencies.append(await _one(http, load, tally, number, phase))

    await asyncio.gather(*(worker(n) for n in range(workers)))
    tally.ended = time.time()
    return tally


async def at_rate(
    http: aiohttp.ClientSession, load: Workload, seconds: float, rate: float, phase: str
) -> Tally:
    tally = Tally()
    in_flight: set[asyncio.Task[None]] = set()
    start = time.perf_counter()

    async def timed(due: float) -> None:
        await _one(http, load, tally, 0, phase)
        tally.latencies.append(time.perf_counter() - due)

    for number in itertools.count():
        due = start + number / rate
        if due >= start + seconds:
            break
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        if len(in_flight) >= MAX_IN_FLIGHT:
            tally.skipped += 1
            continue
        task = asyncio.create_task(timed(due))
        in_flight.add(task)
        task.add_done_callback(in_flight.discard)
    if in_flight:
        await asyncio.wait(in_flight, timeout=REQUEST_TIMEOUT)
    tally.ended = time.time()
    return tally


# --- the bare fan-out client -------------------------------------------------------------------------


@dataclass(frozen=True)
class Receiver:
    url: str
    headers: dict[str, str]


def receivers_from(path: str) -> list[Receiver]:
    """The targets file (written by the orchestrator from the partners' info): url, token, party each."""
    entries = json.loads(Path(path).read_text())
    return [
        Receiver(entry["url"], ocpi_headers(entry["token"], HUB, parse_party(entry["party"])))
        for entry in entries
    ]


async def fan_out(
    http: aiohttp.ClientSession, receivers: list[Receiver], seconds: float, window: int, concurrency: int
) -> Tally:
    """What a plain client achieves: each update to every receiver, the same PATCH the hub sends."""
    tally = Tally()
    limit = asyncio.Semaphore(concurrency)
    deadline = time.perf_counter() + seconds
    statuses = itertools.cycle(("CHARGING", "AVAILABLE"))

    async def deliver(receiver: Receiver, body: bytes) -> None:
        async with limit:
            error = await send(http, "PATCH", receiver.url, body, ocpi_request_headers(receiver.headers))
        if error is None:
            tally.completed += 1
        else:
            tally.errors[error] += 1

    async def updater() -> None:
        while time.perf_counter() < deadline:
            body = json.dumps(evse_patch(next(statuses), ocpi_time())).encode()
            started = time.perf_counter()
            await asyncio.gather(*(deliver(receiver, body) for receiver in receivers))
            tally.latencies.append(time.perf_counter() - started)

    await asyncio.gather(*(updater() for _ in range(window)))
    tally.ended = time.time()
    return tally


# --- the process -------------------------------------------------------------------------------------


def _phase_runner(
    args: argparse.Namespace, http: aiohttp.ClientSession
) -> Callable[[float, str], Awaitable[Tally]]:
    if args.mode == "fanout":
        receivers = receivers_from(args.targets)
        return lambda seconds, _phase: fan_out(http, receivers, seconds, args.window, args.concurrency)
    load = Workload(args)
    if args.mode == "rate":
        return lambda seconds, phase: at_rate(http, load, seconds, args.rate, phase)
    return lambda seconds, phase: saturate(http, load, seconds, args.concurrency, phase)


def _tls(args: argparse.Namespace) -> ssl.SSLContext | None:
    if args.kind != "oicp-authorize":
        return None
    if not (args.cert and args.key and args.ca):
        raise SystemExit("hub.bench.load: --kind oicp-authorize needs --cert, --key and --ca")
    return oicp_wire.client_context(args.cert, args.key, args.ca)


def _connection_counter(opened: Counter[str]) -> aiohttp.TraceConfig:
    """Counts the connections the pool opens: with keep-alive, about one per request in flight."""

    async def created(*_: Any) -> None:
        opened["connections"] += 1

    trace = aiohttp.TraceConfig()
    trace.on_connection_create_end.append(created)
    return trace


async def run(args: argparse.Namespace) -> tuple[dict[str, Any], list[str]]:
    """The figures of the measurement, and the ids of every acknowledged CDR (warm-up included)."""
    limit = args.concurrency if args.mode != "rate" else MAX_IN_FLIGHT
    tls = _tls(args)
    connector = aiohttp.TCPConnector(limit=limit, limit_per_host=limit, ssl=tls if tls is not None else True)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
    opened: Counter[str] = Counter()
    async with aiohttp.ClientSession(
        connector=connector,
        timeout=timeout,
        auto_decompress=False,
        trace_configs=[_connection_counter(opened)],
    ) as http:
        phase = _phase_runner(args, http)
        warm = await phase(args.warmup, "w") if args.warmup > 0 else Tally(ended=time.time())
        measured = await phase(args.seconds, "m")
    result = {"mode": args.mode, "kind": args.kind, **measured.figures()}
    result["connections_opened"] = opened["connections"]
    result["warmup"] = {
        "seconds": args.warmup,
        "completed": warm.completed,
        "errors": sum(warm.errors.values()),
    }
    if args.mode == "rate":
        result["rate"] = args.rate
    if args.mode == "fanout":
        result |= {
            "window": args.window,
            "updates": len(measured.latencies),
            "deliveries": measured.completed,
        }
    return result, [*warm.acked_ids, *measured.acked_ids]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m hub.bench.load", description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=["saturate", "rate", "fanout"])
    parser.add_argument("--kind", choices=["authorize", "cdr", "oicp-authorize"], default="authorize")
    parser.add_argument(
        "--url", default="", help="the module endpoint (tokens Sender, cdrs Receiver) or the OICP base URL"
    )
    parser.add_argument("--cert", help="oicp-authorize: the CPO's client certificate (roamhub pki issue)")
    parser.add_argument("--key", help="oicp-authorize: its private key")
    parser.add_argument("--ca", help="oicp-authorize: the hub's CA certificate, the only one trusted")
    parser.add_argument("--token", default="", help="the credentials token the target accepts")
    parser.add_argument("--from", dest="sender", default="NL-CPA", metavar="CC-PID")
    parser.add_argument(
        "--senders", help='cdr kind: JSON [["CC-PID", "token"], ...], the CPOs POSTing CDRs in turn'
    )
    parser.add_argument("--to", dest="receiver", default="DE-EMA", metavar="CC-PID")
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--warmup", type=float, default=0.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rate", type=float, default=100.0, help="rate mode: requests per second")
    parser.add_argument("--prefix", default="H", help="cdr kind: first letter(s) of every CDR id")
    parser.add_argument("--ids-out", help="cdr kind: write the ids of every acknowledged CDR here")
    parser.add_argument("--targets", help="fanout mode: JSON file of receivers (url, token, party)")
    parser.add_argument("--window", type=int, default=4, help="fanout mode: updates in flight")
    return parser


def main() -> None:
    args = build_parser().parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        result, acked_ids = asyncio.run(run(args))
        if args.ids_out:
            Path(args.ids_out).write_text("".join(f"{ident}\n" for ident in acked_ids))
        emit(result)


if __name__ == "__main__":
    main()
