"""`roamhub serve` as a real process: it migrates a fresh database, answers /healthz, and stops cleanly."""

import asyncio
import gc
import os
import signal
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from pydantic import ValidationError

from hub.config import Settings
from hub.server import tune_gc


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_serve_starts_on_a_fresh_directory_and_stops_on_sigterm(
    tmp_path: Path, empty_db_url: str
) -> None:
    port = free_port()
    env = {**os.environ, "ROAMHUB_DATABASE_URL": empty_db_url, "ROAMHUB_LOG_FORMAT": "json"}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hub",
        "serve",
        "--port",
        str(port),
        cwd=tmp_path,
        env=env,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(200):
                try:
                    async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                        assert response.status == 200
                        break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.05)
            else:
                raise AssertionError("the hub did not start")
            async with http.get(f"http://127.0.0.1:{port}/admin/api/parties") as response:
                assert response.status == 401
        token = (tmp_path / "var" / "admin.token").read_text().strip()
        assert len(token) >= 40
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=15)
    assert process.returncode == 0, stderr.decode()
    log = stderr.decode()
    assert '"event": "hub.started"' in log and '"event": "hub.stopping"' in log
    assert token not in log


@pytest.fixture
def gc_state() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*before)


@pytest.mark.usefixtures("gc_state")
def test_tune_gc_freezes_the_started_heap_and_widens_the_young_generation() -> None:
    gc.unfreeze()
    middle, old = gc.get_threshold()[1:]
    tune_gc(20_000)
    assert gc.get_threshold() == (20_000, middle, old)
    assert gc.get_freeze_count() > 1000  # all the test session imported is out of the collector's sight


@pytest.mark.usefixtures("gc_state")
def test_tune_gc_zero_leaves_pythons_collector_alone() -> None:
    gc.unfreeze()
    gc.set_threshold(700, 10, 10)
    tune_gc(0)
    assert gc.get_threshold() == (700, 10, 10)
    assert gc.get_freeze_count() == 0


def test_the_gc_threshold_is_validated() -> None:
    with pytest.raises(ValidationError, match="gc_threshold"):
        Settings(gc_threshold=-1)
