"""Types shared by every OCPI 2.2.1 module (spec chapter "Types", and the response envelope).

Leniency is deliberate: a hub relays other parties' data, so maximum string lengths are not enforced
(errata after d2 raised several of them, and real data exceeds the rest). What *is* checked: cardinality,
enum values of closed enums, the shape of country codes and party ids, and the length of object ids.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    TypeAdapter,
    ValidationError,
)
from pydantic_core import InitErrorDetails

from schemas.wire import JsonDecimal

# --- DateTime (types: DateTime) ---------------------------------------------------------------------


def format_datetime(dt: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SS[.ffffff]Z`` in UTC; trailing zeros of the fraction are trimmed.

    The spec allows only UTC and says ``+00:00`` is not the same thing, so ``Z`` is always written.
    A naive datetime is taken to be UTC already.
    """
    utc = dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
    text = utc.strftime("%Y-%m-%dT%H:%M:%S")
    if utc.microsecond:
        text += f".{utc.microsecond:06d}".rstrip("0")
    return text + "Z"


def _text_or_datetime(value: Any) -> Any:
    # pydantic would also take a Unix timestamp; OCPI never sends one, so a number is a sender bug.
    if isinstance(value, str | datetime):
        return value
    raise ValueError("an OCPI DateTime must be an RFC 3339 string")


def _as_utc(value: datetime) -> datetime:
    # "Z" is optional on the wire: a timestamp without an offset is UTC (types: DateTime).
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


OcpiDateTime = Annotated[
    datetime,
    BeforeValidator(_text_or_datetime),
    AfterValidator(_as_utc),
    PlainSerializer(format_datetime, return_type=str, when_used="json"),
]
"""An aware UTC datetime; parsed leniently, always written with ``Z``."""

# --- number (types: number) -------------------------------------------------------------------------


OcpiNumber = JsonDecimal
"""An exact decimal in Python, a JSON number on the wire (never a string, never a float in the model)."""

# --- CiString, ids, country code and party id (types: CiString) -------------------------------------

CiString = str
"""Case-insensitive printable ASCII. Stored as sent; compare with :func:`ci_equals` or :func:`ci_key`."""


def ci_key(value: str) -> str:
    """The comparable form of a CiString (for index keys); never written back to the wire."""
    return value.upper()


def ci_equals(left: str, right: str) -> bool:
    return ci_key(left) == ci_key(right)


def _check_code(length: int, what: str, letters_only: bool) -> AfterValidator:
    def check(value: str) -> str:
        chars_ok = value.isalpha() if letters_only else value.isalnum()
        ok = len(value) == length and value.isascii() and chars_ok
        if not ok:
            kind = "ASCII letters" if letters_only else "ASCII letters or digits"
            raise ValueError(f"{what} must be {length} {kind}, got {value!r}")
        return value

    return AfterValidator(check)


CountryCode = Annotated[str, _check_code(2, "country_code", letters_only=True)]
"""ISO 3166-1 alpha-2, any case (CiString(2)); the payload keeps the case it was sent in."""
PartyId = Annotated[str, _check_code(3, "party_id", letters_only=False)]
"""ISO 15118 party id, any case (CiString(3))."""

Id36 = Annotated[str, Field(min_length=1, max_length=36)]
"""An object id or a reference to one: CiString(36) (the spec is firm on id lengths)."""
Id39 = Annotated[str, Field(min_length=1, max_length=39)]
"""CDR ids are CiString(39), room for a credit CDR's suffix on a 36-character id."""

URL = str
"""string(255) in the spec; kept verbatim so the relayed value is byte-identical."""

# --- Models -----------------------------------------------------------------------------------------


class OcpiModel(BaseModel):
    """Base of every wire model: unknown fields are accepted and written back out (2.3.0 made this a rule)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


OPEN_ENUM = Field(union_mode="left_to_right")
"""Metadata for ``Annotated[SomeEnum | str, OPEN_ENUM]``: known values become the enum, others stay str.

Smart union mode would prefer ``str`` for every string input, so the enum must be tried first.
"""


class Role(StrEnum):
    CPO = "CPO"
    EMSP = "EMSP"
    HUB = "HUB"
    NAP = "NAP"
    NSP = "NSP"
    OTHER = "OTHER"
    SCSP = "SCSP"


class ImageCategory(StrEnum):
    CHARGER = "CHARGER"
    ENTRANCE = "ENTRANCE"
    LOCATION = "LOCATION"
    NETWORK = "NETWORK"
    OPERATOR = "OPERATOR"
    OTHER = "OTHER"
    OWNER = "OWNER"


# TokenType is a Tokens module enum, defined here because Locations (PublishTokenType), CDRs (CdrToken)
# and Tokens all use it; tokens.py re-exports it.
class TokenType(StrEnum):
    AD_HOC_USER = "AD_HOC_USER"
    APP_USER = "APP_USER"
    OTHER = "OTHER"
    RFID = "RFID"


class DisplayText(OcpiModel):
    language: str
    text: str


class Price(OcpiModel):
    excl_vat: OcpiNumber
    incl_vat: OcpiNumber | None = None


class Image(OcpiModel):
    url: URL
    thumbnail: URL | None = None
    category: Annotated[ImageCategory | str, OPEN_ENUM]
    type: CiString
    width: int | None = None
    height: int | None = None


class BusinessDetails(OcpiModel):
    name: str
    website: URL | None = None
    logo: Image | None = None


class OcpiResponse(OcpiModel):
    """The response envelope (transport and format: Response format). ``data`` is left unparsed."""

    data: Any = None
    status_code: int
    status_message: str | None = None
    timestamp: OcpiDateTime


# --- PATCH bodies -----------------------------------------------------------------------------------


@functools.cache
def _field_adapter(model_cls: type[BaseModel], name: str) -> TypeAdapter[Any]:
    # rebuild_annotation() puts the field's constraints (metadata) back around its type.
    annotation: Any = model_cls.model_fields[name].rebuild_annotation()
    return TypeAdapter(annotation)


def validate_patch(model_cls: type[BaseModel], data: dict[str, Any]) -> dict[str, Any]:
    """Validate a PATCH body: each field present is checked against ``model_cls``'s type for it.

    Every PATCH must carry ``last_updated`` (transport and format: PATCH). Fields the model does not
    know are kept as sent. Returns the validated values; raises :class:`pydantic.ValidationError`
    whose ``loc`` starts with the offending field name.
    """
    errors: list[InitErrorDetails] = []
    if "last_updated" not in data:
        errors.append({"type": "missing", "loc": ("last_updated",), "input": data})
    result: dict[str, Any] = {}
    for name, value in data.items():
        if name not in model_cls.model_fields:
            result[name] = value
            continue
        try:
            result[name] = _field_adapter(model_cls, name).validate_python(value)
        except ValidationError as exc:
            errors.extend(_relocated(exc, name))
    if errors:
        raise ValidationError.from_exception_data(f"{model_cls.__name__} PATCH", errors)
    return result


def _relocated(exc: ValidationError, name: str) -> list[InitErrorDetails]:
    relocated: list[InitErrorDetails] = []
    for error in exc.errors():
        detail: InitErrorDetails = {
            "type": error["type"],
            "loc": (name, *error["loc"]),
            "input": error["input"],
        }
        if "ctx" in error:
            detail["ctx"] = error["ctx"]
        relocated.append(detail)
    return relocated
