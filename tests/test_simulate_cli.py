"""`roamhub simulate` runs a partner platform that registers with a running hub."""

import asyncio
import json
import os
import re
import sys
from pathlib import Path

import aiohttp

from tests.conftest import ADMIN_TOKEN
from tests.ocpi.conftest import free_port


async def test_simulated_cpo_registers_with_a_hub_process(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "ROAMHUB_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/hub.db",
        "ROAMHUB_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "ROAMHUB_ADMIN_TOKEN": ADMIN_TOKEN,
        "ROAMHUB_LOG_FORMAT": "json",
    }
    add = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hub",
        "party",
        "add",
        "--name",
        "Sim CPO",
        "--country",
        "NL",
        "--party-id",
        "SIM",
        "--role",
        "CPO",
        "--protocol",
        "ocpi",
        "--json",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
    )
    party = json.loads((await add.communicate())[0])
    hub = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hub",
        "serve",
        "--port",
        str(port),
        cwd=tmp_path,
        env=env,
        stderr=asyncio.subprocess.DEVNULL,
    )
    sim = None
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(200):
                try:
                    async with http.get(f"http://127.0.0.1:{port}/healthz"):
                        break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.05)
            sim = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "hub",
                "simulate",
                "cpo",
                "--hub",
                party["versions_url"],
                "--token-a",
                party["token_a"],
                "--country",
                "NL",
                "--party-id",
                "SIM",
                cwd=tmp_path,
                env=env,
                stderr=asyncio.subprocess.PIPE,
            )
            assert sim.stderr is not None
            line = await asyncio.wait_for(sim.stderr.readline(), 15)
            while b"simulator.ready" not in line:
                line = await asyncio.wait_for(sim.stderr.readline(), 15)
            assert re.search(rb'"versions_url": "http://127.0.0.1:\d+/ocpi/versions"', line)
            assert party["token_a"].encode() not in line
            headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
            async with http.get(
                f"http://127.0.0.1:{port}/admin/api/parties/{party['id']}", headers=headers
            ) as r:
                assert (await r.json())["status"] == "CONNECTED"
    finally:
        # A process that ignores SIGTERM fails the test within seconds instead of hanging the suite.
        stuck = []
        for process in (sim, hub):
            if process is not None and process.returncode is None:
                process.terminate()
                try:
                    await asyncio.wait_for(process.wait(), 15)
                except TimeoutError:
                    process.kill()
                    await process.wait()
                    stuck.append(process.pid)
        assert not stuck, f"processes {stuck} did not stop within 15 s of SIGTERM"
