"""Fixtures for the ledger tests (``db`` and ``settings`` come from tests/conftest.py)."""

from __future__ import annotations

import pytest

from hub.config import Settings
from hub.store.db import Database
from tests.ledger.support import Parties


@pytest.fixture
async def two(db: Database, settings: Settings) -> tuple[Parties, str, str]:
    """Two admitted parties: a CPO and an eMSP (each admitted in both roles)."""
    who = Parties()
    cpo = await who.admit(db, settings)
    emsp = await who.admit(db, settings, country="DE")
    return who, cpo, emsp
