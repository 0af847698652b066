"""The OCPI 2.2.1 spec's own example payloads, loaded for tests (never edited: mutate copies)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

EXAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "spec" / "ocpi-2.2.1" / "examples"
HUB = ("NL", "HUB")


def example(name: str) -> Any:
    if not EXAMPLES.exists():
        pytest.skip(f"spec examples not found at {EXAMPLES}")
    return json.loads((EXAMPLES / name).read_text())


def raw_example(name: str) -> bytes:
    if not EXAMPLES.exists():
        pytest.skip(f"spec examples not found at {EXAMPLES}")
    return (EXAMPLES / name).read_bytes()


def owned_by(obj: dict[str, Any], cc: str, pid: str) -> dict[str, Any]:
    return {**obj, "country_code": cc, "party_id": pid}


def token_of(cc: str, pid: str, uid: str = "12345678905880") -> dict[str, Any]:
    return {**example("token_example_2_full_rfid.json"), "country_code": cc, "party_id": pid, "uid": uid}


def cdr_of(cpo: tuple[str, str], emsp: tuple[str, str], cdr_id: str = "12345") -> dict[str, Any]:
    cdr = owned_by(example("cdr_example.json"), *cpo)
    cdr["id"] = cdr_id
    cdr["cdr_token"] = {**cdr["cdr_token"], "country_code": emsp[0], "party_id": emsp[1]}
    return cdr
