"""Types every wire format shares."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer


def _json_number(value: Decimal) -> int | float:
    # JSON has no decimal type: an integral value stays an int, anything else becomes the float whose
    # shortest repr is the same decimal (exact for the 3 to 4 decimals OCPI and OICP use).
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent >= 0:
        return int(value)
    return float(value)


def _not_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("a number was expected, not a boolean")
    return value


JsonDecimal = Annotated[
    Decimal,
    BeforeValidator(_not_bool),
    PlainSerializer(_json_number, return_type=int | float, when_used="json"),
]
"""An exact decimal in Python, a JSON number on the wire (never a string, never a float in the model)."""
