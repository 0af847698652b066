"""The simulators' in-memory data: objects pushed to us, and paging over lists we serve.

Objects are kept as the JSON dicts that arrived (after validation), so a test can compare them byte for
byte with what the sender pushed: a hub must not change them (ocpi-hub-notes §2.7, §8 items 9-10).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter, ValidationError
from yarl import URL

from hub.errors import InvalidParameters
from schemas.ocpi.v2_2_1 import OcpiDateTime

ObjectKey = tuple[str, str, str]
"""(country_code, party_id, object id), upper-cased (see :func:`hub.simulators.ocpi_wire.object_key`)."""

_DATETIME: TypeAdapter[datetime] = TypeAdapter(OcpiDateTime)


@dataclass
class SimStore:
    """Client owned objects a peer pushed to our Receiver interfaces, per module."""

    locations: dict[ObjectKey, dict[str, Any]] = field(default_factory=dict)
    tariffs: dict[ObjectKey, dict[str, Any]] = field(default_factory=dict)
    tokens: dict[ObjectKey, dict[str, Any]] = field(default_factory=dict)
    sessions: dict[ObjectKey, dict[str, Any]] = field(default_factory=dict)
    cdrs: dict[ObjectKey, dict[str, Any]] = field(default_factory=dict)
    # Every CDR POST, duplicates included: a hub that delivers one CDR twice shows up as a count of 2.
    cdr_posts: Counter[ObjectKey] = field(default_factory=Counter)
    # The CDRs accepted, in the order they arrived (what "in order per CDR owner" is checked against).
    cdr_arrivals: list[ObjectKey] = field(default_factory=list)

    def module(self, name: str) -> dict[ObjectKey, dict[str, Any]]:
        tables: dict[str, dict[ObjectKey, dict[str, Any]]] = {
            "locations": self.locations,
            "tariffs": self.tariffs,
            "tokens": self.tokens,
            "sessions": self.sessions,
            "cdrs": self.cdrs,
        }
        return tables[name]


# --- Locations: EVSE and Connector sub-objects (ocpi-hub-notes §6.1) --------------------------------


def find_child(
    parent: Mapping[str, Any], list_field: str, id_field: str, child_id: str
) -> dict[str, Any] | None:
    for child in parent.get(list_field) or []:
        if isinstance(child, dict) and str(child.get(id_field, "")).upper() == child_id.upper():
            return child
    return None


def put_child(parent: dict[str, Any], list_field: str, id_field: str, child: dict[str, Any]) -> None:
    """Replace the child with the same id, or append it; the parent's ``last_updated`` follows the child."""
    children = parent.setdefault(list_field, [])
    for index, existing in enumerate(children):
        if str(existing.get(id_field, "")).upper() == str(child[id_field]).upper():
            children[index] = child
            break
    else:
        children.append(child)
    bump(parent, child)


def bump(parent: dict[str, Any], child: Mapping[str, Any]) -> None:
    # "When an EVSE or Connector is changed, the receiver SHALL update the last_updated of the parents";
    # the child's own timestamp is used so the result does not depend on our clock.
    if "last_updated" in child:
        parent["last_updated"] = child["last_updated"]


def apply_patch(target: dict[str, Any], patch: Mapping[str, Any], *, append: frozenset[str]) -> None:
    """Merge a PATCH: fields present replace, fields left out stay; ``append`` lists are extended instead."""
    for name, value in patch.items():
        if name in append and isinstance(value, list):
            target[name] = [*(target.get(name) or []), *value]
        else:
            target[name] = value


# --- Paging of Sender GET lists (ocpi-hub-notes §2.4) ------------------------------------------------


@dataclass(frozen=True)
class PageQuery:
    offset: int
    limit: int
    date_from: datetime | None
    date_to: datetime | None
    raw_date_from: str | None
    raw_date_to: str | None


def parse_page_query(query: Mapping[str, str], max_limit: int, *, date_from_required: bool) -> PageQuery:
    raw_from, raw_to = query.get("date_from"), query.get("date_to")
    if date_from_required and raw_from is None:
        raise InvalidParameters("date_from is required on this list", field="date_from")
    return PageQuery(
        offset=_non_negative(query, "offset", 0),
        limit=min(_non_negative(query, "limit", max_limit), max_limit),
        date_from=_parse_date(raw_from, "date_from"),
        date_to=_parse_date(raw_to, "date_to"),
        raw_date_from=raw_from,
        raw_date_to=raw_to,
    )


def _non_negative(query: Mapping[str, str], name: str, default: int) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    if not raw.isdigit():
        raise InvalidParameters(f"{name} must be a non-negative integer", field=name)
    return int(raw)


def _parse_date(raw: str | None, name: str) -> datetime | None:
    if raw is None:
        return None
    try:
        return _DATETIME.validate_python(raw)
    except ValidationError as exc:
        raise InvalidParameters(f"{name} is not an OCPI DateTime", field=name) from exc


def select_page(objects: list[dict[str, Any]], page: PageQuery) -> tuple[list[dict[str, Any]], int]:
    """The page and the filtered total; order is kept (oldest first, as the list was built)."""
    matching = [obj for obj in objects if _in_range(obj, page)]
    return matching[page.offset : page.offset + page.limit], len(matching)


def _in_range(obj: Mapping[str, Any], page: PageQuery) -> bool:
    updated = _DATETIME.validate_python(obj["last_updated"])
    # date_from is inclusive, date_to exclusive (§2.4).
    if page.date_from is not None and updated < page.date_from:
        return False
    return not (page.date_to is not None and updated >= page.date_to)


def page_headers(url: URL, page: PageQuery, *, returned: int, total: int, max_limit: int) -> dict[str, str]:
    headers = {"X-Total-Count": str(total), "X-Limit": str(max_limit)}
    next_offset = page.offset + returned
    if returned and next_offset < total:
        # The next link must repeat the original filters (§2.4).
        params = {"offset": str(next_offset), "limit": str(page.limit)}
        if page.raw_date_from is not None:
            params["date_from"] = page.raw_date_from
        if page.raw_date_to is not None:
            params["date_to"] = page.raw_date_to
        headers["Link"] = f'<{url.with_query(params)}>; rel="next"'
    return headers
