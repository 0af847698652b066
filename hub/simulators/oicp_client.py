"""The client side of a simulated OICP partner: a CPO or an EMP calling the hub over mutual TLS.

:meth:`OicpClient.send` checks a body against Hubject's OpenAPI file of the sender's side and raises
:class:`~schemas.oicp.v2_3.openapi.OpenApiValidationError` instead of sending an invalid one;
:meth:`OicpClient.post_raw` sends any bytes, for hostile-input tests. Answers come back as parsed JSON;
an HTTP status other than 200 raises :class:`HubRefused` with the body. The typed operations built on
``send`` live in :mod:`hub.simulators.oicp_calls`.
"""

from __future__ import annotations

import json
import re
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import structlog
from multidict import CIMultiDict

from hub.simulators.oicp_wire import Role, json_or_none, openapi_errors
from schemas.oicp.v2_3 import BASE_PATH, BY_NAME, Direction, OicpModel
from schemas.oicp.v2_3.openapi import OpenApiValidationError

log = structlog.get_logger("hub.simulators.oicp")

_PLACEHOLDER = re.compile(r"\{[^}]+\}")


def _side(operation: str) -> Role:
    """Whose OpenAPI file describes the call: the sender's, from the operation's first leg."""
    return "cpo" if BY_NAME[operation].legs[0] == Direction.CPO_TO_HUB else "emp"


class HubRefused(Exception):
    """The hub answered with an HTTP status other than 200 (or with no JSON); ``body`` is what it sent."""

    def __init__(self, operation: str, status: int, body: Any) -> None:
        self.operation = operation
        self.status = status
        self.body = body
        super().__init__(f"{operation}: HTTP {status}: {body!r}"[:500])


@dataclass(frozen=True)
class HubAnswer:
    """What :meth:`OicpClient.post_raw` got back, unjudged."""

    status: int
    headers: CIMultiDict[str]
    body: Any  # parsed JSON, or None
    raw: bytes


def partner_ssl_context(cert: str | None, key: str | None, ca: str | None) -> ssl.SSLContext:
    """What a partner builds from the files ``roamhub pki issue`` hands out: trust ``ca``, present ``cert``.

    Only the hub's CA is trusted when ``ca`` is given (Hubject's server certificate is not publicly
    trusted either, oicp-hub-notes §7); TLS 1.2 or newer.
    """
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=ca)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if cert is not None:
        context.load_cert_chain(cert, key)
    return context


class OicpClient:
    """Partner → hub transport; the base of :class:`hub.simulators.oicp_calls.OicpCalls`."""

    role: Role
    name: str
    operator_id: str | None
    provider_id: str | None
    validate: bool
    allow_null: bool
    timeout: float
    sessions: dict[str, OicpModel]

    def _init_client(self) -> None:
        self.hub_url: str | None = None
        self._http: aiohttp.ClientSession | None = None
        self.answer_errors: list[str] = []  # the hub's answers that break Hubject's definitions

    async def connect(
        self, hub_url: str, *, cert: str | None = None, key: str | None = None, ca: str | None = None
    ) -> None:
        """Call the hub at ``hub_url`` (its OICP base, e.g. ``https://127.0.0.1:8443``) from now on."""
        await self.disconnect()
        context = partner_ssl_context(cert, key, ca) if hub_url.startswith("https://") else None
        self.hub_url = hub_url.rstrip("/").removesuffix(BASE_PATH)
        self._http = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(ssl=context if context is not None else False),
            timeout=aiohttp.ClientTimeout(total=self.timeout),
        )

    async def disconnect(self) -> None:
        if self._http is not None:
            await self._http.close()
        self._http = None

    # --- sending ---------------------------------------------------------------------------------

    async def post_raw(
        self,
        path: str,
        body: bytes,
        *,
        content_type: str = "application/json",
        params: Mapping[str, str] | None = None,
    ) -> HubAnswer:
        """POST any bytes to ``path`` (with or without ``/api/oicp``) on the hub: nothing is checked."""
        if self._http is None or self.hub_url is None:
            raise RuntimeError("not connected: await partner.connect(hub_url, ...) first")
        path = path if path.startswith(BASE_PATH) else BASE_PATH + "/" + path.lstrip("/")
        headers = {"Content-Type": content_type, "Accept": "application/json"}
        async with self._http.post(self.hub_url + path, data=body, headers=headers, params=params) as resp:
            raw = await resp.read()
            return HubAnswer(resp.status, CIMultiDict(resp.headers), json_or_none(raw), raw)

    async def send(
        self, operation: str, model: OicpModel, *, page: int | None = None, size: int | None = None
    ) -> dict[str, Any]:
        """Check ``model`` against Hubject's definitions, POST it to the operation's path, return the JSON."""
        body = model.to_wire()
        side = _side(operation)
        if self.validate:
            errors = openapi_errors("request", operation, body, side=side)
            if errors:
                raise OpenApiValidationError(operation, errors)
        params = {"page": str(page), "size": str(size)} if page is not None and size is not None else None
        raw = json.dumps(body, separators=(",", ":")).encode()
        answer = await self.post_raw(self._path(operation), raw, params=params)
        if answer.status != 200 or not isinstance(answer.body, dict):
            raise HubRefused(operation, answer.status, answer.body)
        if self.validate:
            found = openapi_errors("response", operation, answer.body, side=side, allow_null=self.allow_null)
            self.answer_errors.extend(f"{operation}: {error}" for error in found or [])
        return answer.body

    def _path(self, operation: str) -> str:
        # Each path carries the caller's own ID: an OperatorID on CPO services, a ProviderID on EMP ones.
        template = BY_NAME[operation].path
        if "{" not in template:
            return template
        return _PLACEHOLDER.sub(self._operator() if "/operators/" in template else self._provider(), template)

    def _operator(self) -> str:
        if self.operator_id is None:
            raise RuntimeError("a CPO operation needs the partner's operator_id")
        return self.operator_id

    def _provider(self) -> str:
        if self.provider_id is None:
            raise RuntimeError("an EMP operation needs the partner's provider_id")
        return self.provider_id
