"""Simulated OICP 2.3 partners (a CPO or an EMP) as Hubject's partners see the hub, on loopback.

A partner is two things on one object: an aiohttp server serving what Hubject forwards to its role, on
Hubject's paths (:mod:`hub.simulators.oicp_server`), and a client calling the hub over mutual TLS with
the files ``roamhub pki issue`` hands out (:mod:`hub.simulators.oicp_calls`). It is strict on what it
receives and records everything: ``received`` holds every request, each checked against Hubject's
OpenAPI files. Typical use::

    emp = OicpPartner("emp", provider_id="DE-DCB", tokens=["7568290FFF765F"])
    cpo = OicpPartner("cpo", operator_id="DE*ABC")
    await emp.start(); await cpo.start()                  # their base URLs go into the hub's party records
    await cpo.connect(hub_url, cert=..., key=..., ca=...)
    answer = await cpo.authorize_start("7568290FFF765F", "DE*ABC*E1")   # the hub asks emp, emp says yes
    assert all(r.valid for r in emp.received)
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import signal
from collections.abc import Iterable
from ssl import SSLContext
from types import TracebackType
from typing import Self

import structlog
from aiohttp import web

from hub.simulators.oicp_calls import OicpCalls
from hub.simulators.oicp_client import HubAnswer, HubRefused, partner_ssl_context
from hub.simulators.oicp_samples import (
    identification,
    sample_cdr,
    sample_evse_record,
    sample_pricing_record,
)
from hub.simulators.oicp_server import build_app
from hub.simulators.oicp_wire import ROLE_OPERATIONS, Received, Role
from schemas.oicp.v2_3 import (
    OPERATOR_ID,
    PROVIDER_ID,
    ChargingNotification,
    OicpModel,
    StatusCodeType,
    eRoamingChargeDetailRecord,
)

log = structlog.get_logger("hub.simulators.oicp")


class OicpPartner(OicpCalls):
    """One simulated OICP partner: a server for what the hub forwards, and a client towards the hub."""

    def __init__(
        self,
        role: str,
        *,
        operator_id: str | None = None,
        provider_id: str | None = None,
        tokens: Iterable[str] = (),
        name: str = "Simulator",
        host: str = "127.0.0.1",
        port: int = 0,
        ssl: SSLContext | None = None,
        validate: bool = True,
        timeout: float = 30.0,
    ) -> None:
        role = role.lower()
        if role not in ROLE_OPERATIONS:
            raise ValueError(f"role must be 'cpo' or 'emp', got {role!r}")
        self.role: Role = "cpo" if role == "cpo" else "emp"
        self.operator_id = _checked(operator_id, OPERATOR_ID, "an OperatorID like DE*ABC")
        self.provider_id = _checked(provider_id, PROVIDER_ID, "a ProviderID like DE-DCB")
        if self.role == "cpo" and self.operator_id is None:
            raise ValueError("a CPO needs its operator_id")
        if self.role == "emp" and self.provider_id is None:
            raise ValueError("an EMP needs its provider_id")
        self.name = name
        self.host = host
        self.port = port
        self.ssl = ssl
        self.validate = validate  # check every body against Hubject's files (off for benchmarks)
        self.timeout = timeout
        self._init_hooks(tokens)
        self._init_records()
        self._init_client()
        self._runner: web.AppRunner | None = None

    def _init_hooks(self, tokens: Iterable[str]) -> None:
        """What tests script: the answers to give and the failures to provoke."""
        self.tokens: set[str] = {token.upper() for token in tokens}  # EMP: UIDs and EvcoIDs it authorizes
        self.authorize_delay = 0.0  # EMP: seconds before answering AuthorizeStart/Stop
        self.refuse_cdrs: str | None = None  # EMP: CDRs answered Result false, 022, with this reason
        self.refuse_notifications: str | None = None  # EMP: notifications answered false, 021
        self.remote_code: StatusCodeType | str = StatusCodeType.SUCCESS  # CPO: remote/reservation start
        self.remote_delay = 0.0  # CPO: seconds before answering remote start/stop and reservations
        self.accept_unknown_sessions = False  # CPO: stop sessions it never started instead of 400
        self.offline = False  # every request answered HTTP 503
        self.allow_null = False  # accept Hubject-style null optionals as valid

    def _init_records(self) -> None:
        self.received: list[Received] = []
        self.sessions: dict[str, OicpModel] = {}  # SessionID -> the request that opened it
        self.reservations: dict[str, OicpModel] = {}  # CPO: SessionID -> the reservation request
        self.cdrs: list[eRoamingChargeDetailRecord] = []  # EMP: the CDRs accepted
        self.notifications: list[ChargingNotification] = []  # EMP: the notifications accepted

    # --- hooks -----------------------------------------------------------------------------------

    def authorize(self, *tokens: str) -> None:
        """EMP: answer Authorized for these UIDs or EvcoIDs from now on."""
        self.tokens.update(token.upper() for token in tokens)

    def revoke(self, *tokens: str) -> None:
        self.tokens.difference_update(token.upper() for token in tokens)

    def received_for(self, operation: str) -> list[Received]:
        """The requests recorded for one operation name, oldest first."""
        return [record for record in self.received if record.operation == operation]

    # --- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        self._runner = web.AppRunner(build_app(self), access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port, ssl_context=self.ssl).start()
        self.port = int(self._runner.addresses[0][1])
        log.info("simulator.started", role=self.role, base_url=self.base_url)

    async def stop(self) -> None:
        await self.disconnect()
        if self._runner is not None:
            await self._runner.cleanup()
        self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """Where the hub calls this partner; the hub appends ``/api/oicp/...`` (oicp-hub-notes §1)."""
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host  # noqa: S104
        return f"{'https' if self.ssl is not None else 'http'}://{host}:{self.port}"


def _checked(value: str | None, pattern: re.Pattern[str], what: str) -> str | None:
    if value is not None and not pattern.fullmatch(value):
        raise ValueError(f"{value!r} is not {what}")
    return value


async def run_oicp_simulator(
    role: str,
    *,
    host: str,
    port: int,
    hub_url: str | None = None,
    cert: str | None = None,
    key: str | None = None,
    ca: str | None = None,
    operator_id: str | None = None,
    provider_id: str | None = None,
    tokens: Iterable[str] = (),
) -> None:
    """Run one simulated partner until SIGINT or SIGTERM (``roamhub simulate cpo|emp --protocol oicp``).

    Prints the base URL to give the hub (``roamhub party add --base-url``). With ``hub_url`` the client
    side is set up with the certificate files, so a bad file fails here rather than at the first call.
    """
    partner = OicpPartner(
        role, operator_id=operator_id, provider_id=provider_id, tokens=tokens, host=host, port=port
    )
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # no signal handlers on Windows loops
            loop.add_signal_handler(signum, stopping.set)
    try:
        await partner.start()
        if hub_url is not None:
            await partner.connect(hub_url, cert=cert, key=key, ca=ca)
        print(partner.base_url, flush=True)
        log.info("simulator.ready", role=partner.role, base_url=partner.base_url, hub_url=hub_url)
        await stopping.wait()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.remove_signal_handler(signum)
        await partner.stop()


__all__ = [
    "HubAnswer",
    "HubRefused",
    "OicpPartner",
    "Received",
    "identification",
    "partner_ssl_context",
    "run_oicp_simulator",
    "sample_cdr",
    "sample_evse_record",
    "sample_pricing_record",
]
