"""Types shared by every OICP 2.3 service: timestamps, numbers, identifiers, StatusCode, Acknowledgement.

Leniency is deliberate where the hub only relays (unknown fields are kept, string lengths are not checked,
descriptive enums are open); what the hub routes on is checked: the identifiers of oicp-hub-notes §4.1,
the closed protocol enums and required fields. Where Hubject spells a field two ways (notes §8) both are
read and the AsciiDoc spelling is written.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
)

from schemas.canonical.party import OPERATOR_ID as _OPERATOR_ID
from schemas.canonical.party import PROVIDER_ID as _PROVIDER_ID
from schemas.wire import JsonDecimal

# --- Base model -------------------------------------------------------------------------------------


class OicpModel(BaseModel):
    """Base of every OICP wire model.

    ``extra="allow"``: Hubject edits 2.3 in place (notes §8.10), so unknown fields are kept and relayed.
    ``populate_by_name``: Python code builds models with snake_case names; the wire uses the aliases.
    ``serialize_by_alias``: a plain ``model_dump()`` already writes Hubject's names.
    """

    model_config = ConfigDict(extra="allow", populate_by_name=True, serialize_by_alias=True)

    def to_wire(self) -> dict[str, Any]:
        """The JSON object to send: Hubject's field names, absent optionals left out (not ``null``)."""
        return self.model_dump(by_alias=True, mode="json", exclude_none=True)


OPEN_ENUM = Field(union_mode="left_to_right")
"""Metadata for ``Annotated[SomeEnum | str, OPEN_ENUM]``: known values become the enum, others stay str."""

# --- Date/time (notes §1 "Timestamps") --------------------------------------------------------------


def format_datetime(value: datetime) -> str:
    """``YYYY-MM-DDThh:mm:ss[.fff]±hh:mm`` with the datetime's own offset (``Z`` for a zero offset).

    Never converted to UTC: Hubject forwards date/times unchanged, including the time zone (notes §1).
    Milliseconds are written when the fraction is whole milliseconds, microseconds otherwise.
    """
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    micro = value.microsecond
    if micro:
        text += f".{micro // 1000:03d}" if micro % 1000 == 0 else f".{micro:06d}"
    offset = value.utcoffset()
    if offset is None:
        raise ValueError("an OICP timestamp needs a UTC offset")
    if offset == timedelta(0):
        return text + "Z"
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"{text}{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def _text_or_datetime(value: Any) -> Any:
    # pydantic would also take a Unix timestamp; OICP never sends one, so a number is a sender bug.
    if isinstance(value, str | datetime):
        return value
    raise ValueError("an OICP date-time must be an ISO 8601 string with an offset")


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("an OICP date-time must carry its UTC offset, e.g. 2020-09-23T14:17:53+02:00")
    return value


OicpDateTime = Annotated[
    datetime,
    BeforeValidator(_text_or_datetime),
    AfterValidator(_aware),
    PlainSerializer(format_datetime, return_type=str, when_used="json"),
]
"""An aware datetime that keeps the offset it was sent with and is written back with that offset."""

# --- Numbers ----------------------------------------------------------------------------------------


OicpDecimal = JsonDecimal
"""An exact decimal in Python (kWh, prices, kW), a JSON number on the wire."""

# --- Identifiers (notes §4.1) -----------------------------------------------------------------------

EVSE_ID = re.compile(
    r"^(([A-Za-z]{2}\*?[A-Za-z0-9]{3}\*?E[A-Za-z0-9\*]{1,30})|(\+?[0-9]{1,3}\*[0-9]{3}\*[0-9\*]{1,32}))$"
)
OPERATOR_ID = _OPERATOR_ID
"""The OpenAPI regex, shared with ``schemas.canonical.party``."""
PROVIDER_ID = _PROVIDER_ID
"""The OpenAPI regex without the literal ``|`` its character class admits by mistake (notes §4.1)."""
# The OpenAPI character classes [\*|\-] and [\d|X] also admit a literal "|"; that is a spec bug, dropped.
EVCO_ID = re.compile(
    r"^(([A-Za-z]{2}\-?[A-Za-z0-9]{3}\-?C[A-Za-z0-9]{8}\-?[\dA-Za-z])"
    r"|([A-Za-z]{2}[\*\-]?[A-Za-z0-9]{3}[\*\-]?[A-Za-z0-9]{6}[\*\-]?[\dX]))$"
)
UID_PATTERN = re.compile(r"^([0-9A-F]{8}|[0-9A-F]{14}|[0-9A-F]{20})$")
SESSION_ID = re.compile(r"^[A-Za-z0-9]{8}(-[A-Za-z0-9]{4}){3}-[A-Za-z0-9]{12}$")
OFFER_TO_ALL = "*"
"""``ProviderID`` value meaning "every EMP" in dynamic pricing data (notes §1)."""


def _matching(pattern: re.Pattern[str], what: str) -> AfterValidator:
    def check(value: str) -> str:
        if not pattern.fullmatch(value):
            raise ValueError(f"{value!r} is not {what}")
        return value

    return AfterValidator(check)


def _upper(value: Any) -> Any:
    return value.upper() if isinstance(value, str) else value


def _provider_or_asterisk(value: str) -> str:
    if value != OFFER_TO_ALL and not PROVIDER_ID.fullmatch(value):
        raise ValueError(f"{value!r} is neither a ProviderID like DE-DCB nor '*' (offer to all)")
    return value


EvseID = Annotated[str, _matching(EVSE_ID, "an EvseID like DE*ABC*E123456 or +49*810*000*438")]
OperatorID = Annotated[str, _matching(OPERATOR_ID, "an OperatorID like DE*ABC or +49*536")]
ProviderID = Annotated[str, _matching(PROVIDER_ID, "a ProviderID like DE-DCB, DE*DCB or DEDCB")]
ProviderIDAsterisk = Annotated[str, AfterValidator(_provider_or_asterisk)]
"""A ProviderID or ``*``; only the dynamic-pricing messages allow the asterisk."""
EvcoID = Annotated[str, _matching(EVCO_ID, "an EvcoID (EMAID) like DE-DCB-C12345678-X or DE*DCB*123456*3")]
UID = Annotated[
    str,
    BeforeValidator(_upper),  # Hubject upper-cases UIDs itself (notes §3); readers send lower case.
    _matching(UID_PATTERN, "an RFID UID of 8, 14 or 20 hex digits"),
]
SessionID = Annotated[
    str, _matching(SESSION_ID, "a SessionID (a GUID like b2688855-7f00-0002-6d8e-48d883f6abb6)")
]
PartnerSessionID = str
"""CPOPartnerSessionID / EMPPartnerSessionID: opaque, at most 250 characters; stored and echoed verbatim."""
ProductID = str
"""Free text of at most 50 characters; ``Standard Price``, ``AC1``, ``AC3`` and ``DC`` are recommended."""
CurrencyID = str
"""ISO 4217 code, e.g. ``EUR``."""
ChargingPoolID = str
"""``DE*ABC*P1234`` style; Hubject's pattern is unanchored (any text containing one matches): kept as sent."""


def operator_id_of(evse_id: str) -> str:
    """The OperatorID prefix of an EvseID, as written in it: ``DE*ABC*E1`` → ``DE*ABC`` (notes §4.1).

    Compare the result with ``schemas.canonical.party.normalise_oicp_id`` on both sides.
    """
    match = EVSE_ID.fullmatch(evse_id)
    if match is None:
        raise ValueError(f"{evse_id!r} is not an EvseID")
    if match.group(2):  # ISO: country, optional '*', three characters
        return evse_id[: 6 if evse_id[2] == "*" else 5]
    country, operator = evse_id.split("*")[:2]  # DIN: +49*810*...
    return f"{country}*{operator}"


def provider_id_of(evco_id: str) -> str:
    """The ProviderID inside an EvcoID, without separator: ``DE-DCB-C12345678-X`` → ``DEDCB``."""
    if EVCO_ID.fullmatch(evco_id) is None:
        raise ValueError(f"{evco_id!r} is not an EvcoID")
    separator = evco_id[2] in "*-"
    return evco_id[:2] + evco_id[3:6] if separator else evco_id[:5]


# --- Enums used by several services -----------------------------------------------------------------


class ActionType(StrEnum):
    """How a push changes the stored set (notes §1 "Data pushes")."""

    FULL_LOAD = "fullLoad"
    UPDATE = "update"
    INSERT = "insert"
    DELETE = "delete"


class StatusCodeType(StrEnum):
    """``StatusCode.Code``: the official list of both 2.3 data-type documents (notes §5; there is no 701)."""

    SUCCESS = "000"
    HUBJECT_SYSTEM_ERROR = "001"
    HUBJECT_DATABASE_ERROR = "002"
    DATA_TRANSACTION_ERROR = "009"
    UNAUTHORIZED_ACCESS = "017"
    INCONSISTENT_EVSE_ID = "018"
    INCONSISTENT_EVCO_ID = "019"
    SYSTEM_ERROR = "021"
    DATA_ERROR = "022"
    QR_CODE_INVALID_CREDENTIALS = "101"
    RFID_INVALID_UID = "102"
    RFID_CARD_NOT_READABLE = "103"
    PLC_INVALID_EVCO_ID = "105"
    NO_POSITIVE_AUTHENTICATION_RESPONSE = "106"
    QR_CODE_APP_TIMEOUT = "110"
    PLC_ISO15118_INVALID_EVCO_ID = "120"
    PLC_ISO15118_INVALID_CERTIFICATE = "121"
    PLC_ISO15118_TIMEOUT = "122"
    EVCO_ID_LOCKED = "200"
    NO_VALID_CONTRACT = "210"
    PARTNER_NOT_FOUND = "300"
    PARTNER_DID_NOT_RESPOND = "310"
    SERVICE_NOT_AVAILABLE = "320"
    SESSION_IS_INVALID = "400"
    COMMUNICATION_TO_EVSE_FAILED = "501"
    NO_EV_CONNECTED = "510"
    EVSE_ALREADY_RESERVED = "601"
    EVSE_ALREADY_IN_USE = "602"
    UNKNOWN_EVSE_ID = "603"
    EVSE_NOT_HUBJECT_COMPATIBLE = "604"
    EVSE_OUT_OF_SERVICE = "700"

    @property
    def description(self) -> str:
        return STATUS_DESCRIPTIONS[self]


STATUS_DESCRIPTIONS: dict[StatusCodeType, str] = {
    StatusCodeType.SUCCESS: "Success",
    StatusCodeType.HUBJECT_SYSTEM_ERROR: "Hubject system error",
    StatusCodeType.HUBJECT_DATABASE_ERROR: "Hubject database error",
    StatusCodeType.DATA_TRANSACTION_ERROR: "Data transaction error",
    StatusCodeType.UNAUTHORIZED_ACCESS: "Unauthorized Access",
    StatusCodeType.INCONSISTENT_EVSE_ID: "Inconsistent EvseID",
    StatusCodeType.INCONSISTENT_EVCO_ID: "Inconsistent EvcoID",
    StatusCodeType.SYSTEM_ERROR: "System error",
    StatusCodeType.DATA_ERROR: "Data error",
    StatusCodeType.QR_CODE_INVALID_CREDENTIALS: "QR Code Authentication failed - Invalid Credentials",
    StatusCodeType.RFID_INVALID_UID: "RFID Authentication failed - invalid UID",
    StatusCodeType.RFID_CARD_NOT_READABLE: "RFID Authentication failed - card not readable",
    StatusCodeType.PLC_INVALID_EVCO_ID: "PLC Authentication failed - invalid EvcoID",
    StatusCodeType.NO_POSITIVE_AUTHENTICATION_RESPONSE: "No positive authentication response",
    StatusCodeType.QR_CODE_APP_TIMEOUT: "QR Code App Authentication failed - time out error",
    StatusCodeType.PLC_ISO15118_INVALID_EVCO_ID: (
        "PLC (ISO/IEC 15118) Authentication failed - invalid underlying EvcoID"
    ),
    StatusCodeType.PLC_ISO15118_INVALID_CERTIFICATE: (
        "PLC (ISO/IEC 15118) Authentication failed - invalid certificate"
    ),
    StatusCodeType.PLC_ISO15118_TIMEOUT: "PLC (ISO/IEC 15118) Authentication failed - time out error",
    StatusCodeType.EVCO_ID_LOCKED: "EvcoID locked",
    StatusCodeType.NO_VALID_CONTRACT: "No valid contract",
    StatusCodeType.PARTNER_NOT_FOUND: "Partner not found",
    StatusCodeType.PARTNER_DID_NOT_RESPOND: "Partner did not respond",
    StatusCodeType.SERVICE_NOT_AVAILABLE: "Service not available",
    StatusCodeType.SESSION_IS_INVALID: "Session is invalid",
    StatusCodeType.COMMUNICATION_TO_EVSE_FAILED: "Communication to EVSE failed",
    StatusCodeType.NO_EV_CONNECTED: "No EV connected to EVSE",
    StatusCodeType.EVSE_ALREADY_RESERVED: "EVSE already reserved",
    StatusCodeType.EVSE_ALREADY_IN_USE: "EVSE already in use / wrong token",
    StatusCodeType.UNKNOWN_EVSE_ID: "Unknown EVSE ID",
    StatusCodeType.EVSE_NOT_HUBJECT_COMPATIBLE: "EVSE ID is not Hubject compatible",
    StatusCodeType.EVSE_OUT_OF_SERVICE: "EVSE out of service",
}

# --- StatusCode and Acknowledgement -----------------------------------------------------------------


class StatusCode(OicpModel):
    """``Code`` is kept as a string when it is not in the official list (e.g. the guide's 401/404/500)."""

    code: Annotated[StatusCodeType | str, OPEN_ENUM] = Field(alias="Code")
    description: str | None = Field(default=None, alias="Description")
    additional_info: str | None = Field(default=None, alias="AdditionalInfo")

    @classmethod
    def of(cls, code: StatusCodeType, additional_info: str | None = None) -> StatusCode:
        """A StatusCode with the official description of ``code``."""
        return cls(code=code, description=code.description, additional_info=additional_info)

    @property
    def is_success(self) -> bool:
        return self.code == StatusCodeType.SUCCESS


class eRoamingAcknowledgement(OicpModel):
    """The answer to every push, remote command, CDR and notification (notes §2.1)."""

    result: bool = Field(alias="Result")
    status_code: StatusCode = Field(alias="StatusCode")
    session_id: SessionID | None = Field(default=None, alias="SessionID")
    cpo_partner_session_id: PartnerSessionID | None = Field(default=None, alias="CPOPartnerSessionID")
    emp_partner_session_id: PartnerSessionID | None = Field(default=None, alias="EMPPartnerSessionID")


eRoamingAcknowledgment = eRoamingAcknowledgement
"""The OpenAPI files' spelling of the same schema."""


class Pageable(OicpModel):
    """Spring Data's page request echo, as Hubject returns it in paged responses."""

    class Sort(OicpModel):
        sorted: bool | None = None
        empty: bool | None = None
        unsorted: bool | None = None

    sort: Sort | None = None
    page_size: int | None = Field(default=None, alias="pageSize")
    page_number: int | None = Field(default=None, alias="pageNumber")
    offset: int | None = None
    paged: bool | None = None
    unpaged: bool | None = None


def page_fields(total: int, page: int, size: int, count: int) -> dict[str, Any]:
    """The Spring Data ``Page`` fields (wire names) of page ``page`` holding ``count`` of ``total`` items."""
    pages = -(-total // size) if total and size else 0
    return {
        "number": page,
        "size": size,
        "totalElements": total,
        "totalPages": pages,
        "first": page == 0,
        "last": page >= pages - 1,
        "numberOfElements": count,
        "empty": count == 0,
    }


class OicpPage(OicpModel):
    """The Spring Data ``Page`` fields around ``content`` (GetChargeDetailRecords, PullEvseData).

    Subclasses add ``content``. Page numbers start at 0; ``size`` defaults to 20 and may be at most 2000.
    """

    number: int
    size: int
    total_elements: int = Field(alias="totalElements")
    total_pages: int = Field(alias="totalPages")
    first: bool
    last: bool
    number_of_elements: int = Field(alias="numberOfElements")
    pageable: Pageable | None = None
    empty: bool | None = None
    # Required by the schema, but Hubject's own example sends null (hubject/oicp code snippets).
    status_code: StatusCode | None = Field(default=None, alias="StatusCode")
