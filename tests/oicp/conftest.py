"""A real hub on loopback for OICP tests: plain HTTP for OCPI and the admin API, mutual TLS for OICP.

Partners get client certificates from the hub's own CA (``roamhub pki``), exactly as in production; every
OICP call in these tests goes over TLS 1.2+ with that certificate.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from hub import parties
from hub.app import create_app
from hub.config import OcpiSettings, OicpSettings, Settings
from hub.keys import BROADCASTER, DB, DISPATCHER, OICP
from hub.oicp.context import OicpContext
from hub.parties import PartyView
from hub.pki import server_ssl_context
from hub.pki.files import PkiPaths, init_ca
from hub.pki.registry import IssuedFiles, issue_party_cert
from hub.simulators.oicp import OicpPartner
from hub.store.db import Database
from tests.conftest import make_settings
from tests.ocpi.conftest import free_port, platform  # noqa: F401 - OCPI simulators beside OICP ones


@dataclass
class OicpPartnerConn:
    """A partner's mutual-TLS connection to the hub: its certificate files and a session using them."""

    party: PartyView
    files: IssuedFiles
    base: str
    http: aiohttp.ClientSession
    context: ssl.SSLContext

    async def post(
        self, path: str, body: Any = None, *, raw: bytes | None = None, **kwargs: Any
    ) -> tuple[int, Any]:
        """POST to ``/api/oicp`` + ``path`` (a path with ``/api/oicp`` already is taken as it is)."""
        url = self.base + (path if path.startswith("/api/oicp") else "/api/oicp" + path)
        headers = kwargs.pop("headers", {"Content-Type": "application/json"})
        data = raw if raw is not None else (None if body is None else json.dumps(body))
        async with self.http.post(url, data=data, headers=headers, ssl=self.context, **kwargs) as response:
            return response.status, await response.json(content_type=None)


@dataclass
class OicpHub:
    url: str  # plain HTTP: OCPI, admin API
    oicp_url: str  # mutual TLS: OICP
    app: web.Application
    settings: Settings
    tmp_path: Path
    http: aiohttp.ClientSession
    _issued: int = field(default=0)

    @property
    def db(self) -> Database:
        return self.app[DB]

    @property
    def versions_url(self) -> str:
        return f"{self.url}/ocpi/versions"

    @property
    def ctx(self) -> OicpContext:
        return self.app[OICP]

    async def admit(
        self,
        cc: str,
        pid: str,
        *roles: str,
        protocol: str = "oicp",
        base_url: str | None = None,
        operator_id: str | None = None,
        provider_id: str | None = None,
        name: str | None = None,
        services: dict[str, str | None] | None = None,
        ca: str | None = None,
    ) -> PartyView:
        data: dict[str, Any] = {
            "name": name or f"{cc}-{pid}",
            "country_code": cc,
            "party_id": pid,
            "roles": list(roles),
            "protocol": protocol,
        }
        if protocol == "oicp":
            data |= {"base_url": base_url, "operator_id": operator_id, "provider_id": provider_id}
            data |= {"oicp_services": services, "oicp_ca": ca}
        view = await parties.add_party(self.db, self.settings, parties.PartyCreate.model_validate(data))
        self.ctx.ocpi.forget()  # as the admin API does: this hub's caches (the roster) show it at once
        return view

    async def connect(self, party: PartyView) -> OicpPartnerConn:
        """Issue the party a client certificate and open a mutual-TLS session with it."""
        self._issued += 1
        files = await issue_party_cert(
            self.db, self.settings, party.id, self.tmp_path / f"partner{self._issued}"
        )
        context = ssl.create_default_context(cafile=str(files.ca))
        context.load_cert_chain(str(files.cert), str(files.key))
        return OicpPartnerConn(party, files, self.oicp_url, self.http, context)

    async def settle(self) -> None:
        """Let the outbox (CDR deliveries), background commands and broadcasts finish."""
        await self.app[BROADCASTER].drain()
        await self.ctx.drain()
        await self.app[DISPATCHER].drain()

    async def broadcasts(self) -> None:
        await self.app[BROADCASTER].drain()


@pytest.fixture
def oicp_overrides() -> dict[str, Any]:
    """Override in a test module to change [oicp] settings of the hub under test."""
    return {}


@pytest.fixture
async def oicp_hub(tmp_path: Path, db_url: str, oicp_overrides: dict[str, Any]) -> AsyncIterator[OicpHub]:
    port = free_port()
    settings = make_settings(
        tmp_path,
        db_url,
        public_url=f"http://127.0.0.1:{port}",
        ocpi=OcpiSettings(timeout=2.0, authorize_timeout=1.0),
        oicp=OicpSettings(**{"timeout": 2.0, "authorize_timeout": 1.0, **oicp_overrides}),
        outbox_poll_interval=0.05,
        outbox_backoff_base=0.05,
    )
    await init_ca(settings)
    assert PkiPaths.of(settings).server_cert.exists()
    runner = web.AppRunner(create_app(settings), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    # The TLS site takes whatever port is free (asking free_port() twice may hand out the same one twice).
    await web.TCPSite(runner, "127.0.0.1", 0, ssl_context=server_ssl_context(settings)).start()
    tls_port = int(runner.addresses[-1][1])
    async with aiohttp.ClientSession() as http:
        yield OicpHub(
            url=f"http://127.0.0.1:{port}",
            oicp_url=f"https://127.0.0.1:{tls_port}",
            app=runner.app,
            settings=settings,
            tmp_path=tmp_path,
            http=http,
        )
    await runner.cleanup()


PartnerFactory = Callable[..., Awaitable[OicpPartner]]


@pytest.fixture
async def partner(oicp_hub: OicpHub) -> AsyncIterator[PartnerFactory]:
    """Start simulated OICP partners admitted to the hub and connected over mutual TLS.

    ``await partner("emp", "DE", "EMP", tokens=["AABBCCDD"])``: the ids are ``DE-EMP`` / ``DE*CPO``.
    """
    started: list[OicpPartner] = []

    async def make(
        role: str,
        cc: str,
        pid: str,
        *,
        connect: bool = True,
        services: dict[str, str | None] | None = None,
        **options: Any,
    ) -> OicpPartner:
        ids = {"operator_id": f"{cc}*{pid}"} if role == "cpo" else {"provider_id": f"{cc}-{pid}"}
        sim = OicpPartner(role, name=f"{cc}-{pid}", **ids, **options)
        await sim.start()
        started.append(sim)
        kind = "CPO" if role == "cpo" else "EMSP"
        view = await oicp_hub.admit(cc, pid, kind, base_url=sim.base_url, services=services, **ids)
        if connect:
            conn = await oicp_hub.connect(view)
            await sim.connect(
                oicp_hub.oicp_url, cert=str(conn.files.cert), key=str(conn.files.key), ca=str(conn.files.ca)
            )
        return sim

    yield make
    for sim in started:
        await sim.stop()


def assert_valid_traffic(*sims: OicpPartner) -> None:
    """Everything the hub sent the simulators, and everything it answered them, is valid OICP 2.3."""
    for sim in sims:
        invalid = [(r.operation, r.errors) for r in sim.received if r.errors]
        assert invalid == [], invalid
        assert sim.answer_errors == []
