"""The credentials module, both sides of it (ocpi-hub-notes §4.2): tokens A, B and C.

A platform is the *client* when it registers with a peer (:meth:`OcpiCredentials.register`) and the
*server* when a peer registers with it using a token A it issued (:meth:`OcpiCredentials.accept_registration`,
called by the credentials endpoint). Either way the peer ends up as one :class:`Peer`, found by the token it
presents to us.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aiohttp
import structlog
from pydantic import TypeAdapter, ValidationError

from hub.errors import (
    ClientApiUnusable,
    HubError,
    InvalidParameters,
    NoMatchingEndpoints,
    NotAuthenticated,
    UnsupportedVersion,
)
from hub.simulators.ocpi_wire import (
    SENDER,
    SUCCESS,
    VERSION,
    Peer,
    RegistrationFailed,
    SimResponse,
    new_token,
    token_candidates,
)
from schemas.ocpi.v2_2_1 import Credentials, Version, VersionDetails

log = structlog.get_logger("hub.simulators.ocpi")

_VERSIONS: TypeAdapter[list[Version]] = TypeAdapter(list[Version])


class OcpiCredentials:
    """Registration, re-keying and unregistration; :class:`hub.simulators.ocpi.OcpiPlatform` supplies the
    identity (``name``, ``roles``, ``versions_url``) and the transport (:meth:`send`)."""

    name: str
    roles: list[tuple[str, str, str]]
    peer: Peer | None
    _inbound: dict[str, Peer]  # token a peer presents to us -> that peer
    _tokens_a: set[str]

    @property
    def versions_url(self) -> str:
        raise NotImplementedError

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
        raise NotImplementedError

    def credentials(self, token: str) -> dict[str, Any]:
        roles = [
            {"role": role, "business_details": {"name": self.name}, "party_id": pid, "country_code": cc}
            for cc, pid, role in self.roles
        ]
        return {"token": token, "url": self.versions_url, "roles": roles}

    def _require_peer(self) -> Peer:
        if self.peer is None:
            raise RuntimeError("no peer: register() first, or let a peer register with us")
        return self.peer

    @staticmethod
    def _peer_url(peer: Peer, module: str, interface: str) -> str:
        url = peer.endpoint(module, interface)
        if url is None:
            raise LookupError(f"the peer lists no {module} {interface} endpoint")
        return url

    # --- registration we initiate (ocpi-hub-notes §4.2, steps 2-5) ---------------------------------

    async def register(self, versions_url: str, token_a: str) -> Credentials:
        if self.peer is not None and self.peer.outbound_token is not None:
            raise RegistrationFailed("already registered with a peer")
        version, endpoints = await self._discover_as_client(versions_url, token_a)
        peer = Peer(versions_url, inbound_token=new_token(), version=version, endpoints=endpoints)
        # The peer calls our versions with token B before it answers the POST (step 4).
        self._inbound[peer.inbound_token] = peer
        try:
            credentials = await self._exchange("POST", peer, token_a, peer.inbound_token)
        except BaseException:
            del self._inbound[peer.inbound_token]
            raise
        self._adopt(peer, credentials)
        self.peer = peer
        log.info("simulator.registered", name=self.name, peer=versions_url)
        return credentials

    async def update_credentials(self) -> Credentials:
        peer = self._require_peer()
        peer.version, peer.endpoints = await self._discover_as_client(peer.versions_url, peer.outbound_token)
        new_b = new_token()
        self._inbound[new_b] = peer  # the peer re-fetches our endpoints with the new token
        try:
            credentials = await self._exchange("PUT", peer, peer.outbound_token, new_b)
        except BaseException:
            del self._inbound[new_b]
            raise
        del self._inbound[peer.inbound_token]
        peer.inbound_token = new_b
        self._adopt(peer, credentials)
        return credentials

    async def unregister(self) -> None:
        peer = self._require_peer()
        response = await self.send(
            "DELETE", self._peer_url(peer, "credentials", SENDER), token=peer.outbound_token
        )
        if response.status_code != SUCCESS:
            raise RegistrationFailed("the peer refused the credentials DELETE", response)
        self.forget(peer)

    async def _discover_as_client(
        self, versions_url: str, token: str | None
    ) -> tuple[str, dict[tuple[str, str], str]]:
        try:
            return await self.discover(versions_url, token)
        except HubError as exc:
            raise RegistrationFailed(str(exc)) from exc

    async def _exchange(self, method: str, peer: Peer, token: str | None, offered: str) -> Credentials:
        url = self._peer_url(peer, "credentials", SENDER)
        response = await self.send(method, url, token=token, json=self.credentials(offered))
        if response.status_code != SUCCESS:
            raise RegistrationFailed(f"the peer refused the credentials {method}", response)
        try:
            return Credentials.model_validate(response.data)
        except ValidationError as exc:
            raise RegistrationFailed("the peer answered invalid credentials", response) from exc

    @staticmethod
    def _adopt(peer: Peer, credentials: Credentials) -> None:
        peer.outbound_token = credentials.token
        peer.versions_url = credentials.url
        peer.roles = [role.model_dump(mode="json") for role in credentials.roles]

    # --- registration the peer initiates (our credentials endpoint) --------------------------------

    def issue_token_a(self) -> str:
        """A one-time token A, accepted on versions and credentials only, until a registration uses it."""
        token = new_token()
        self._tokens_a.add(token)
        return token

    def accept_token_a(self, token: str) -> None:
        """Accept a token A chosen by the operator (the ``simulate`` CLI)."""
        self._tokens_a.add(token)

    def identify(self, authorization: str | None) -> tuple[Peer | None, str | None]:
        """(the peer, None) for a registered token, (None, token A) for a token A; else 401 (§2.1)."""
        for candidate in token_candidates(authorization):
            if candidate in self._inbound:
                return self._inbound[candidate], None
            if candidate in self._tokens_a:
                return None, candidate
        raise NotAuthenticated("missing or unknown credentials token")

    async def accept_registration(self, token_a: str, body: Any) -> dict[str, Any]:
        offered = _credentials(body)
        version, endpoints = await self.discover(offered.url, offered.token)
        peer = Peer(offered.url, inbound_token=new_token(), version=version, endpoints=endpoints)
        self._adopt(peer, offered)
        self._tokens_a.discard(token_a)  # token A is spent (step 5)
        self._inbound[peer.inbound_token] = peer
        if self.peer is None:
            self.peer = peer
        return self.credentials(peer.inbound_token)

    async def accept_update(self, peer: Peer, body: Any) -> dict[str, Any]:
        offered = _credentials(body)
        # Re-fetch the endpoints even when the version is unchanged (§4.2 PUT), with the new token.
        peer.version, peer.endpoints = await self.discover(offered.url, offered.token)
        self._adopt(peer, offered)
        del self._inbound[peer.inbound_token]
        peer.inbound_token = new_token()
        self._inbound[peer.inbound_token] = peer
        return self.credentials(peer.inbound_token)

    def forget(self, peer: Peer) -> None:
        for token in [token for token, known in self._inbound.items() if known is peer]:
            del self._inbound[token]
        if self.peer is peer:
            self.peer = None

    async def discover(self, versions_url: str, token: str | None) -> tuple[str, dict[tuple[str, str], str]]:
        """GET a peer's versions and 2.2.1 details; errors carry the code a receiver answers (§4.2)."""
        try:
            versions = _VERSIONS.validate_python(await self._fetch_data(versions_url, token))
        except ValidationError as exc:
            raise ClientApiUnusable("the peer's versions list is invalid") from exc
        urls = {str(version.version): version.url for version in versions}
        if VERSION not in urls:
            raise UnsupportedVersion(f"the peer offers {sorted(urls)}, not {VERSION}")
        try:
            details = VersionDetails.model_validate(await self._fetch_data(urls[VERSION], token))
        except ValidationError as exc:
            raise ClientApiUnusable("the peer's version details are invalid") from exc
        endpoints = {(str(e.identifier), e.role.value): e.url for e in details.endpoints}
        if not any(module == "credentials" for module, _ in endpoints):
            raise NoMatchingEndpoints("the peer lists no credentials endpoint")
        return VERSION, endpoints

    async def _fetch_data(self, url: str, token: str | None) -> Any:
        try:
            response = await self.send("GET", url, token=token)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise ClientApiUnusable(f"GET {url} failed: {type(exc).__name__}") from exc
        if response.status != 200 or response.status_code != SUCCESS:
            raise ClientApiUnusable(f"GET {url} answered HTTP {response.status}, OCPI {response.status_code}")
        return response.data


def _credentials(body: Any) -> Credentials:
    try:
        return Credentials.model_validate(body)
    except ValidationError as exc:
        raise InvalidParameters(f"invalid credentials object: {exc.errors()[0]['msg']}") from exc
