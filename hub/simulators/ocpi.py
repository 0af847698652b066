"""Simulated OCPI 2.2.1 partner platforms (a CPO, an eMSP, or one platform hosting both) on loopback.

A platform is strict on what it receives and records everything: ``received`` holds every request,
``violations`` every rule a caller broke (ocpi-hub-notes §2, §4, §8). Roles are data: the same class is a
CPO or an eMSP depending on ``roles``; :data:`hub.simulators.ocpi_wire.ROLE_ENDPOINTS` says which
interfaces each role serves. The HTTP side lives in :mod:`hub.simulators.ocpi_server`.

Typical use::

    emsp = OcpiPlatform(roles=[("DE", "EMS", "EMSP")]); cpo = OcpiPlatform(roles=[("NL", "CPA", "CPO")])
    await emsp.start(); await cpo.start()
    await cpo.register(emsp.versions_url, emsp.issue_token_a())
    await cpo.push_location(location)           # lands in emsp.store.locations
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Coroutine, Mapping
from types import TracebackType
from typing import Any, Self

import aiohttp
import structlog
from aiohttp import web
from multidict import CIMultiDict

from hub.simulators.ocpi_calls import OcpiCalls
from hub.simulators.ocpi_credentials import OcpiCredentials
from hub.simulators.ocpi_server import build_app
from hub.simulators.ocpi_store import SimStore
from hub.simulators.ocpi_wire import (
    CONFIG_MODULES,
    RECEIVER,
    ROLE_ENDPOINTS,
    SENDER,
    VERSION,
    Party,
    Peer,
    Received,
    RegistrationFailed,
    SimResponse,
    encode_token,
    opposite,
)

log = structlog.get_logger("hub.simulators.ocpi")

_SENDER_MODULES = ("locations", "tariffs", "sessions", "cdrs", "tokens")


class OcpiPlatform(OcpiCredentials, OcpiCalls):
    """One simulated OCPI platform: an aiohttp server for the peer, and a client towards it."""

    def __init__(
        self,
        *,
        roles: list[tuple[str, str, str]],
        name: str = "Simulator",
        host: str = "127.0.0.1",
        port: int = 0,
        encode_tokens: bool = True,
        public_url: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.roles = [(cc, pid, role.upper()) for cc, pid, role in roles]
        unknown = {role for _, _, role in self.roles} - ROLE_ENDPOINTS.keys()
        if not self.roles or unknown:
            raise ValueError(f"roles must be among {sorted(ROLE_ENDPOINTS)}, got {sorted(unknown) or 'none'}")
        self.name = name
        self.host = host
        self.port = port
        self.encode_tokens = encode_tokens
        self.timeout = timeout
        self._public_url = public_url
        self._init_hooks()
        self._init_records()
        self.peer: Peer | None = None
        self._inbound: dict[str, Peer] = {}  # token the peer presents -> that peer
        self._tokens_a: set[str] = set()
        self._awaiting: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.command_targets: dict[str, Party | None] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    def _init_hooks(self) -> None:
        """What tests script: failures to provoke and the answers to give."""
        self.omit_modules: set[str] = set()  # modules left out of version details (and answered 404)
        self.fail_versions = False  # versions and version details answer HTTP 500 (hub: 3001)
        self.versions: list[str] = [VERSION]  # e.g. ["2.1.1"] (hub: 3002)
        self.authorize_result = "ALLOWED"
        self.authorize_delay = 0.0
        self.command_response = "ACCEPTED"
        self.command_timeout = 30
        self.command_result = "ACCEPTED"
        self.command_result_delay = 0.0
        self.page_limit = 50
        self.refuse_cdrs: str | None = None  # CDR POSTs are answered 2001 with this reason
        self.flaky_cdrs: set[str] = set()  # CDR ids answered HTTP 503 once each (a passing fault)

    def _init_records(self) -> None:
        self.received: list[Received] = []
        self.violations: list[str] = []
        self.client_info: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.store = SimStore()
        # Objects this platform owns and serves on its Sender interfaces, oldest first.
        self.own: dict[str, list[dict[str, Any]]] = {module: [] for module in _SENDER_MODULES}
        self.command_results: dict[str, list[dict[str, Any]]] = {}
        self.result_posts: list[SimResponse] = []  # the answers to our async CommandResult/profile POSTs

    # --- lifecycle --------------------------------------------------------------------------------

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        self._runner = web.AppRunner(build_app(self), access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()
        self.port = int(self._runner.addresses[0][1])
        log.info("simulator.started", name=self.name, versions_url=self.versions_url)

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()
        self._runner = self._session = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        """Run a background job (an async result POST) that :meth:`stop` cancels."""
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- addresses and identity --------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        if self._public_url is not None:
            return self._public_url.rstrip("/")
        # A wildcard bind address is not something a peer can call back.
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host  # noqa: S104
        return f"http://{host}:{self.port}"

    @property
    def versions_url(self) -> str:
        return f"{self.base_url}/ocpi/versions"

    @property
    def tokens(self) -> list[dict[str, Any]]:
        """This platform's own tokens: what authorize answers from and the tokens Sender list serves."""
        return self.own["tokens"]

    @tokens.setter
    def tokens(self, value: list[dict[str, Any]]) -> None:
        self.own["tokens"] = value

    def endpoint_table(self) -> list[tuple[str, str]]:
        """The (module, interface) pairs served: the union over our roles, minus ``omit_modules``."""
        pairs = set().union(*(ROLE_ENDPOINTS[role] for _, _, role in self.roles))
        return sorted(pair for pair in pairs if pair[0] not in self.omit_modules)

    def endpoint_url(self, module: str, interface: str) -> str:
        if module in CONFIG_MODULES:
            return f"{self.base_url}/ocpi/{VERSION}/{module}"
        return f"{self.base_url}/ocpi/{VERSION}/{interface.lower()}/{module}"

    def command_response_url(self, result_id: str, target: Party | None) -> str:
        """A response_url on this platform; a result must come from ``target`` (when known)."""
        self._awaiting[result_id] = asyncio.get_running_loop().create_future()
        self.command_targets[result_id] = target
        return f"{self.base_url}/ocpi/{VERSION}/commands-results/{result_id}"

    def party_for(self, module: str, interface: str) -> Party:
        """Our party that serves ``interface`` of ``module``; the first role if none does."""
        for cc, pid, role in self.roles:
            if (module, interface) in ROLE_ENDPOINTS[role]:
                return (cc, pid)
        return (self.roles[0][0], self.roles[0][1])

    def is_ours(self, party: Party) -> bool:
        return any(
            cc.upper() == party[0].upper() and pid.upper() == party[1].upper() for cc, pid, _ in self.roles
        )

    # --- outbound requests -------------------------------------------------------------------------

    async def call(
        self,
        method: str,
        module: str,
        interface: str,
        path: str = "",
        *,
        json: Any = None,
        params: Mapping[str, str] | None = None,
        to: Party | None = None,
        from_: Party | None = None,
        headers: Mapping[str, str | None] | None = None,
        raw_url: str | None = None,
        correlation_id: str | None = None,
    ) -> SimResponse:
        """A request to the peer; ``headers`` values of ``None`` remove a header (to provoke errors)."""
        peer = self._require_peer()
        url = raw_url or _join(self._peer_url(peer, module, interface), path)
        routing: dict[str, str | None] = {}
        if module not in CONFIG_MODULES:
            from_ = from_ or self.party_for(module, opposite(interface))
            routing = self.routing_headers(from_, to or _default_to(peer, module, interface))
        return await self.send(
            method,
            url,
            token=peer.outbound_token,
            json=json,
            params=params,
            headers={**routing, **(headers or {})},
            correlation_id=correlation_id,
        )

    @staticmethod
    def routing_headers(from_: Party, to: Party | None) -> dict[str, str | None]:
        headers: dict[str, str | None] = {"OCPI-from-country-code": from_[0], "OCPI-from-party-id": from_[1]}
        if to is not None:  # omitted TO = open routing (§2.7)
            headers |= {"OCPI-to-country-code": to[0], "OCPI-to-party-id": to[1]}
        return headers

    async def send(
        self,
        method: str,
        url: str,
        *,
        token: str | None,
        json: Any = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str | None] | None = None,
        correlation_id: str | None = None,
    ) -> SimResponse:
        sent: CIMultiDict[str] = CIMultiDict()
        sent["X-Request-ID"] = str(uuid.uuid4())
        sent["X-Correlation-ID"] = correlation_id or str(uuid.uuid4())
        if token is not None:
            sent["Authorization"] = f"Token {encode_token(token, encode=self.encode_tokens)}"
        for name, value in (headers or {}).items():
            sent.popall(name, None)
            if value is not None:
                sent[name] = value
        async with self._http().request(method, url, json=json, params=params, headers=sent) as resp:
            text = await resp.text()
            return SimResponse(resp.status, _json_or_none(text), CIMultiDict(resp.headers))

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise RuntimeError("the simulator is not started")
        return self._session

    # --- command results handed to us (the response_url we gave out) -------------------------------

    def receive_command_result(self, result_id: str, result: dict[str, Any]) -> None:
        self.command_results.setdefault(result_id, []).append(result)
        waiter = self._awaiting.get(result_id)
        if waiter is not None and not waiter.done():
            waiter.set_result(result)

    def knows_result_id(self, result_id: str) -> bool:
        return result_id in self._awaiting

    async def wait_command_result(self, result_id: str, timeout: float = 5.0) -> dict[str, Any]:
        """The first CommandResult posted to the response_url of :meth:`send_command`'s ``result_id``."""
        return await asyncio.wait_for(asyncio.shield(self._awaiting[result_id]), timeout)

    async def post_async_result(
        self,
        peer: Peer,
        url: str,
        result: dict[str, Any],
        *,
        routing: dict[str, str | None],
        correlation_id: str,
    ) -> None:
        """POST a CommandResult (or charging profile result) to a response_url after the scripted delay."""
        await asyncio.sleep(self.command_result_delay)
        try:
            response = await self.send(
                "POST",
                url,
                token=peer.outbound_token,
                json=result,
                headers=routing,
                correlation_id=correlation_id,
            )
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("simulator.result_post_failed", name=self.name, error=type(exc).__name__)
            return
        self.result_posts.append(response)


def _default_to(peer: Peer, module: str, interface: str) -> Party | None:
    """TO when the caller gave none: the peer's party serving the interface on a direct connection (§2.7).

    A hub peer gets no TO: that is an open routing request, which the hub resolves. To send a request
    without TO to a direct peer anyway (a negative test), remove the headers through ``headers``.
    """
    if any(role["role"] == "HUB" for role in peer.roles):
        return None
    for role in peer.roles:
        if (module, interface) in ROLE_ENDPOINTS.get(role["role"], frozenset()):
            return (role["country_code"], role["party_id"])
    return None


def _join(url: str, path: str) -> str:
    return f"{url.rstrip('/')}/{path.lstrip('/')}" if path else url


def _json_or_none(text: str) -> Any:
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None


async def run_simulator(
    role: str,
    *,
    host: str,
    port: int,
    hub_versions_url: str | None,
    token_a: str | None,
    country_code: str,
    party_id: str,
) -> None:
    """Run one simulated platform until cancelled (``roamhub simulate cpo|emsp``).

    With ``hub_versions_url`` it registers with the hub using ``token_a``; without, ``token_a`` (if given)
    is accepted as the token A with which the other side registers with us.
    """
    if hub_versions_url is not None and token_a is None:
        raise ValueError("registering with a hub needs the token A the hub issued")
    platform = OcpiPlatform(
        roles=[(country_code, party_id, role.upper())], name=f"Simulated {role.upper()}", host=host, port=port
    )
    await platform.start()
    try:
        if hub_versions_url is not None and token_a is not None:
            await platform.register(hub_versions_url, token_a)
        elif token_a is not None:
            platform.accept_token_a(token_a)
        log.info("simulator.ready", role=role.upper(), versions_url=platform.versions_url)
        await asyncio.Event().wait()
    finally:
        await platform.stop()


__all__ = ["RECEIVER", "SENDER", "OcpiPlatform", "RegistrationFailed", "run_simulator"]
