"""The demo's world: a hub on loopback (plain HTTP for OCPI, mutual TLS for OICP) and four partner simulators.

Everything lives in one data directory: the SQLite database, the keys, the CA and partner certificates, the
hub's log and, at the end, the statements. Nothing else needs to be installed or running.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from aiohttp import web

from hub import parties
from hub.app import create_app
from hub.config import (
    DatabaseSettings,
    LedgerSettings,
    LogSettings,
    OcpiSettings,
    OicpSettings,
    SecuritySettings,
    Settings,
)
from hub.demo_payloads import (
    CPO_OCPI,
    CPO_OICP,
    EMB_UID,
    EMSP_OCPI,
    EMSP_OICP,
    HUB_FEE_FIXED,
    HUB_FEE_PERCENT,
    Cast,
)
from hub.keys import BROADCASTER, DB, DISPATCHER, OICP
from hub.ledger import fees
from hub.pki import server_ssl_context
from hub.pki.files import init_ca
from hub.pki.registry import issue_party_cert
from hub.simulators.ocpi import OcpiPlatform
from hub.simulators.ocpi_wire import SimResponse
from hub.simulators.oicp import HubRefused, OicpPartner
from hub.store.db import Database


@dataclass
class Story:
    """What the demo prints as it goes, and what it found wrong (each a request and its answer)."""

    out: TextIO
    problems: list[str] = field(default_factory=list)
    facts: dict[str, int] = field(default_factory=dict)

    def section(self, title: str) -> None:
        print(f"\n== {title}", file=self.out, flush=True)

    def say(self, text: str) -> None:
        print(f"   {text}", file=self.out, flush=True)

    def check(self, ok: bool, what: str, answer: object = None) -> bool:
        """Record ``what`` as a problem unless ``ok``; the answer that showed it is kept beside it."""
        if not ok:
            detail = f"{what}; answer: {answer!r}"[:600] if answer is not None else what
            self.problems.append(detail)
            self.say(f"!! NOT AS EXPECTED: {detail}")
        return ok

    def count(self, name: str, by: int = 1) -> None:
        self.facts[name] = self.facts.get(name, 0) + by


def ocpi_ok(response: SimResponse) -> bool:
    return response.status < 300 and response.status_code == 1000


def answer_of(response: SimResponse) -> str:
    return f"HTTP {response.status}, {response.body}"


async def oicp_call(story: Story, what: str, call: Awaitable[dict[str, Any]]) -> dict[str, Any]:
    """An OICP call whose refusal (an HTTP error from the hub) is recorded instead of ending the demo."""
    try:
        return await call
    except HubRefused as exc:
        story.check(False, what, f"HTTP {exc.status}, {exc.body}")
        return {}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def demo_settings(directory: Path, port: int, tls_port: int) -> Settings:
    """SQLite in ``directory``, daily settlement periods, short timeouts and quick CDR retries."""
    return Settings(
        public_url=f"http://127.0.0.1:{port}",
        port=port,
        data_dir=str(directory),
        name="roamhub demo",
        database=DatabaseSettings(url=f"sqlite+aiosqlite:///{directory / 'roamhub.db'}"),
        log=LogSettings(format="json", level="info"),
        ocpi=OcpiSettings(timeout=3.0, authorize_timeout=2.0, connect_timeout=1.0, liveness_interval=1.0),
        oicp=OicpSettings(listen_port=tls_port, timeout=3.0, authorize_timeout=2.0, remote_timeout=5.0),
        ledger=LedgerSettings(period="daily"),
        security=SecuritySettings(secret_key_file=str(directory / "secret.key")),
        outbox_poll_interval=0.05,
        outbox_backoff_base=0.1,
        outbox_max_attempts=30,
    )


@dataclass
class World:
    """The running hub and the four partners, as the demo's steps use them."""

    settings: Settings
    runner: web.AppRunner
    url: str
    oicp_url: str
    cpa: OcpiPlatform  # Amstel Charging, OCPI CPO
    ema: OcpiPlatform  # Tulip Mobility, OCPI eMSP
    cpb: OicpPartner  # Spree Strom, OICP CPO
    emb: OicpPartner  # Havel eMobility, OICP EMP
    party_ids: dict[str, int] = field(default_factory=dict)

    @property
    def app(self) -> web.Application:
        return self.runner.app

    @property
    def db(self) -> Database:
        return self.app[DB]

    @property
    def directory(self) -> Path:
        return Path(self.settings.data_dir)

    @property
    def versions_url(self) -> str:
        return f"{self.url}/ocpi/versions"

    async def settle(self) -> None:
        """Let broadcasts, OICP background work and due outbox items (CDR deliveries) finish."""
        await self.app[BROADCASTER].drain()
        await self.app[OICP].drain()
        await self.app[DISPATCHER].drain()

    async def stop(self) -> None:
        for sim in (self.cpa, self.ema):
            await sim.stop()
        for partner in (self.cpb, self.emb):
            await partner.stop()
        await self.runner.cleanup()


async def start_hub(settings: Settings) -> web.AppRunner:
    """The hub as ``roamhub serve`` runs it: the app on plain HTTP, and the mutual-TLS listener for OICP."""
    await init_ca(settings)  # the partner CA and the hub's server certificate, under <data_dir>/pki
    runner = web.AppRunner(create_app(settings), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", settings.port).start()
    assert settings.oicp.listen_port is not None
    context = server_ssl_context(settings)
    await web.TCPSite(runner, "127.0.0.1", settings.oicp.listen_port, ssl_context=context).start()
    return runner


async def open_world(directory: Path, story: Story) -> World:
    port, tls_port = free_port(), free_port()
    settings = demo_settings(directory, port, tls_port)
    runner = await start_hub(settings)
    story.say(
        f"hub up: OCPI 2.2.1 at http://127.0.0.1:{port}/ocpi/versions, OICP 2.3 (mTLS) at port {tls_port}"
    )
    world = World(
        settings=settings,
        runner=runner,
        url=f"http://127.0.0.1:{port}",
        oicp_url=f"https://127.0.0.1:{tls_port}",
        cpa=OcpiPlatform(roles=[(CPO_OCPI.country_code, CPO_OCPI.party_id, "CPO")], name=CPO_OCPI.name),
        ema=OcpiPlatform(roles=[(EMSP_OCPI.country_code, EMSP_OCPI.party_id, "EMSP")], name=EMSP_OCPI.name),
        cpb=OicpPartner("cpo", operator_id=CPO_OICP.oicp_id, name=CPO_OICP.name),
        emb=OicpPartner("emp", provider_id=EMSP_OICP.oicp_id, name=EMSP_OICP.name, tokens=[EMB_UID]),
    )
    await asyncio.gather(world.cpa.start(), world.ema.start(), world.cpb.start(), world.emb.start())
    return world


async def admit(world: World, cast: Cast, base_url: str | None = None) -> parties.PartyView:
    data: dict[str, object] = {
        "name": cast.name,
        "country_code": cast.country_code,
        "party_id": cast.party_id,
        "roles": [cast.role],
        "protocol": cast.protocol,
    }
    if cast.protocol == "oicp":
        key = "operator_id" if cast.role == "CPO" else "provider_id"
        data |= {"base_url": base_url, key: cast.oicp_id}
    view = await parties.add_party(world.db, world.settings, parties.PartyCreate.model_validate(data))
    world.party_ids[cast.ref] = view.id
    return view


async def register_all(world: World, story: Story) -> None:
    """The operator admits the parties; OCPI platforms register with token A, OICP ones get certificates."""
    for cast, sim in ((CPO_OCPI, world.cpa), (EMSP_OCPI, world.ema)):
        view = await admit(world, cast)
        assert view.token_a is not None
        credentials = await sim.register(world.versions_url, view.token_a)
        roles = ", ".join(role.role for role in credentials.roles)
        story.say(
            f"{cast.ref} {cast.name} (OCPI {cast.role}): admitted, registered with token A; "
            f"the hub answered token C and role {roles}"
        )
    for cast, partner in ((CPO_OICP, world.cpb), (EMSP_OICP, world.emb)):
        view = await admit(world, cast, base_url=partner.base_url)
        files = await issue_party_cert(
            world.db, world.settings, view.id, world.directory / "partners" / cast.ref
        )
        await partner.connect(world.oicp_url, cert=str(files.cert), key=str(files.key), ca=str(files.ca))
        what = "OperatorID" if cast.role == "CPO" else "ProviderID"
        story.say(
            f"{cast.ref} {cast.name} (OICP {cast.role}, {what} {cast.oicp_id}): admitted, "
            f"client certificate {files.certificate.serial[:12]}... issued from the hub's CA"
        )
    for cast in (CPO_OCPI, CPO_OICP):
        fee = fees.FeeSet(party=cast.ref, currency="EUR", fixed=HUB_FEE_FIXED, percent=HUB_FEE_PERCENT)
        await fees.set_fee(world.db, fee)
    fee_text = f"{HUB_FEE_FIXED} EUR per CDR plus {HUB_FEE_PERCENT} % of its cost"
    story.say(f"roamhub fee set: each CPO pays the hub {fee_text}")
    await world.settle()
    listed = await parties.list_parties(world.db, world.settings)
    status = {f"{p.roles[0].country_code}-{p.roles[0].party_id}": p.status for p in listed}
    ocpi = ", ".join(f"{c.ref} {status.get(c.ref)}" for c in (CPO_OCPI, EMSP_OCPI))
    oicp = ", ".join(f"{c.ref} {status.get(c.ref)}" for c in (CPO_OICP, EMSP_OICP))
    story.say(f"roamhub party list: OCPI {ocpi}; OICP {oicp} (OICP has no registration handshake)")
