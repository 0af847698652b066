"""EVSE data and status: pushes from CPOs, pulls by EMPs (oicp-hub-notes §2 #11 to #16).

Pushes change the operator's set in ``oicp_evse`` (``hub.oicp.evse_store``). Pulls gather the EVSEs of
every operator the EMP has a contract with (``hub.oicp.contracts``), pushed over OICP or published by an
OCPI CPO (``hub.oicp.evse_ocpi``), and answer through ``hub.oicp.evse_query``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from hub.errors import InvalidParameters
from hub.oicp import directory, evse_store, to_ocpi
from hub.oicp.contracts import contracted_cpos, keys
from hub.oicp.directory import Member
from hub.oicp.evse_ocpi import ocpi_evse_records
from hub.oicp.evse_query import (
    EvseEntry,
    Predicate,
    data_filters,
    evse_key,
    grouped_statuses,
    matching,
    near,
    page_of,
    pull_record,
    status_of,
)
from hub.oicp.evse_store import DataItem, OperatorSet, StatusItem
from hub.oicp.geo import BadCoordinates, point_of
from hub.oicp.pushing import acknowledged, check_evse_ids, check_pusher, one_at_a_time
from hub.store.types import utcnow
from schemas.canonical.party import Role
from schemas.oicp.v2_3.common import StatusCode, StatusCodeType, operator_id_of
from schemas.oicp.v2_3.evse_data import (
    EvseDataRecord,
    SearchCenter,
    eRoamingPullEVSEData,
    eRoamingPushEvseData,
)
from schemas.oicp.v2_3.evse_status import (
    EvseStatus,
    EvseStatusRecord,
    EVSEStatusRecords,
    eRoamingEVSEStatusByID,
    eRoamingPullEVSEStatus,
    eRoamingPullEVSEStatusByID,
    eRoamingPullEVSEStatusByOperatorID,
    eRoamingPushEvseStatus,
)

if TYPE_CHECKING:
    from hub.oicp.frontdoor import Answer, OicpCall

MAX_PAGE_SIZE = 2000  # notes §2 #12 [guide]
DEFAULT_PAGE_SIZE = 20
MAX_STATUS_IDS = 100  # notes §2 #15


# --- pushes -----------------------------------------------------------------------------------------


async def push_data(call: OicpCall) -> Answer:
    """PushEvseData (#11): fullLoad, insert, update or delete records of the caller's operator."""
    body: eRoamingPushEvseData = call.body
    data = body.operator_evse_data
    check_pusher(call, data.operator_id, "OperatorEvseData.OperatorID", Role.CPO)
    check_evse_ids(data.operator_id, [record.evse_id for record in data.evse_data_record])
    items = [_data_item(record) for record in data.evse_data_record]
    owner = OperatorSet(call.caller.party_fk, data.operator_id, data.operator_name)
    with one_at_a_time(call):
        await evse_store.apply_data(call.ctx.db, owner, body.action_type, items, utcnow())
    await _offer_to_ocpi(call, data.operator_id, None if body.action_type == "fullLoad" else items)
    return acknowledged()


async def _offer_to_ocpi(
    call: OicpCall, operator_id: str, items: Sequence[DataItem | StatusItem] | None
) -> None:
    """What changed reaches OCPI eMSPs as locations (hub/oicp/to_ocpi.py); None: everything."""
    cpo = await directory.own_member(call.ctx.db, call.caller.party_fk, operator_id, Role.CPO)
    touched = None if items is None else {item.key for item in items}
    await to_ocpi.publish(call.request.app, call.ctx, cpo, touched)


def _data_item(record: EvseDataRecord) -> DataItem:
    """The record as stored: as sent, less what the hub assigns on pull (deltaType, lastUpdate)."""
    wire = record.to_wire()
    try:
        point_of(wire.get("GeoCoordinates"))  # pulls must be able to convert it (§4.1 formats)
    except BadCoordinates as exc:
        raise InvalidParameters(f"{record.evse_id}: {exc}", field="GeoCoordinates") from exc
    for assigned in ("deltaType", "lastUpdate"):
        wire.pop(assigned, None)
    return DataItem(evse_key(record.evse_id), record.evse_id, _json(wire))


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


async def push_status(call: OicpCall) -> Answer:
    """PushEvseStatus (#13): as PushEvseData, for statuses (see ``evse_store.apply_status``)."""
    body: eRoamingPushEvseStatus = call.body
    status = body.operator_evse_status
    check_pusher(call, status.operator_id, "OperatorEvseStatus.OperatorID", Role.CPO)
    check_evse_ids(status.operator_id, [record.evse_id for record in status.evse_status_record])
    items = [
        StatusItem(evse_key(r.evse_id), r.evse_id, r.evse_status.value) for r in status.evse_status_record
    ]
    owner = OperatorSet(call.caller.party_fk, status.operator_id, status.operator_name)
    with one_at_a_time(call):
        await evse_store.apply_status(call.ctx.db, owner, body.action_type, items, utcnow())
    await _offer_to_ocpi(call, status.operator_id, None if body.action_type == "fullLoad" else items)
    return acknowledged()


# --- gathering from both protocols ------------------------------------------------------------------


async def _gather(
    call: OicpCall, cpos: Sequence[Member], *, since: datetime | None = None, evse_ids: Sequence[str] = ()
) -> list[EvseEntry]:
    """The EVSEs of these CPOs: pushed over OICP, then published over OCPI."""
    wanted = [evse_key(evse_id) for evse_id in evse_ids] or None
    pushed = await evse_store.entries(call.ctx.db, keys(list(cpos)), since=since, evse_keys=wanted)
    hotline = call.ctx.settings.oicp.hotline_phone_number
    published = await ocpi_evse_records(call.ctx.db, cpos, hotline=hotline, since=since)
    if wanted is not None:
        published = [entry for entry in published if entry.key in wanted]
    return pushed + published


# --- PullEvseData -----------------------------------------------------------------------------------


async def pull_data(call: OicpCall) -> Answer:
    """PullEvseData (#12): a flat page of records; with LastCall, what changed since then."""
    body: eRoamingPullEVSEData = call.body
    page, size = _paging(call)
    since = body.last_call
    if since is not None and (body.search_center or body.country_codes or body.operator_ids):
        raise InvalidParameters(
            "LastCall cannot be combined with SearchCenter, CountryCodes or OperatorIds", field="LastCall"
        )
    checks = _guarded(lambda: data_filters(body))
    entries = [
        e for e in await _gather(call, await contracted_cpos(call), since=since) if e.record is not None
    ]
    found = matching([e for e in entries if since is not None or not e.deleted], checks)
    chosen = found[page * size : (page + 1) * size]
    records = [r for e in chosen if (r := pull_record(e, body.geo_coordinates_response_format, since))]
    return page_of(records, len(found), page, size)


def _paging(call: OicpCall) -> tuple[int, int]:
    page = call.query_int("page", 0)
    size = call.query_int("size", DEFAULT_PAGE_SIZE, maximum=MAX_PAGE_SIZE)
    if size < 1:
        raise InvalidParameters("size must be at least 1", field="size")
    return page, size


def _guarded(build: Callable[[], list[Predicate]]) -> list[Predicate]:
    """Filters whose SearchCenter cannot be read are the caller's error (022)."""
    try:
        return build()
    except BadCoordinates as exc:
        raise InvalidParameters(str(exc), field="SearchCenter") from exc


def _near(center: SearchCenter | None) -> list[Predicate]:
    return _guarded(lambda: [near(center)]) if center is not None else []


# --- PullEvseStatus and its variants ----------------------------------------------------------------


def _current(entries: list[EvseEntry]) -> list[EvseEntry]:
    """EVSEs with a status that are not deleted: what a status pull lists."""
    return [entry for entry in entries if entry.status is not None and not entry.deleted]


async def pull_status(call: OicpCall) -> Answer:
    """PullEvseStatus (#14): statuses grouped by operator, optionally near a point or of one status."""
    body: eRoamingPullEVSEStatus = call.body
    checks = _near(body.search_center)
    if body.evse_status is not None:
        wanted: EvseStatus = body.evse_status
        checks.append(lambda entry: status_of(entry) == wanted)
    entries = _current(await _gather(call, await contracted_cpos(call)))
    return grouped_statuses(matching(entries, checks))


async def pull_status_by_operator(call: OicpCall) -> Answer:
    """PullEvseStatusByOperatorID (#16): as #14, for the listed operators the EMP has a contract with."""
    body: eRoamingPullEVSEStatusByOperatorID = call.body
    cpos = await contracted_cpos(call, body.operator_id)
    return grouped_statuses(matching(_current(await _gather(call, cpos)), []))


async def pull_status_by_id(call: OicpCall) -> Answer:
    """PullEvseStatusByID (#15): one record per EvseID asked for; unknown ones are ``EvseNotFound``."""
    body: eRoamingPullEVSEStatusByID = call.body
    if len(body.evse_id) > MAX_STATUS_IDS:
        raise InvalidParameters(f"at most {MAX_STATUS_IDS} EvseIDs per request", field="EvseID")
    asked = list(dict.fromkeys(body.evse_id))
    cpos = await contracted_cpos(call, sorted({operator_id_of(evse_id) for evse_id in asked}))
    found: dict[str, EvseEntry] = {}
    for entry in await _gather(call, cpos, evse_ids=asked):
        if entry.key not in found or found[entry.key].deleted:
            found[entry.key] = entry
    records = [
        EvseStatusRecord(evse_id=evse_id, evse_status=_status_by_id(found, evse_id)) for evse_id in asked
    ]
    return eRoamingEVSEStatusByID(
        evse_status_records=EVSEStatusRecords(evse_status_record=records),
        status_code=StatusCode.of(StatusCodeType.SUCCESS),
    )


def _status_by_id(found: dict[str, EvseEntry], evse_id: str) -> EvseStatus:
    entry = found.get(evse_key(evse_id))
    return status_of(entry) if entry is not None else EvseStatus.EVSE_NOT_FOUND
