"""The OCPI response envelope (ocpi-hub-notes §2.3) and its timestamps (§2.5: UTC, ending in ``Z``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

SUCCESS = 1000


def ocpi_timestamp(moment: datetime) -> str:
    """RFC 3339 in UTC with a ``Z``; never ``+00:00``, which OCPI says is not the same as UTC."""
    text = moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="milliseconds")
    return text.removesuffix(".000") + "Z"


def envelope(
    data: Any = None, *, status_code: int = SUCCESS, message: str | None = None, now: datetime
) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if data is not None:
        body["data"] = data
    body["status_code"] = status_code
    if message is not None:
        body["status_message"] = message
    body["timestamp"] = ocpi_timestamp(now)
    return body
