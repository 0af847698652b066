"""The one outbound OICP client: every call the hub makes to an OICP partner goes through here.

Hubject calls a partner at the base URL the partner configured for each service and appends the standard
path (oicp-hub-notes §1), presenting its own client certificate; so does the hub. Third-party errors are
translated once, here (STYLE.md §6): a timeout is :class:`ForwardTimeout` and a refused connection, an HTTP
error or an answer that is not JSON is :class:`ReceiverNotConnected`, both OICP 310 "Partner did not
respond"; a service the partner does not offer is :class:`ServiceNotAvailable` (320).
"""

from __future__ import annotations

import json
import ssl
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import aiohttp
import structlog

from hub.config import Settings
from hub.errors import ForwardTimeout, ReceiverNotConnected, ServiceNotAvailable
from hub.pki.tls import client_ssl_context
from hub.store.models import Party
from hub.store.types import utcnow
from hub.traffic import TrafficEntry, TrafficRecorder
from schemas.oicp.v2_3.endpoints import Operation

log = structlog.get_logger("hub.oicp.client")


@dataclass(frozen=True)
class PartnerLink:
    """Where and how to reach one OICP partner."""

    party_fk: int
    name: str
    base_url: str | None
    services: dict[str, Any] | None
    ca: str | None

    @classmethod
    def of(cls, party: Party) -> PartnerLink:
        assert party.id is not None
        return cls(party.id, party.name, party.base_url, party.oicp_services, party.oicp_ca)

    def offers(self, service: str) -> bool:
        return self.base_for(service) is not None

    def base_for(self, service: str) -> str | None:
        """The partner's base URL for a service: its own entry (None = not offered), else the default."""
        if self.services is not None and service in self.services:
            value = self.services[service]
            return str(value).rstrip("/") if value else None
        return self.base_url.rstrip("/") if self.base_url else None

    def url(self, operation: Operation, params: dict[str, str]) -> str:
        base = self.base_for(operation.service)
        if base is None:
            raise ServiceNotAvailable(f"{self.name} offers no {operation.service} endpoint")
        path = operation.path
        for name, value in params.items():
            path = path.replace("{" + name + "}", value)
        return base + path


class OicpClient:
    """Wraps the process's one shared :class:`aiohttp.ClientSession`."""

    def __init__(
        self, session: aiohttp.ClientSession, settings: Settings, recorder: TrafficRecorder | None = None
    ) -> None:
        self._session = session
        self._settings = settings
        self._recorder = recorder

    def _ssl(self, url: str, link: PartnerLink) -> ssl.SSLContext | bool:
        if not url.startswith("https://"):
            return False
        return client_ssl_context(self._settings, link.ca)

    async def call(
        self,
        link: PartnerLink,
        operation: Operation,
        body: dict[str, Any] | bytes,
        *,
        params: dict[str, str] | None = None,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """POST one message to the partner; its JSON answer, or a 310/320 error saying why not."""
        url = link.url(operation, params or {})
        settings = self._settings.oicp
        limit = aiohttp.ClientTimeout(total=timeout or settings.timeout, connect=settings.connect_timeout)
        # Bytes are sent as they are: a stored CDR is forwarded unchanged (notes §6 "Processing").
        data = body if isinstance(body, bytes) else json.dumps(body, separators=(",", ":")).encode("utf-8")
        headers = {"Content-Type": "application/json", "Process-ID": str(uuid.uuid4())}
        started = time.perf_counter()
        status: int | None = None
        code: str | None = None
        try:
            async with self._session.post(
                url, data=data, headers=headers, timeout=limit, ssl=self._ssl(url, link)
            ) as response:
                status = response.status
                raw = await response.read()
            answer = _json_object(raw)
            code = _status_code(answer)
            if status != 200 or answer is None:
                raise ReceiverNotConnected(f"{link.name} answered HTTP {status} without an OICP body")
            return answer
        except TimeoutError as exc:
            code = ForwardTimeout.oicp_code
            log.info("oicp.client_timeout", operation=operation.name, partner=link.name)
            raise ForwardTimeout(f"{link.name} gave no answer within {limit.total:g} s") from exc
        except (aiohttp.ClientError, OSError) as exc:
            code = ReceiverNotConnected.oicp_code
            log.info("oicp.client_unreachable", operation=operation.name, partner=link.name)
            raise ReceiverNotConnected(f"{link.name} could not be reached ({type(exc).__name__})") from exc
        finally:
            self._record(operation, url, link, status, code, (time.perf_counter() - started) * 1000)

    def _record(
        self,
        operation: Operation,
        url: str,
        link: PartnerLink,
        status: int | None,
        code: str | None,
        ms: float,
    ) -> None:
        if self._recorder is None:
            return
        try:
            self._recorder.record(
                TrafficEntry(
                    at=utcnow() - timedelta(milliseconds=ms),
                    direction="out",
                    protocol="oicp",
                    module=operation.service,
                    method="POST",
                    path=url.split("?", 1)[0],
                    party_fk=link.party_fk,
                    sender=None,
                    receiver=None,
                    http_status=status,
                    status_code=code,
                    latency_ms=round(ms, 3),
                    request_id=None,
                    correlation_id=None,
                )
            )
        except Exception:  # never let the log break a call to a partner
            log.exception("traffic.record_failed", operation=operation.name)


def _json_object(raw: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    return value if isinstance(value, dict) else None


def _status_code(answer: dict[str, Any] | None) -> str | None:
    status = answer.get("StatusCode") if answer else None
    return str(status.get("Code")) if isinstance(status, dict) and status.get("Code") is not None else None
