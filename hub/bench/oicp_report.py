"""Scenario 4, OICP AuthorizeStart over mutual TLS (OICP CPO → hub → OCPI eMSP): set-up text and rows.

The hub is configured by a TOML file the bench writes (``ROAMHUB_CONFIG``): Hubject's AUP allows 200
AuthorizeStart per minute per partner, which the hub enforces by default, so the bench lifts that limit
(``[oicp] rate_limits``, a table, which no ``ROAMHUB_OICP_*`` variable can carry). The eMSP's token is
``ALLOWED``, not whitelisted ``ALWAYS``, and the eMSP never pushes it to the hub: the hub must ask the
eMSP's real-time authorisation (``POST tokens/{uid}/authorize``) for every AuthorizeStart, and the
partners process counts that it did.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from hub.bench.oicp_wire import OPERATION, UNLIMITED
from hub.bench.report import Bar, Row, judged
from hub.config import AUP_RATE_LIMITS, load_settings

SCENARIO = "oicp_authorize_start"
TARGETS = ("hub", "direct", "proxy")
Pick = Callable[[dict[str, Any]], float | None]  # one figure out of a load generator's result
RATE_LIMIT_NOTE = (
    f"OICP: the hub runs with [oicp] rate_limits {OPERATION} = {UNLIMITED} (unlimited), set in the bench's "
    f"config file; Hubject's AUP figure, which the hub applies otherwise, is {AUP_RATE_LIMITS[OPERATION]} "
    "per minute per partner"
)
FLOW_NOTE = (
    "OICP AuthorizeStart: the CPO's RFID UID over mutual TLS (client certificate from the hub's CA, "
    "kept-alive connections) → the hub's OICP listener → the OCPI eMSP's real-time authorisation (token "
    "ALLOWED, not whitelisted: asked every time); the UID names no provider, so every admitted eMSP is a "
    "candidate until the hub's UID cache remembers the one that said yes"
)
BASELINE_NOTE = (
    "OICP baselines: direct = a tiny OICP endpoint in the partners process answering AuthorizeStart itself "
    "over mutual TLS (no hub, no second hop); proxy = the pass-through proxy with mutual TLS in front and "
    "plain HTTP to that endpoint, on the hub's core; bars as for real-time authorisation"
)


def hub_config(path: Path) -> Path:
    """The hub's configuration file: what environment variables cannot say."""
    path.write_text(
        "# Written by roamhub bench: the scenario measures the hub, not Hubject's AUP rate limit.\n"
        f"[oicp]\nrate_limits = {{ {OPERATION} = {UNLIMITED} }}\n",
        encoding="utf-8",
    )
    return path


def effective_config(environ: Mapping[str, str]) -> dict[str, Any]:
    """The [oicp] settings the hub's workers will run with (the hub's own loader, the bench's environment)."""
    oicp = load_settings(environ=environ).oicp
    return {
        "listen_port": oicp.listen_port,
        "rate_limits": {OPERATION: oicp.rate_limits[OPERATION]},
        "authorization_cache_seconds": oicp.authorization_cache_seconds,
        "authorize_timeout": oicp.authorize_timeout,
    }


def forwarding(hub: dict[str, Any], asked: dict[str, int]) -> dict[str, Any]:
    """Authorized answers to the CPO (warm-up included) against what the eMSPs were asked meanwhile."""
    authorized = hub["completed"] + hub["warmup"]["completed"]
    return {
        "authorized": authorized,
        "emsp_asked": asked["emsp"],
        "other_emsps_asked": asked["receivers"],
        "per_authorized": round(asked["emsp"] / authorized, 3) if authorized else None,
        "connections_opened": hub["connections_opened"],
    }


def _throughput(result: dict[str, Any]) -> float | None:
    return float(result["per_s"])


def _percentile(key: str) -> Pick:
    def pick(result: dict[str, Any]) -> float | None:
        value = result["latency_ms"][key]
        return None if value is None else float(value)

    return pick


def rows(
    backend: str,
    workers: int,
    measured: dict[str, Any],
    rate: float,
    share: float,
    forwarded: dict[str, Any],
) -> list[Row]:
    """``measured``: ``saturation`` and ``latency``, each a load result per target (hub, direct, proxy)."""
    saturation, latency = measured["saturation"], measured["latency"]
    samples = {"samples": {name: latency[name]["latency_ms"]["count"] for name in TARGETS}}

    def compared(figure: str, unit: str, pick: Pick, results: dict[str, Any], **more: Any) -> Row:
        hub, direct, proxy = (pick(results[name]) for name in TARGETS)
        return Row(SCENARIO, backend, workers, figure, unit, hub, direct=direct, baseline=proxy, **more)

    rate_note = (
        f"OICP AuthorizeStart latency at a fixed rate, {share:.0%} of the hub's saturation throughput"
        " (at least 1/s; real-time authorisation takes at least 10/s, which may be past the hub's OICP limit)"
    )
    asked = Row(
        SCENARIO,
        backend,
        workers,
        "eMSP asked per Authorized answer",
        "",
        forwarded["per_authorized"],
        extra=forwarded,
        note=FLOW_NOTE,
    )
    p50, p99 = f"p50 @ {rate:g}/s", f"p99 @ {rate:g}/s"
    return [
        judged(
            compared("AuthorizeStart throughput", "/s", _throughput, saturation, note=RATE_LIMIT_NOTE),
            Bar(">=", 0.5),
        ),
        judged(
            compared(p50, "ms", _percentile("p50"), latency, note=rate_note, extra=samples), Bar("<=", 2.0)
        ),
        judged(compared(p99, "ms", _percentile("p99"), latency, note=BASELINE_NOTE, extra=samples), None),
        judged(asked, Bar(">=", 1, on_ratio=False)),
    ]
