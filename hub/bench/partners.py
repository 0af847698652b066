"""The partners process: the CPOs, an eMSP and the fan-out receivers, registered with the hub under test.

It reads a setup file (the hub's URL and a token A per party, from the orchestrator), starts one simulated
platform per party (:class:`hub.simulators.OcpiPlatform`), registers them all, publishes the eMSP's token and
the CPO's location (broadcast to every receiver), then prints one JSON line with what the load generators
need (endpoints and tokens) and serves a small control API on 127.0.0.1 until SIGTERM:

* ``GET /info``: the same as the ready line.
* ``GET /cdrs?prefix=H&timed=Hm``: CDRs the eMSP received whose id starts with ``prefix`` (ids, POSTs,
  duplicates) and, for ids starting with ``timed``, the delay from the CPO's POST to the eMSP's receipt.
* ``POST /fanout?seconds=D&window=W``: the CPO PATCHes EVSE status through the hub, at most W updates not yet
  at every receiver; answers deliveries/s and how long each update took to reach every receiver.
* ``GET /receivers``: PATCHes counted per receiver since the last reset, and the rule violations seen.
* ``POST /reset``: forget counted CDRs and PATCHes (the stores too, so memory stays flat).
* ``GET /authorizations``: real-time authorisations asked of the eMSP and of the other receivers, and
  AuthorizeStarts the direct OICP endpoint answered, all since the start (callers take differences).

It also hosts the direct baseline of the OICP scenario (:mod:`hub.bench.oicp_direct`) when the setup
file names the TLS files for it (``oicp``: the hub's CA and server certificate).

The platforms' ``received`` lists are replaced by :class:`Tap`, which looks at each request as it arrives
and keeps none, so a long run does not grow this process.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import signal
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from hub.bench import (
    CPO,
    EMSP,
    EVSE_UID,
    HUB,
    LOCATION_ID,
    emit,
    evse_patch,
    evse_path,
    location_payload,
    ocpi_time,
    oicp_direct,
    parse_party,
    party_text,
    percentiles_ms,
    sent_at_of,
    token_payload,
)
from hub.bench.oicp_wire import server_context
from hub.config import LogSettings
from hub.logs import configure_logging
from hub.simulators import OcpiPlatform, Received

UPDATE_TIMEOUT = 15.0  # an update not at every receiver by then counts as incomplete
SETUP_TIMEOUT = 60.0
REGISTRATIONS_IN_FLIGHT = 8


class Tap(list[Received]):
    """Stands in for a platform's ``received`` list: sees each request as it arrives, keeps none."""

    def __init__(self, on_receipt: Callable[[Received], None]) -> None:
        super().__init__()
        self._on_receipt = on_receipt

    def append(self, record: Received, /) -> None:
        self._on_receipt(record)


# --- what the eMSP and the receivers count -----------------------------------------------------------


@dataclass
class CdrReceipts:
    """Every CDR POST the eMSP got: first receipt time and owning CPO per id, and every repeat."""

    first: dict[str, float] = field(default_factory=dict)
    owner: dict[str, str] = field(default_factory=dict)
    posts: Counter[str] = field(default_factory=Counter)

    def see(self, record: Received) -> None:
        if record.method != "POST" or not record.path.endswith("/cdrs") or not isinstance(record.body, dict):
            return
        ident = str(record.body.get("id"))
        self.posts[ident] += 1
        if ident not in self.first:
            self.first[ident] = record.at.timestamp()
            self.owner[ident] = f"{record.body.get('country_code')}-{record.body.get('party_id')}"

    def stats(self, prefix: str, timed: str) -> dict[str, Any]:
        ids = sorted(ident for ident in self.first if ident.startswith(prefix))
        delays, arrivals = [], []
        for ident in ids:
            sent = sent_at_of(ident)
            if ident.startswith(timed) and sent is not None:
                delays.append(self.first[ident] - sent)
                arrivals.append(self.first[ident])
        return {
            "ids": ids,
            "distinct": len(ids),
            "posts": sum(self.posts[ident] for ident in ids),
            "duplicates": sum(1 for ident in ids if self.posts[ident] > 1),
            "by_cpo": dict(Counter(self.owner[ident] for ident in ids)),
            "timed": len(delays),
            "first_at": min(arrivals, default=None),
            "last_at": max(arrivals, default=None),
            "delay_ms": percentiles_ms(delays),
        }


@dataclass
class Update:
    remaining: int
    done: asyncio.Future[float]


@dataclass
class FanOut:
    """PATCHes per receiver, and the updates the driver waits for (keyed by their ``last_updated``)."""

    counts: Counter[str] = field(default_factory=Counter)
    pending: dict[str, Update] = field(default_factory=dict)
    _last: float = 0.0

    def see(self, party: str, record: Received) -> None:
        if record.method != "PATCH" or "/locations/" not in record.path or not isinstance(record.body, dict):
            return
        self.counts[party] += 1
        update = self.pending.get(str(record.body.get("last_updated")))
        if update is None:
            return
        update.remaining -= 1
        if update.remaining == 0 and not update.done.done():
            update.done.set_result(record.at.timestamp())

    def expect(self, receivers: int) -> tuple[str, Update]:
        """A new update, named by a ``last_updated`` no other pending update has."""
        self._last = max(time.time(), self._last + 1e-6)
        stamp = ocpi_time(self._last)
        while stamp in self.pending:
            self._last += 1e-6
            stamp = ocpi_time(self._last)
        update = Update(receivers, asyncio.get_running_loop().create_future())
        self.pending[stamp] = update
        return stamp, update


@dataclass
class FanOutTally:
    started: float = field(default_factory=time.time)
    last_done: float = 0.0
    updates: int = 0
    incomplete: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    deliveries: int = 0
    completion: list[float] = field(default_factory=list)

    def figures(self, window: int) -> dict[str, Any]:
        elapsed = max((self.last_done or time.time()) - self.started, 1e-9)
        return {
            "mode": "fanout-hub",
            "window": window,
            "started_at": self.started,
            "seconds": round(elapsed, 3),
            "updates": self.updates,
            "incomplete": self.incomplete,
            "errors": sum(self.errors.values()),
            "error_kinds": dict(self.errors.most_common(5)),
            "deliveries": self.deliveries,
            "per_s": round(self.deliveries / elapsed, 2),
            "latency_ms": percentiles_ms(self.completion),
        }


# --- the platforms -----------------------------------------------------------------------------------


@dataclass
class Partners:
    cpo: OcpiPlatform
    emsp: OcpiPlatform
    extra: list[OcpiPlatform]
    cdr_cpos: list[OcpiPlatform] = field(default_factory=list)  # more CPOs POSTing CDRs beside ``cpo``
    cdrs: CdrReceipts = field(default_factory=CdrReceipts)
    fanout: FanOut = field(default_factory=FanOut)
    authorizations: Counter[str] = field(default_factory=Counter)  # "emsp", "receivers"
    direct: oicp_direct.Answered = field(default_factory=oicp_direct.Answered)
    direct_urls: dict[str, str] = field(default_factory=dict)

    @property
    def receivers(self) -> list[OcpiPlatform]:
        """Every eMSP that hears the CPO's broadcasts: the eMSP itself and the extra receivers."""
        return [self.emsp, *self.extra]

    @property
    def platforms(self) -> list[OcpiPlatform]:
        return [self.cpo, *self.cdr_cpos, *self.receivers]

    def install_taps(self) -> None:
        for cpo in (self.cpo, *self.cdr_cpos):
            cpo.received = Tap(lambda record: None)
        self.emsp.received = Tap(self._emsp_receipt)
        for platform in self.extra:
            self.install_receiver_tap(platform)

    def _emsp_receipt(self, record: Received) -> None:
        self.cdrs.see(record)
        self.fanout.see(party_text(EMSP), record)
        self._count_authorization("emsp", record)

    def install_receiver_tap(self, platform: OcpiPlatform) -> None:
        party = _party(platform)

        def see(record: Received) -> None:
            self.fanout.see(party, record)
            self._count_authorization("receivers", record)

        platform.received = Tap(see)

    def _count_authorization(self, who: str, record: Received) -> None:
        if record.method == "POST" and record.path.endswith("/authorize"):
            self.authorizations[who] += 1

    def reset(self) -> None:
        self.cdrs = CdrReceipts()
        self.fanout.counts.clear()
        self.emsp.store.cdrs.clear()
        self.emsp.store.cdr_posts.clear()

    def info(self, control: str) -> dict[str, Any]:
        hub_peer, emsp_peer = self.cpo.peer, self.emsp.peer
        assert hub_peer is not None and emsp_peer is not None and hub_peer.outbound_token is not None
        return {
            "ready": True,
            "pid": os.getpid(),
            "control": control,
            "hub": {
                "tokens_sender": hub_peer.endpoint("tokens", "SENDER"),
                "cdrs_receiver": hub_peer.endpoint("cdrs", "RECEIVER"),
                "token": hub_peer.outbound_token,
                "cdr_senders": [_sender(cpo) for cpo in (self.cpo, *self.cdr_cpos)],
            },
            "emsp": {
                "base_url": self.emsp.base_url,
                "tokens_sender": self.emsp.endpoint_url("tokens", "SENDER"),
                "cdrs_receiver": self.emsp.endpoint_url("cdrs", "RECEIVER"),
                "token": emsp_peer.inbound_token,  # what the hub presents: the direct baseline uses it too
            },
            "receivers": [_receiver_info(platform) for platform in self.receivers],
            "oicp_direct": self.direct_urls,
        }

    def authorization_counts(self) -> dict[str, int]:
        return {
            "emsp": self.authorizations["emsp"],
            "receivers": self.authorizations["receivers"],
            "direct": self.direct.count,
        }


def _party(platform: OcpiPlatform) -> str:
    """The party a bench platform plays (each has one role), as "CC-PID"."""
    country_code, party_id, _ = platform.roles[0]
    return party_text((country_code, party_id))


def _sender(cpo: OcpiPlatform) -> list[str]:
    """A CPO as the CDR load generator names it: its party and the token it presents to the hub."""
    assert cpo.peer is not None and cpo.peer.outbound_token is not None
    return [_party(cpo), cpo.peer.outbound_token]


def _receiver_info(platform: OcpiPlatform) -> dict[str, str]:
    assert platform.peer is not None
    return {
        "party": _party(platform),
        "url": platform.endpoint_url("locations", "RECEIVER") + evse_path(),
        "token": platform.peer.inbound_token,
    }


def build_partners(setup: dict[str, Any]) -> Partners:
    def platform(role: str, party: str, name: str) -> OcpiPlatform:
        cc, pid = parse_party(party)
        return OcpiPlatform(roles=[(cc, pid, role)], name=name, timeout=30.0)

    extra = [platform("EMSP", entry["party"], f"Receiver {entry['party']}") for entry in setup["receivers"]]
    cdr_cpos = setup.get("cdr_cpos", [])
    partners = Partners(
        cpo=platform("CPO", party_text(CPO), "Bench CPO"),
        emsp=platform("EMSP", party_text(EMSP), "Bench eMSP"),
        extra=extra,
        cdr_cpos=[platform("CPO", entry["party"], f"CDR CPO {entry['party']}") for entry in cdr_cpos],
    )
    partners.install_taps()
    return partners


async def _register_all(pairs: Iterable[tuple[OcpiPlatform, dict[str, Any]]]) -> None:
    limit = asyncio.Semaphore(REGISTRATIONS_IN_FLIGHT)

    async def register(platform: OcpiPlatform, entry: dict[str, Any]) -> None:
        async with limit:
            await platform.register(entry["versions_url"], entry["token_a"])

    await asyncio.gather(*(register(platform, entry) for platform, entry in pairs))


async def set_up(partners: Partners, setup: dict[str, Any]) -> None:
    """Start, register (eMSPs first, so the CPO's broadcast reaches them all), publish token and location."""
    await asyncio.gather(*(platform.start() for platform in partners.platforms))
    await _register_all(
        [(partners.emsp, setup["emsp"]), *zip(partners.extra, setup["receivers"], strict=True)]
    )
    await _register_all(
        [(partners.cpo, setup["cpo"]), *zip(partners.cdr_cpos, setup.get("cdr_cpos", []), strict=True)]
    )
    partners.emsp.tokens = [token_payload()]
    answer = await partners.cpo.push_location(location_payload(), to=HUB)
    if answer.status_code != 1000:
        raise RuntimeError(f"the hub refused the location: HTTP {answer.status}, {answer.body}")
    key = (CPO[0], CPO[1], LOCATION_ID)
    deadline = time.monotonic() + SETUP_TIMEOUT
    while not all(key in platform.store.locations for platform in partners.receivers):
        if time.monotonic() > deadline:
            raise RuntimeError("the location did not reach every receiver")
        await asyncio.sleep(0.05)


# --- the hub fan-out driver --------------------------------------------------------------------------


async def drive_fanout(partners: Partners, seconds: float, window: int) -> dict[str, Any]:
    """The CPO broadcasts EVSE status through the hub; an update is done when every receiver has it."""
    tally = FanOutTally()
    receivers = len(partners.receivers)
    deadline = time.perf_counter() + seconds
    statuses = itertools.cycle(("CHARGING", "AVAILABLE"))

    async def updater() -> None:
        while time.perf_counter() < deadline:
            await _one_update(partners, tally, receivers, next(statuses))

    await asyncio.gather(*(updater() for _ in range(window)))
    return tally.figures(window)


async def _one_update(partners: Partners, tally: FanOutTally, receivers: int, status: str) -> None:
    stamp, update = partners.fanout.expect(receivers)
    sent = time.time()
    try:
        answer = await partners.cpo.patch_evse(LOCATION_ID, EVSE_UID, evse_patch(status, stamp), to=HUB)
        if answer.status_code != 1000:
            tally.errors[f"HTTP {answer.status} OCPI {answer.status_code}"] += 1
            return
        tally.updates += 1
        try:
            done_at = await asyncio.wait_for(asyncio.shield(update.done), UPDATE_TIMEOUT)
        except TimeoutError:
            tally.incomplete += 1
            tally.deliveries += receivers - update.remaining
            return
        tally.completion.append(done_at - sent)
        tally.deliveries += receivers
        tally.last_done = max(tally.last_done, done_at)
    except (aiohttp.ClientError, TimeoutError) as exc:
        tally.errors[type(exc).__name__] += 1
    finally:
        partners.fanout.pending.pop(stamp, None)


# --- the control API ---------------------------------------------------------------------------------


PARTNERS = web.AppKey("partners", Partners)


async def _info(request: web.Request) -> web.Response:
    return web.json_response(request.app[PARTNERS].info(f"http://{request.host}"))


async def _cdrs(request: web.Request) -> web.Response:
    prefix = request.query.get("prefix", "")
    timed = request.query.get("timed", prefix)
    return web.json_response(request.app[PARTNERS].cdrs.stats(prefix, timed))


async def _fanout(request: web.Request) -> web.Response:
    seconds = float(request.query.get("seconds", "5"))
    window = int(request.query.get("window", "4"))
    return web.json_response(await drive_fanout(request.app[PARTNERS], seconds, window))


async def _receivers(request: web.Request) -> web.Response:
    partners = request.app[PARTNERS]
    violations = [v for platform in partners.platforms for v in platform.violations]
    key = (CPO[0], CPO[1], LOCATION_ID)
    statuses = {
        _party(p): p.store.locations[key]["evses"][0].get("last_updated")
        for p in partners.receivers
        if key in p.store.locations
    }
    return web.json_response(
        {
            "counts": dict(partners.fanout.counts),
            "receivers": len(partners.receivers),
            "last_updated": statuses,
            "violations": len(violations),
            "violation_examples": violations[:3],
        }
    )


async def _authorizations(request: web.Request) -> web.Response:
    return web.json_response(request.app[PARTNERS].authorization_counts())


async def _reset(request: web.Request) -> web.Response:
    request.app[PARTNERS].reset()
    return web.json_response({"reset": True})


def control_app(partners: Partners) -> web.Application:
    app = web.Application()
    app[PARTNERS] = partners
    app.router.add_get("/info", _info)
    app.router.add_get("/cdrs", _cdrs)
    app.router.add_post("/fanout", _fanout)
    app.router.add_get("/receivers", _receivers)
    app.router.add_post("/reset", _reset)
    app.router.add_get("/authorizations", _authorizations)
    return app


@asynccontextmanager
async def running(partners: Partners) -> AsyncIterator[str]:
    """The control API on a free loopback port; the platforms stop when it does."""
    runner = web.AppRunner(control_app(partners), access_log=None, handle_signals=False)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()
        await asyncio.gather(*(p.stop() for p in partners.platforms), return_exceptions=True)


async def serve(setup: dict[str, Any]) -> None:
    partners = build_partners(setup)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with AsyncExitStack() as stack:
        control = await stack.enter_async_context(running(partners))
        if "oicp" in setup:
            files = setup["oicp"]
            tls = server_context(files["server_cert"], files["server_key"], files["ca"])
            partners.direct_urls = await stack.enter_async_context(oicp_direct.running(partners.direct, tls))
        await asyncio.wait_for(set_up(partners, setup), SETUP_TIMEOUT)
        emit(partners.info(control))
        await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m hub.bench.partners", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--setup", required=True, help="JSON: cpo, emsp and receivers, each versions_url+token_a"
    )
    args = parser.parse_args()
    configure_logging(LogSettings(level="warning"))  # to stderr: stdout carries the ready line
    asyncio.run(serve(json.loads(Path(args.setup).read_text())))


if __name__ == "__main__":
    main()
