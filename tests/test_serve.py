"""`roamhub serve` as a real process: it migrates a fresh database, answers /healthz, and stops cleanly."""

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

import aiohttp


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
