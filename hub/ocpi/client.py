"""The one outbound OCPI client: every call the hub makes to an OCPI platform goes through here.

Third-party errors are translated once, at this boundary (STYLE.md §6): a timeout becomes
:class:`ForwardTimeout` (4002), a refused or broken connection :class:`ReceiverNotConnected` (4003).
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import structlog
from multidict import CIMultiDictProxy

from hub.config import OcpiSettings
from hub.errors import ClientApiUnusable, ForwardTimeout, ReceiverNotConnected
from hub.traffic import TrafficRecorder, observe_outbound

log = structlog.get_logger("hub.ocpi.client")


def authorization(token: str, *, encode: bool = True) -> str:
    """``Token <base64(token)>`` (2.2.1 §transport); ``encode=False`` for peers that expect the raw token."""
    value = base64.b64encode(token.encode("utf-8")).decode("ascii") if encode else token
    return f"Token {value}"


@dataclass(frozen=True)
class OcpiReply:
    status: int
    raw: bytes
    headers: CIMultiDictProxy[str]
    body: Any = field(default=None)

    @property
    def status_code(self) -> int | None:
        """The OCPI status code of the envelope, if the body is one."""
        if isinstance(self.body, dict) and isinstance(self.body.get("status_code"), int):
            return int(self.body["status_code"])
        return None

    @property
    def data(self) -> Any:
        return self.body.get("data") if isinstance(self.body, dict) else None


class OcpiClient:
    """Wraps the process's one shared :class:`aiohttp.ClientSession`."""

    def __init__(
        self, session: aiohttp.ClientSession, settings: OcpiSettings, recorder: TrafficRecorder | None = None
    ) -> None:
        self._session = session
        self._settings = settings
        self._recorder = recorder

    async def request(
        self,
        method: str,
        url: str,
        *,
        token: str,
        encode: bool = True,
        json_body: Any = None,
        data: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> OcpiReply:
        send_headers = {"Authorization": authorization(token, encode=encode)}
        if headers:
            send_headers.update(headers)
        # Every OCPI request carries a fresh request id and the conversation's correlation id (§2.6).
        if "X-Request-ID" not in send_headers:
            send_headers["X-Request-ID"] = str(uuid.uuid4())
        if "X-Correlation-ID" not in send_headers:
            send_headers["X-Correlation-ID"] = _correlation_id()
        if json_body is not None:
            data = json.dumps(json_body, separators=(",", ":")).encode("utf-8")
        if data is not None:
            send_headers.setdefault("Content-Type", "application/json")
        limit = aiohttp.ClientTimeout(
            total=timeout or self._settings.timeout, connect=self._settings.connect_timeout
        )
        started = time.perf_counter()
        status: int | None = None
        code: int | None = None
        try:
            async with self._session.request(
                method, url, data=data, headers=send_headers, params=params, timeout=limit
            ) as response:
                raw = await response.read()
                reply = OcpiReply(status=response.status, raw=raw, headers=response.headers, body=_parse(raw))
                status, code = reply.status, reply.status_code
                return reply
        except TimeoutError as exc:
            code = ForwardTimeout.ocpi_status
            log.info("ocpi.client_timeout", method=method, url=_safe(url), seconds=limit.total)
            raise ForwardTimeout(f"the partner gave no answer within {limit.total:g} s") from exc
        except (aiohttp.ClientConnectionError, aiohttp.InvalidURL, OSError) as exc:
            code = ReceiverNotConnected.ocpi_status
            log.info("ocpi.client_unreachable", method=method, url=_safe(url), error=type(exc).__name__)
            raise ReceiverNotConnected(f"the partner could not be reached ({type(exc).__name__})") from exc
        finally:
            elapsed_ms = (time.perf_counter() - started) * 1000
            observe_outbound(self._recorder, method, url, send_headers, status, code, elapsed_ms)


def _safe(url: str) -> str:
    """A URL fit for an error message or a log: no query string (it may hold a response_url)."""
    return url.split("?", 1)[0]


def _correlation_id() -> str:
    """The id of the conversation this call belongs to: the inbound request's, or a new one."""
    bound = structlog.contextvars.get_contextvars().get("correlation_id")
    return str(bound) if bound else str(uuid.uuid4())


def _parse(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None


def expect_success(reply: OcpiReply, what: str) -> Any:
    """The envelope's data of a successful answer, or :class:`ClientApiUnusable` (3001) saying why not."""
    if reply.status >= 300:
        raise ClientApiUnusable(f"{what}: HTTP {reply.status}")
    if reply.status_code is None:
        raise ClientApiUnusable(f"{what}: the answer is not an OCPI envelope")
    if reply.status_code != 1000:
        raise ClientApiUnusable(f"{what}: OCPI status {reply.status_code}")
    return reply.data
