"""Reading request bodies: JSON in, validated models out, every failure a HubError naming the field."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from hub.errors import InvalidParameters, MalformedBody

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
    return loads(await request.read())


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
