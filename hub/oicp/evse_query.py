"""EVSE pulls over every source at once: filters, deltas, pages and status groups (notes §2 #12, #14-#16).

Pure. An :class:`EvseEntry` is one EVSE as the hub holds it, pushed by an OICP CPO (``hub.oicp.evse_store``)
or published by an OCPI CPO (``hub.oicp.evse_ocpi``); the pull handlers gather entries from both and
hand them here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from pydantic import ValidationError

from hub.oicp.geo import BadCoordinates, as_format, distance_km, point_of
from schemas.canonical.evse import UnknownCountry, alpha3
from schemas.canonical.party import normalise_oicp_id
from schemas.oicp.v2_3.common import StatusCode, StatusCodeType, page_fields
from schemas.oicp.v2_3.evse_data import (
    DeltaType,
    GeoCoordinatesResponseFormat,
    PullEvseDataRecord,
    SearchCenter,
    eRoamingEVSEData,
    eRoamingPullEVSEData,
)
from schemas.oicp.v2_3.evse_status import (
    EvseStatus,
    EvseStatuses,
    EvseStatusRecord,
    OperatorEvseStatus,
    eRoamingEVSEStatus,
)

log = structlog.get_logger("hub.oicp")

Predicate = Callable[["EvseEntry"], bool]


def evse_key(evse_id: str) -> str:
    """The comparable form of an EvseID: upper case, no ``*`` (notes §4.1; ``OicpEvse.evse_key``)."""
    return evse_id.upper().replace("*", "")


@dataclass(frozen=True)
class EvseEntry:
    """One EVSE of one operator: its data record (wire form) and status, with change times."""

    operator_id: str
    operator_name: str | None
    evse_id: str
    record: dict[str, Any] | None  # EvseDataRecord as pushed; None when only a status was pushed
    status: str | None  # an OICP EvseStatus value
    updated_at: datetime  # of the data record
    created_at: datetime | None = None  # None: not known (OCPI), a delta then says "update"
    deleted: bool = False

    @property
    def key(self) -> str:
        return evse_key(self.evse_id)

    @property
    def operator_key(self) -> str:
        return normalise_oicp_id(self.operator_id)


# --- PullEvseData -----------------------------------------------------------------------------------


def data_filters(body: eRoamingPullEVSEData) -> list[Predicate]:
    """The request's filters, each a predicate on an entry that has a data record."""
    checks: list[Predicate] = []
    if body.operator_ids:
        operators = {normalise_oicp_id(o) for o in body.operator_ids}
        checks.append(lambda e: e.operator_key in operators)
    if body.country_codes:
        countries = {_alpha3(c) for c in body.country_codes}
        checks.append(lambda e: _alpha3(_record(e).get("Address", {}).get("Country", "")) in countries)
    if body.search_center is not None:
        checks.append(near(body.search_center))
    checks += _record_filters(body)
    return checks


def _record_filters(body: eRoamingPullEVSEData) -> list[Predicate]:
    checks: list[Predicate] = []
    if body.authentication_modes:
        modes = {str(m) for m in body.authentication_modes}
        checks.append(lambda e: bool(modes & set(_record(e).get("AuthenticationModes") or [])))
    for field, wanted in (
        ("Accessibility", body.accessibility),
        ("CalibrationLawDataAvailability", body.calibration_law_data_availability),
    ):
        if wanted:
            checks.append(_one_of(field, {str(w) for w in wanted}))
    for field, flag in (
        ("RenewableEnergy", body.renewable_energy),
        ("IsHubjectCompatible", body.is_hubject_compatible),
        ("IsOpen24Hours", body.is_open_24_hours),
    ):
        if flag is not None:
            checks.append(_one_of(field, {flag}))
    return checks


def _one_of(field: str, allowed: set[Any]) -> Predicate:
    return lambda e: _record(e).get(field) in allowed


def _record(entry: EvseEntry) -> dict[str, Any]:
    return entry.record or {}


def _alpha3(code: str) -> str:
    try:
        return alpha3(code)
    except UnknownCountry:
        return code.strip().upper()


def near(center: SearchCenter) -> Predicate:
    """Within ``Radius`` km of the centre; an entry without readable coordinates is not near anything."""
    origin = point_of(center.geo_coordinates.to_wire())
    radius = float(center.radius)

    def check(entry: EvseEntry) -> bool:
        try:
            return distance_km(origin, point_of(_record(entry).get("GeoCoordinates"))) <= radius
        except BadCoordinates:
            return False

    return check


def matching(entries: Iterable[EvseEntry], checks: Sequence[Predicate]) -> list[EvseEntry]:
    """The entries passing every check, in a stable order (operator, then EvseID) for paging."""
    kept = [entry for entry in entries if all(check(entry) for check in checks)]
    return sorted(kept, key=lambda e: (e.operator_key, e.key))


def delta_type(entry: EvseEntry, since: datetime) -> DeltaType:
    """How a record changed since ``LastCall`` (notes §1: Hubject's version history)."""
    if entry.deleted:
        return DeltaType.DELETE
    if entry.created_at is not None and entry.created_at > since:
        return DeltaType.INSERT
    return DeltaType.UPDATE


def pull_record(
    entry: EvseEntry, wanted: GeoCoordinatesResponseFormat, since: datetime | None
) -> PullEvseDataRecord | None:
    """The record as PullEvseData answers it: operator, lastUpdate, deltaType, coordinates as asked."""
    record = dict(_record(entry))
    try:
        for field in ("GeoCoordinates", "GeoChargingPointEntrance"):
            if record.get(field):
                record[field] = as_format(point_of(record[field]), wanted)
        record |= {
            "OperatorID": entry.operator_id,
            "OperatorName": entry.operator_name or entry.operator_id,
            "lastUpdate": entry.updated_at,
        }
        if since is not None:
            record["deltaType"] = delta_type(entry, since)
        return PullEvseDataRecord.model_validate(record)
    except (BadCoordinates, ValidationError) as exc:
        log.warning("oicp.evse_record_skipped", evse=entry.evse_id, detail=str(exc)[:300])
        return None


def page_of(records: Sequence[PullEvseDataRecord], total: int, page: int, size: int) -> eRoamingEVSEData:
    """One page in Spring Data's shape, as Hubject answers (page numbers start at 0)."""
    fields = page_fields(total, page, size, len(records))
    return eRoamingEVSEData.model_validate(
        {**fields, "content": list(records), "StatusCode": StatusCode.of(StatusCodeType.SUCCESS)}
    )


# --- PullEvseStatus ---------------------------------------------------------------------------------


def status_of(entry: EvseEntry) -> EvseStatus:
    """An entry's status as OICP names it: a deleted EVSE is ``EvseNotFound``, no status ``Unknown``."""
    if entry.deleted:
        return EvseStatus.EVSE_NOT_FOUND
    try:
        return EvseStatus(entry.status) if entry.status else EvseStatus.UNKNOWN
    except ValueError:
        return EvseStatus.UNKNOWN


def grouped_statuses(entries: Iterable[EvseEntry]) -> eRoamingEVSEStatus:
    """``EvseStatuses.OperatorEvseStatus[]``: one group per operator (PullEvseStatus, ByOperatorID)."""
    groups: dict[str, OperatorEvseStatus] = {}
    for entry in sorted(entries, key=lambda e: (e.operator_key, e.key)):
        group = groups.get(entry.operator_key)
        if group is None:
            group = OperatorEvseStatus(
                operator_id=entry.operator_id, operator_name=entry.operator_name, evse_status_record=[]
            )
            groups[entry.operator_key] = group
        group.evse_status_record.append(EvseStatusRecord(evse_id=entry.evse_id, evse_status=status_of(entry)))
    return eRoamingEVSEStatus(
        evse_statuses=EvseStatuses(operator_evse_status=list(groups.values())),
        status_code=StatusCode.of(StatusCodeType.SUCCESS),
    )
