"""Reading request bodies: JSON in, validated models out, every failure a HubError naming the field."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from hub.errors import InvalidParameters, MalformedBody, PayloadTooLarge

M = TypeVar("M", bound=BaseModel)


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise MalformedBody(f"duplicate key {key!r} in JSON object", field=key)
        result[key] = value
    return result


def loads(raw: bytes) -> Any:
    """Strict JSON: UTF-8 only, no duplicate keys, no NaN/Infinity."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedBody("the request body is not valid UTF-8") from exc
    try:
        return json.loads(text, object_pairs_hook=_no_duplicate_keys, parse_constant=_reject_constant)
    except RecursionError as exc:
        raise MalformedBody("the JSON body is nested too deeply") from exc
    except json.JSONDecodeError as exc:
        raise MalformedBody(f"the request body is not valid JSON: {exc.msg} at line {exc.lineno}") from exc


def _reject_constant(name: str) -> Any:
    raise MalformedBody(f"{name} is not a JSON number")


async def read_json(request: web.Request) -> Any:
    if request.content_type != "application/json":
        raise MalformedBody(
            f"Content-Type must be application/json, not {request.content_type or 'missing'}",
            field="Content-Type",
        )
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge as exc:
        # A HubError, so that each front door answers in its own shape (OICP: the operation's response).
        raise PayloadTooLarge(exc.text or exc.reason) from exc
    return loads(raw)


MAX_ID = 2**31 - 1  # the id columns are 32-bit on PostgreSQL
_ID = re.compile(r"[0-9]{1,10}")  # ASCII digits only: str.isdigit() also takes "²"


def parse_id(text: str, field: str) -> int:
    """A row id or a count from a URL: ASCII digits within the database's integer range, else 400."""
    if not _ID.fullmatch(text) or int(text) > MAX_ID:
        raise InvalidParameters(f"{text[:40]!r} is not a number between 0 and {MAX_ID}", field=field)
    return int(text)


def parse_time(text: str, field: str, *, naive_is_utc: bool = True) -> datetime:
    """ISO 8601; a time without a zone is UTC (or refused). Out of range (year 1 with an offset): 400."""
    try:
        value = datetime.fromisoformat(text)
        if value.tzinfo is None and not naive_is_utc:
            raise InvalidParameters("needs a time zone, e.g. 2024-05-01T12:00:00Z", field=field)
        value = value if value.tzinfo else value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise InvalidParameters(
            f"{text[:40]!r} is not an ISO 8601 date or time in range", field=field
        ) from exc


def first_error(exc: ValidationError) -> InvalidParameters:
    """The first validation problem, as an error that names the field (dotted path)."""
    error = exc.errors()[0]
    field = ".".join(str(part) for part in error["loc"]) or None
    message = error["msg"].removeprefix("Value error, ")
    return InvalidParameters(message, field=field)


def parse_model(model: type[M], data: Any) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise first_error(exc) from exc
