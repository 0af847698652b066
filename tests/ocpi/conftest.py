"""A real hub on loopback for OCPI tests, with its public URL pointing at itself."""

from __future__ import annotations

import asyncio
import base64
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from hub import parties
from hub.app import create_app
from hub.config import OcpiSettings, Settings
from hub.keys import BROADCASTER, DB, DISPATCHER, PRESENCE
from hub.parties import PartyView
from hub.simulators.ocpi import OcpiPlatform
from hub.store.db import Database
from tests.conftest import make_settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def b64(token: str) -> str:
    return base64.b64encode(token.encode()).decode()


@dataclass
class RunningHub:
    url: str
    app: web.Application
    settings: Settings
    http: aiohttp.ClientSession

    @property
    def db(self) -> Database:
        return self.app[DB]

    @property
    def versions_url(self) -> str:
        return f"{self.url}/ocpi/versions"

    async def admit(self, cc: str, pid: str, *roles: str, name: str | None = None) -> PartyView:
        data = parties.PartyCreate.model_validate(
            {
                "name": name or f"{cc}-{pid}",
                "country_code": cc,
                "party_id": pid,
                "roles": list(roles),
                "protocol": "ocpi",
            }
        )
        return await parties.add_party(self.db, self.settings, data)

    async def settle(self) -> None:
        """Let the outbox dispatcher finish what is queued (HubClientInfo pushes)."""
        await self.app[DISPATCHER].drain()

    async def broadcasts(self) -> None:
        """Wait for the background fan-out of broadcasts to finish."""
        await self.app[BROADCASTER].drain()

    async def check_liveness(self) -> int:
        return await self.app[PRESENCE].check_once()

    async def get(self, path: str, token: str | None = None, **kwargs: Any) -> tuple[int, Any, Any]:
        headers = kwargs.pop("headers", {})
        if token is not None:
            headers["Authorization"] = f"Token {b64(token)}"
        async with self.http.get(f"{self.url}{path}", headers=headers, **kwargs) as response:
            return response.status, await response.json(content_type=None), response.headers

    async def request(self, method: str, path: str, token: str | None, **kwargs: Any) -> tuple[int, Any, Any]:
        headers = kwargs.pop("headers", {})
        if token is not None:
            headers["Authorization"] = f"Token {b64(token)}"
        async with self.http.request(method, f"{self.url}{path}", headers=headers, **kwargs) as response:
            return response.status, await response.json(content_type=None), response.headers


def hub_settings(
    tmp_path: Path, db_url: str, port: int, ocpi: dict[str, Any], overrides: dict[str, Any]
) -> Settings:
    ocpi_settings = OcpiSettings(**{"timeout": 2.0, "authorize_timeout": 1.0, **ocpi})
    options: dict[str, Any] = {"outbox_poll_interval": 0.05, "outbox_backoff_base": 0.05, **overrides}
    return make_settings(
        tmp_path, db_url, public_url=f"http://127.0.0.1:{port}", ocpi=ocpi_settings, **options
    )


@pytest.fixture
def ocpi_overrides() -> dict[str, Any]:
    """Override in a test module to change [ocpi] settings of the hub under test."""
    return {}


@pytest.fixture
def hub_overrides() -> dict[str, Any]:
    """Override in a test (parametrize) to change top-level settings of the hub under test."""
    return {}


@pytest.fixture
async def hub(
    tmp_path: Path, db_url: str, ocpi_overrides: dict[str, Any], hub_overrides: dict[str, Any]
) -> AsyncIterator[RunningHub]:
    port = free_port()
    settings = hub_settings(tmp_path, db_url, port, ocpi_overrides, hub_overrides)
    server = TestServer(create_app(settings), host="127.0.0.1", port=port)
    await server.start_server()
    async with aiohttp.ClientSession() as http:
        yield RunningHub(url=f"http://127.0.0.1:{port}", app=server.app, settings=settings, http=http)
    await server.close()


PlatformFactory = Callable[..., Awaitable[OcpiPlatform]]


@pytest.fixture
async def platform() -> AsyncIterator[PlatformFactory]:
    """Start simulated OCPI platforms: ``await platform(("NL", "CPA", "CPO"))``; all stop after the test."""
    started: list[OcpiPlatform] = []

    async def make(*roles: tuple[str, str, str], **options: Any) -> OcpiPlatform:
        sim = OcpiPlatform(roles=list(roles), **options)
        await sim.start()
        started.append(sim)
        return sim

    yield make
    for sim in started:
        await sim.stop()


async def connected(hub: RunningHub, platform: PlatformFactory, *roles: tuple[str, str, str]) -> OcpiPlatform:
    """Admit a platform's parties and let it register with the hub (partner-initiated)."""
    cc, pid, _ = roles[0]
    view = await hub.admit(cc, pid, *(role for _, _, role in roles))
    assert view.token_a is not None
    sim = await platform(*roles)
    await sim.register(hub.versions_url, view.token_a)
    await hub.settle()
    return sim


async def eventually(check: Callable[[], bool], timeout: float = 3.0) -> None:
    """Wait for something the hub does in the background (outbox, liveness)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)
