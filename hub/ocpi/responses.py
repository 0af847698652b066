"""Building OCPI answers: the envelope, the echoed ids, and routing headers where they belong."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from hub.ocpi.envelope import SUCCESS, envelope


def ocpi_response(
    data: Any = None,
    *,
    status_code: int = SUCCESS,
    message: str | None = None,
    http_status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> web.Response:
    body = envelope(data, status_code=status_code, message=message, now=datetime.now(UTC))
    return web.json_response(body, status=http_status, headers=headers)
