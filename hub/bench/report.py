"""The benchmark's results: one :class:`Row` per figure, printed as a table and written as JSON.

A row holds the hub's figure, the baselines measured in the same run (``direct``: no hub in between;
``baseline``: the pass-through proxy, or the bare aiohttp client for the fan-out), the ratio the bar is
about, the bar itself and whether it was met. ``passed`` is None for figures without a bar, and a row of
something not built yet has ``available`` False and no numbers at all.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

NOT_AVAILABLE = "not available"


@dataclass(frozen=True)
class Bar:
    """``value <op> threshold``: the value is the ratio, or the hub's own figure when ``on_ratio`` is off."""

    op: str  # ">=", "<=" or "=="
    threshold: float
    on_ratio: bool = True
    unit: str = ""

    def met(self, value: float) -> bool:
        compare: dict[str, Callable[[float, float], bool]] = {
            ">=": operator.ge,
            "<=": operator.le,
            "==": operator.eq,
        }
        return compare[self.op](value, self.threshold)

    def text(self) -> str:
        threshold = f"{self.threshold:g}" if self.on_ratio else f"{self.threshold:,g}{self.unit}"
        return f"{'ratio ' if self.on_ratio else ''}{self.op} {threshold}"


@dataclass
class Row:
    scenario: str
    backend: str
    workers: int
    figure: str
    unit: str
    hub: float | None
    direct: float | None = None
    baseline: float | None = None
    baseline_kind: str = "proxy"  # "proxy" or "bare"
    ratio: float | None = None
    bar: str = ""
    passed: bool | None = None
    available: bool = True
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def judged(row: Row, bar: Bar | None) -> Row:
    """Fill in the ratio (hub over baseline) and the verdict of ``bar``."""
    if row.hub is not None and row.baseline:
        row.ratio = round(row.hub / row.baseline, 3)
    if bar is None:
        return row
    row.bar = bar.text()
    value = row.ratio if bar.on_ratio else row.hub
    row.passed = None if value is None else bar.met(value)
    return row


def unavailable(scenario: str, backend: str, workers: int, figure: str, reason: str) -> Row:
    return Row(scenario, backend, workers, figure, "", None, available=False, note=reason)


# --- the table ---------------------------------------------------------------------------------------

_HEADER = (
    "scenario",
    "backend",
    "workers",
    "figure",
    "hub",
    "direct",
    "proxy/bare",
    "ratio",
    "bar",
    "result",
)


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "ms":
        return f"{value:,.2f} ms"
    if unit == "%":
        return f"{value:+.1f} %"
    if abs(value) >= 100 or float(value).is_integer():
        return f"{value:,.0f}{unit}"
    return f"{value:,.1f}{unit}"


def _verdict(row: Row) -> str:
    if not row.available:
        return NOT_AVAILABLE
    return {True: "PASS", False: "FAIL", None: "info"}[row.passed]


def _cells(row: Row) -> tuple[str, ...]:
    if not row.available:
        return (
            row.scenario,
            row.backend,
            str(row.workers),
            row.figure,
            NOT_AVAILABLE,
            *("-",) * 4,
            NOT_AVAILABLE,
        )
    baseline = _number(row.baseline, row.unit)
    if row.baseline is not None:
        baseline += f" ({row.baseline_kind})"
    ratio = "-" if row.ratio is None else f"{row.ratio:.2f}"
    return (
        row.scenario,
        row.backend,
        str(row.workers),
        row.figure,
        _number(row.hub, row.unit),
        _number(row.direct, row.unit),
        baseline,
        ratio,
        row.bar or "-",
        _verdict(row),
    )


def table(rows: Sequence[Row]) -> str:
    lines = [_HEADER, *(_cells(row) for row in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(_HEADER))]
    rendered = [
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)) for line in lines
    ]
    rendered.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(line.rstrip() for line in rendered)


def notes(rows: Sequence[Row]) -> list[str]:
    seen: list[str] = []
    for row in rows:
        if row.note and row.note not in seen:
            seen.append(row.note)
    return seen


def summary(rows: Sequence[Row]) -> str:
    judged_rows = [row for row in rows if row.passed is not None]
    failed = [row for row in judged_rows if not row.passed]
    text = f"{len(judged_rows) - len(failed)} of {len(judged_rows)} bars met"
    if failed:
        text += "; missed: " + "; ".join(f"{r.scenario} {r.figure} ({r.backend}/{r.workers})" for r in failed)
    return text


# --- JSON --------------------------------------------------------------------------------------------


def document(rows: Sequence[Row], **sections: Any) -> dict[str, Any]:
    return {"schema": "roamhub-bench/1", **sections, "rows": [asdict(row) for row in rows]}


def write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n", encoding="utf-8")
