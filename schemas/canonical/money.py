"""Money: an exact amount in one currency.

Amounts are :class:`~decimal.Decimal`, never float. In the database they are integers in units of 10⁻⁴
(``to_units``/``from_units``), because SQLite has no exact decimal type (DESIGN.md, "Money").
Arithmetic across currencies raises :class:`CurrencyMismatch` rather than producing a meaningless sum.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

UNITS_PER_MAJOR = 10_000
_QUANTUM = Decimal("0.0001")

CurrencyCode = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 alphabetic code")]


class CurrencyMismatch(ValueError):
    """Two amounts in different currencies were combined."""


class Money(BaseModel):
    model_config = ConfigDict(frozen=True, strict=True, extra="forbid")

    amount: Decimal
    currency: CurrencyCode

    @field_validator("amount", mode="before")
    @classmethod
    def _exact(cls, value: Any) -> Decimal:
        if isinstance(value, float):
            raise ValueError("money must not be a float; pass a Decimal, int or string")
        try:
            amount = Decimal(value) if isinstance(value, int | str) else value
        except InvalidOperation as exc:
            raise ValueError(f"not a decimal number: {value!r}") from exc
        if not isinstance(amount, Decimal) or not amount.is_finite():
            raise ValueError(f"not a finite decimal: {value!r}")
        if amount != amount.quantize(_QUANTUM):
            raise ValueError("money has at most 4 decimals")
        return amount

    @classmethod
    def of(cls, amount: Decimal | int | str, currency: str) -> Money:
        return cls(amount=amount, currency=currency)  # type: ignore[arg-type]

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls.of(0, currency)

    @classmethod
    def from_units(cls, units: int, currency: str) -> Money:
        return cls.of(Decimal(units) / UNITS_PER_MAJOR, currency)

    def to_units(self) -> int:
        return int((self.amount * UNITS_PER_MAJOR).to_integral_exact())

    def _check(self, other: object) -> Money:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyMismatch(f"{self.currency} and {other.currency} cannot be combined")
        return other

    def __add__(self, other: object) -> Money:
        return Money.of(self.amount + self._check(other).amount, self.currency)

    def __sub__(self, other: object) -> Money:
        return Money.of(self.amount - self._check(other).amount, self.currency)

    def __neg__(self) -> Money:
        return Money.of(-self.amount, self.currency)

    def __lt__(self, other: object) -> bool:
        return self.amount < self._check(other).amount

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"
