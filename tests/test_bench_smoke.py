"""The benchmark's quick mode on SQLite, so the instrument never rots (``make bench-smoke`` runs the same).

It runs as its own process, as ``make bench`` does: the hub, the partners, the proxy and the load generators
are all separate processes. Figures on a shared machine are noise; what is checked is that every scenario
produced numbers against its baselines, that CDR counts match exactly, and that the OICP AuthorizeStart
scenario really went through the hub to the OCPI eMSP, over kept-alive mutual-TLS connections.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

SCENARIOS = ("authorization", "cdr_ingest", "fanout", "oicp_authorize_start", "memory")
MEASURED = {  # (scenario, figure prefix) -> the columns that must hold a positive number
    ("authorization", "throughput"): ("hub", "direct", "baseline"),
    ("authorization", "p50"): ("hub", "direct", "baseline"),
    ("authorization", "p99"): ("hub", "direct", "baseline"),
    ("cdr_ingest", "sustained"): ("hub", "direct", "baseline"),
    ("cdr_ingest", "accepted"): ("hub",),
    ("cdr_ingest", "p99"): ("hub",),
    ("fanout", "deliveries"): ("hub", "baseline"),
    ("fanout", "every receiver has it, p50"): ("hub", "baseline"),
    ("oicp_authorize_start", "AuthorizeStart throughput"): ("hub", "direct", "baseline"),
    ("oicp_authorize_start", "p50"): ("hub", "direct", "baseline"),
    ("oicp_authorize_start", "p99"): ("hub", "direct", "baseline"),
    ("oicp_authorize_start", "eMSP asked per Authorized answer"): ("hub",),
    # CPU per request, of the hub's workers and of the proxy, from /proc before and after each load
    ("authorization", "CPU per"): ("hub", "baseline"),
    ("cdr_ingest", "CPU per"): ("hub", "baseline"),
    ("oicp_authorize_start", "CPU per"): ("hub", "baseline"),
}


def _run_quick(out: Path) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    argv = [sys.executable, "-m", "hub.bench.run", "--quick", "--backends", "sqlite", "--out", str(out)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=240, check=False)  # noqa: S603
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done, json.loads(out.read_text())


def _row(rows: list[dict[str, Any]], scenario: str, figure: str) -> dict[str, Any]:
    found = [r for r in rows if r["scenario"] == scenario and r["figure"].startswith(figure)]
    assert len(found) == 1, (scenario, figure, [r["figure"] for r in rows])
    return found[0]


def test_quick_bench_measures_every_scenario_and_loses_no_cdr(tmp_path: Path) -> None:
    done, results = _run_quick(tmp_path / "bench.json")

    assert results["mode"] == "quick" and results["instrument_failed"] is False
    assert [(c["backend"], c["workers"], c["status"]) for c in results["configs"]] == [("sqlite", 1, "ok")]
    rows = [row for row in results["rows"] if row["backend"] == "sqlite"]
    assert {row["scenario"] for row in rows} >= set(SCENARIOS)
    assert not [row for row in rows if not row["available"]]
    for (scenario, figure), columns in MEASURED.items():
        row = _row(rows, scenario, figure)
        assert row["available"], row
        for column in columns:
            assert isinstance(row[column], int | float) and row[column] > 0, (scenario, figure, column, row)
    assert _row(rows, "memory", "hub RSS")["extra"]["warm_mib"] > 0

    _check_oicp(results, rows)

    counts = results["details"]["sqlite/1"]["cdr_ingest"]["counts"]
    assert counts["acknowledged"] > 0
    assert counts["acknowledged"] == counts["stored"] == counts["delivered"] == counts["posts_to_emsp"]
    assert counts["lost"] == counts["duplicated"] == counts["unacknowledged_delivered"] == 0
    assert counts["match"] is True
    assert counts["booked"] == counts["acknowledged"]  # every acknowledged CDR booked once in the ledger
    assert _row(rows, "cdr_ingest", "lost")["passed"] is True
    assert _row(rows, "cdr_ingest", "duplicated")["passed"] is True
    # The CDRs came from the quick profile's two CPOs, each its own line to the eMSP, both delivered.
    by_cpo = results["details"]["sqlite/1"]["cdr_ingest"]["delivered"]["by_cpo"]
    assert set(by_cpo) == {"NL-CPA", "NL-C01"} and all(count > 0 for count in by_cpo.values())
    assert sum(by_cpo.values()) == counts["delivered"]

    # Where each process ran is part of the output.
    assert "hub worker 1" in done.stdout and "partners" in done.stdout and "proxy" in done.stdout
    assert {p["role"] for p in results["processes"]} >= {"hub worker 1", "partners", "proxy", "proxy oicp"}


def _check_oicp(results: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    """Every Authorized answer was the OCPI eMSP's; the AUP limit was lifted; connections were reused."""
    details = results["details"]["sqlite/1"]
    assert details["oicp_hub_config"]["rate_limits"] == {"eRoamingAuthorizeStart": 0}
    forwarded = details["oicp_authorize_start"]["forwarded"]
    assert forwarded["authorized"] > 0 and forwarded["emsp_asked"] >= forwarded["authorized"]
    assert _row(rows, "oicp_authorize_start", "eMSP asked")["passed"] is True
    for phase in ("saturation", "latency"):  # every AuthorizeStart the hub took was Authorized
        result = details["oicp_authorize_start"][phase]["hub"]
        assert result["errors"] == 0, (phase, result["error_kinds"])
    saturated = details["oicp_authorize_start"]["saturation"]["hub"]
    assert 0 < saturated["connections_opened"] <= results["profile"]["concurrency"]  # kept alive
    assert results["oicp_authorize_start"]["available"] is True
    assert any("rate_limits eRoamingAuthorizeStart = 0" in row["note"] for row in rows)


def test_cpu_seconds_counts_this_process_burning_cpu() -> None:
    from hub.bench.run import cpu_ms_per, cpu_seconds

    before = cpu_seconds(os.getpid())
    deadline = time.process_time() + 0.2
    while time.process_time() < deadline:
        pass
    spent = cpu_seconds(os.getpid()) - before
    assert 0.15 <= spent <= 1.0
    assert cpu_ms_per(0.5, 1000) == 0.5
    assert cpu_ms_per(0.5, 0) is None


def test_soak_answers_counts_what_admission_control_refused() -> None:
    from hub.bench.run import soak_answers

    loads = [
        {"mode": "rate", "completed": 70, "errors": 30, "error_kinds": {"HTTP 503": 25, "TimeoutError": 5}},
        {"mode": "rate", "completed": 100, "errors": 0, "error_kinds": {}},
        {"mode": "fanout-hub", "updates": 9, "errors": 1, "error_kinds": {"HTTP 503 OCPI 3000": 1}},
    ]
    assert soak_answers(loads) == (85.0, 25)  # the closed-loop fan-out is not an open-loop load
    assert soak_answers([]) == (None, 0)
