"""The OICP 2.3 operations as data: the endpoint table of oicp-hub-notes §2, one row per operation.

Every operation is a ``POST`` under ``/api/oicp`` with the *service* version in the path. Where Hubject
forwards a message, it appends the same path to the receiving partner's configured base URL, so one
template serves both legs. This module only describes; the hub's router and client read it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from urllib.parse import unquote, urlsplit

from schemas.oicp.v2_3.authentication_data import (
    eRoamingAuthenticationData,
    eRoamingPullAuthenticationData,
    eRoamingPushAuthenticationData,
)
from schemas.oicp.v2_3.authorization import (
    eRoamingAuthorizationStart,
    eRoamingAuthorizationStop,
    eRoamingAuthorizeRemoteStart,
    eRoamingAuthorizeRemoteStop,
    eRoamingAuthorizeStart,
    eRoamingAuthorizeStop,
)
from schemas.oicp.v2_3.cdr import (
    eRoamingChargeDetailRecord,
    eRoamingChargeDetailRecords,
    eRoamingGetChargeDetailRecords,
)
from schemas.oicp.v2_3.common import OicpModel, eRoamingAcknowledgement
from schemas.oicp.v2_3.dynamic_pricing import (
    eRoamingEVSEPricing,
    eRoamingPricingProductData,
    eRoamingPullEVSEPricing,
    eRoamingPullPricingProductData,
    eRoamingPushEVSEPricing,
    eRoamingPushPricingProductData,
)
from schemas.oicp.v2_3.evse_data import eRoamingEVSEData, eRoamingPullEVSEData, eRoamingPushEvseData
from schemas.oicp.v2_3.evse_status import (
    eRoamingEVSEStatus,
    eRoamingEVSEStatusByID,
    eRoamingPullEVSEStatus,
    eRoamingPullEVSEStatusByID,
    eRoamingPullEVSEStatusByOperatorID,
    eRoamingPushEvseStatus,
)
from schemas.oicp.v2_3.notifications import (
    eRoamingChargingNotificationEnd,
    eRoamingChargingNotificationError,
    eRoamingChargingNotificationProgress,
    eRoamingChargingNotificationStart,
)
from schemas.oicp.v2_3.reservation import (
    eRoamingAuthorizeRemoteReservationStart,
    eRoamingAuthorizeRemoteReservationStop,
)

BASE_PATH = "/api/oicp"


class Direction(StrEnum):
    """One leg of a message's trip through the hub."""

    CPO_TO_HUB = "CPO->Hub"
    HUB_TO_EMP = "Hub->EMP"
    EMP_TO_HUB = "EMP->Hub"
    HUB_TO_CPO = "Hub->CPO"


_CPO_FWD = (Direction.CPO_TO_HUB, Direction.HUB_TO_EMP)
_EMP_FWD = (Direction.EMP_TO_HUB, Direction.HUB_TO_CPO)
_PAGED = ("page", "size")


@dataclass(frozen=True)
class Operation:
    """One row of the endpoint table.

    ``path`` is the template Hubject's code snippets use, with ``/api/oicp``; ``alternative_paths`` are
    other spellings that must be served too (the 2.3 OpenAPI folds the two pull-status variants into
    ``status-records``). ``requests`` has one model per body shape (four for charging notifications).
    """

    number: int
    name: str
    service: str
    version: str
    path: str
    legs: tuple[Direction, ...]
    requests: tuple[type[OicpModel], ...]
    response: type[OicpModel]
    method: str = "POST"
    query: tuple[str, ...] = ()
    alternative_paths: tuple[str, ...] = ()
    _patterns: tuple[re.Pattern[str], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_patterns", tuple(_template_pattern(p) for p in self.paths))

    @property
    def paths(self) -> tuple[str, ...]:
        return (self.path, *self.alternative_paths)

    @property
    def forwarded(self) -> bool:
        """Hubject passes the message on to a partner (and the partner's answer back)."""
        return len(self.legs) > 1

    @property
    def request(self) -> type[OicpModel]:
        """The request model when there is only one body shape."""
        if len(self.requests) != 1:
            raise ValueError(f"{self.name} has {len(self.requests)} request shapes; use .requests")
        return self.requests[0]

    def matches(self, path: str) -> bool:
        """Whether a concrete or template path (with or without ``/api/oicp`` and query) is this one's."""
        wanted = normalise_path(path)
        return any(pattern.fullmatch(wanted) for pattern in self._patterns)


def normalise_path(path: str) -> str:
    """The path part without query, percent-decoded, with the ``/api/oicp`` prefix.

    One client percent-encodes ``*`` as ``%2A`` (notes §4.1), so the decoded form is compared.
    """
    text = unquote(urlsplit(path).path).rstrip("/")
    return text if text.startswith(BASE_PATH + "/") else BASE_PATH + text


def _template_pattern(template: str) -> re.Pattern[str]:
    # A placeholder matches one segment, and a template matches itself whatever its placeholder names.
    parts = re.split(r"\{[^}]+\}", normalise_path(template))
    return re.compile(r"[^/]+".join(re.escape(part) for part in parts))


def _op(
    number: int,
    name: str,
    service: str,
    version: str,
    tail: str,
    *,
    legs: tuple[Direction, ...],
    requests: tuple[type[OicpModel], ...],
    response: type[OicpModel],
    query: tuple[str, ...] = (),
    alternative_paths: tuple[str, ...] = (),
) -> Operation:
    return Operation(
        number=number,
        name=name,
        service=service,
        version=version,
        path=f"{BASE_PATH}/{service}/{version}/{tail}",
        legs=legs,
        requests=requests,
        response=response,
        query=query,
        alternative_paths=alternative_paths,
    )


_STATUS_RECORDS = f"{BASE_PATH}/evsepull/v21/providers/{{providerID}}/status-records"

OPERATIONS: tuple[Operation, ...] = (
    _op(
        1,
        "eRoamingAuthorizeStart",
        "charging",
        "v21",
        "operators/{operatorID}/authorize/start",
        legs=_CPO_FWD,
        requests=(eRoamingAuthorizeStart,),
        response=eRoamingAuthorizationStart,
    ),
    _op(
        2,
        "eRoamingAuthorizeStop",
        "charging",
        "v21",
        "operators/{operatorID}/authorize/stop",
        legs=_CPO_FWD,
        requests=(eRoamingAuthorizeStop,),
        response=eRoamingAuthorizationStop,
    ),
    _op(
        3,
        "eRoamingAuthorizeRemoteStart",
        "charging",
        "v21",
        "providers/{providerID}/authorize-remote/start",
        legs=_EMP_FWD,
        requests=(eRoamingAuthorizeRemoteStart,),
        response=eRoamingAcknowledgement,
    ),
    # The placeholder is externalId in the docs, but its value is the EMP's ProviderID.
    _op(
        4,
        "eRoamingAuthorizeRemoteStop",
        "charging",
        "v21",
        "providers/{externalId}/authorize-remote/stop",
        legs=_EMP_FWD,
        requests=(eRoamingAuthorizeRemoteStop,),
        response=eRoamingAcknowledgement,
    ),
    _op(
        5,
        "eRoamingAuthorizeRemoteReservationStart",
        "reservation",
        "v11",
        "providers/{providerID}/reservation-start-request",
        legs=_EMP_FWD,
        requests=(eRoamingAuthorizeRemoteReservationStart,),
        response=eRoamingAcknowledgement,
    ),
    _op(
        6,
        "eRoamingAuthorizeRemoteReservationStop",
        "reservation",
        "v11",
        "providers/{providerID}/reservation-stop-request",
        legs=_EMP_FWD,
        requests=(eRoamingAuthorizeRemoteReservationStop,),
        response=eRoamingAcknowledgement,
    ),
    _op(
        7,
        "eRoamingChargeDetailRecord",
        "cdrmgmt",
        "v22",
        "operators/{operatorID}/charge-detail-record",
        legs=_CPO_FWD,
        requests=(eRoamingChargeDetailRecord,),
        response=eRoamingAcknowledgement,
    ),
    _op(
        8,
        "eRoamingGetChargeDetailRecords",
        "cdrmgmt",
        "v22",
        "providers/{providerID}/get-charge-detail-records-request",
        legs=(Direction.EMP_TO_HUB,),
        requests=(eRoamingGetChargeDetailRecords,),
        response=eRoamingChargeDetailRecords,
        query=_PAGED,
    ),
    _op(
        9,
        "eRoamingPushAuthenticationData",
        "authdata",
        "v21",
        "providers/{providerID}/push-request",
        legs=(Direction.EMP_TO_HUB,),
        requests=(eRoamingPushAuthenticationData,),
        response=eRoamingAcknowledgement,
    ),
    # Not in the 2.3 documents: 2.2 Swagger, a BPMN diagram and the AUP only (legacy/optional).
    _op(
        10,
        "eRoamingPullAuthenticationData",
        "authdata",
        "v21",
        "operators/{operatorID}/pull-request",
        legs=(Direction.CPO_TO_HUB,),
        requests=(eRoamingPullAuthenticationData,),
        response=eRoamingAuthenticationData,
    ),
    _op(
        11,
        "eRoamingPushEvseData",
        "evsepush",
        "v23",
        "operators/{operatorID}/data-records",
        legs=(Direction.CPO_TO_HUB,),
        requests=(eRoamingPushEvseData,),
        response=eRoamingAcknowledgement,
    ),
    _op(
        12,
        "eRoamingPullEvseData",
        "evsepull",
        "v23",
        "providers/{providerID}/data-records",
        legs=(Direction.EMP_TO_HUB,),
        requests=(eRoamingPullEVSEData,),
        response=eRoamingEVSEData,
        query=_PAGED,
    ),
    _op(
        13,
        "eRoamingPushEvseStatus",
        "evsepush",
        "v21",
        "operators/{operatorID}/status-records",
        legs=(Direction.CPO_TO_HUB,),
        requests=(eRoamingPushEvseStatus,),
        response=eRoamingAcknowledgement,
    ),
    _op(
        14,
        "eRoamingPullEvseStatus",
        "evsepull",
        "v21",
        "providers/{providerID}/status-records",
        legs=(Direction.EMP_TO_HUB,),
        requests=(eRoamingPullEVSEStatus,),
        response=eRoamingEVSEStatus,
    ),
    # Separate paths in the code snippets and the 2.2 Swagger; one oneOf path in the 2.3 OpenAPI: serve both.
    _op(
        15,
        "eRoamingPullEvseStatusByID",
        "evsepull",
        "v21",
        "providers/{providerID}/status-records-by-id",
        legs=(Direction.EMP_TO_HUB,),
        requests=(eRoamingPullEVSEStatusByID,),
        response=eRoamingEVSEStatusByID,
        alternative_paths=(_STATUS_RECORDS,),
    ),
    _op(
        16,
        "eRoamingPullEvseStatusByOperatorID",
        "evsepull",
        "v21",
        "providers/{providerID}/status-records-by-operator-id",
        legs=(Direction.EMP_TO_HUB,),
        requests=(eRoamingPullEVSEStatusByOperatorID,),
        response=eRoamingEVSEStatus,
        alternative_paths=(_STATUS_RECORDS,),
    ),
    _op(
        17,
        "eRoamingPushPricingProductData",
        "dynamicpricing",
        "v10",
        "operators/{operatorID}/pricing-products",
        legs=(Direction.CPO_TO_HUB,),
        requests=(eRoamingPushPricingProductData,),
        response=eRoamingAcknowledgement,
    ),
    _op(
        18,
        "eRoamingPushEVSEPricing",
        "dynamicpricing",
        "v10",
        "operators/{operatorID}/evse-pricing",
        legs=(Direction.CPO_TO_HUB,),
        requests=(eRoamingPushEVSEPricing,),
        response=eRoamingAcknowledgement,
    ),
    _op(
        19,
        "eRoamingPullPricingProductData",
        "dynamicpricing",
        "v10",
        "providers/{providerID}/pricing-products",
        legs=(Direction.EMP_TO_HUB,),
        requests=(eRoamingPullPricingProductData,),
        response=eRoamingPricingProductData,
    ),
    _op(
        20,
        "eRoamingPullEVSEPricing",
        "dynamicpricing",
        "v10",
        "providers/{providerID}/evse-pricing",
        legs=(Direction.EMP_TO_HUB,),
        requests=(eRoamingPullEVSEPricing,),
        response=eRoamingEVSEPricing,
    ),
    # No ID in the path: the sender is known by its certificate and the body's OperatorID.
    _op(
        21,
        "eRoamingChargingNotifications",
        "notificationmgmt",
        "v11",
        "charging-notifications",
        legs=_CPO_FWD,
        requests=(
            eRoamingChargingNotificationStart,
            eRoamingChargingNotificationProgress,
            eRoamingChargingNotificationEnd,
            eRoamingChargingNotificationError,
        ),
        response=eRoamingAcknowledgement,
    ),
)

BY_NAME: dict[str, Operation] = {operation.name: operation for operation in OPERATIONS}


def find_operation(name_or_path: str) -> Operation | None:
    """The operation with this name (case-insensitive) or serving this path.

    A path matches an operation's primary path before anyone's alternative, so ``.../status-records``
    is PullEvseStatus, not one of the variants folded onto it.
    """
    lowered = name_or_path.lower()
    for operation in OPERATIONS:
        if operation.name.lower() == lowered:
            return operation
    if "/" not in name_or_path:
        return None
    wanted = normalise_path(name_or_path)
    for operation in OPERATIONS:
        if operation._patterns[0].fullmatch(wanted):
            return operation
    return next((operation for operation in OPERATIONS if operation.matches(wanted)), None)
