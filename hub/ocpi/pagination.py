"""Pagination shared by every list the hub serves (ocpi-hub-notes §2.4).

``offset``/``limit`` with ``date_from`` inclusive and ``date_to`` exclusive on ``last_updated``; answers carry
``X-Total-Count`` (the filtered total), ``X-Limit`` (the hub's maximum page size) and, when more remains,
``Link: <...>; rel="next"`` repeating the original filters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar
from urllib.parse import urlencode

from aiohttp import web
from pydantic import TypeAdapter, ValidationError

from hub.errors import InvalidParameters
from schemas.ocpi.v2_2_1.common import OcpiDateTime

T = TypeVar("T")
_DATETIME: TypeAdapter[datetime] = TypeAdapter(OcpiDateTime)


@dataclass(frozen=True)
class PageRequest:
    offset: int
    limit: int
    max_limit: int
    date_from: datetime | None = None
    date_to: datetime | None = None

    def admits(self, last_updated: datetime) -> bool:
        if self.date_from is not None and last_updated < self.date_from:
            return False
        return not (self.date_to is not None and last_updated >= self.date_to)


def _int(request: web.Request, name: str, default: int) -> int:
    text = request.query.get(name)
    if text is None or text == "":
        return default
    if not text.isdigit():
        raise InvalidParameters(f"{text!r} is not a non-negative integer", field=name)
    return int(text)


def _date(request: web.Request, name: str) -> datetime | None:
    text = request.query.get(name)
    if not text:
        return None
    try:
        return _DATETIME.validate_python(text)
    except ValidationError as exc:
        raise InvalidParameters(f"{text!r} is not an OCPI DateTime", field=name) from exc


def page_request(request: web.Request, max_limit: int) -> PageRequest:
    limit = _int(request, "limit", max_limit)
    return PageRequest(
        offset=_int(request, "offset", 0),
        limit=max(1, min(limit, max_limit)),
        max_limit=max_limit,
        date_from=_date(request, "date_from"),
        date_to=_date(request, "date_to"),
    )


def page_headers(next_base_url: str, request: web.Request, page: PageRequest, total: int) -> dict[str, str]:
    """``X-Total-Count``, ``X-Limit`` and, if this is not the last page, ``Link`` to the next one."""
    headers = {"X-Total-Count": str(total), "X-Limit": str(page.max_limit)}
    following = page.offset + page.limit
    if following < total:
        query = {k: v for k, v in request.query.items() if k not in ("offset", "limit")}
        query.update({"offset": str(following), "limit": str(page.limit)})
        headers["Link"] = f'<{next_base_url}?{urlencode(query)}>; rel="next"'
    return headers


def paginate(items: Sequence[T], page: PageRequest) -> list[T]:
    """One page of an already filtered, stably ordered sequence."""
    return list(items[page.offset : page.offset + page.limit])
