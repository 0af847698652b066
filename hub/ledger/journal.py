"""The journal's pure core: postings, entries, their invariant, fees, and balances as folds.

No I/O here (STYLE.md 1, 8; beancount's core is the model). A posting says ``party`` is owed ``amount``
by ``counterparty``; a negative amount means ``party`` owes it. Every booking writes each leg twice, once
from each side, so an entry sums to zero per currency and bilateral nets are antisymmetric by
construction; :func:`check` verifies the first, and the database enforces it again (migration 0005).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from hub.errors import HubError
from schemas.canonical.money import Money

_QUANTUM = Decimal("0.0001")
_HUNDRED = Decimal(100)


class UnbalancedEntry(HubError):
    """An entry's postings do not sum to zero in some currency: a bug in the hub, never booked."""

    title = "Unbalanced ledger entry"


class Kind(StrEnum):
    COST = "cost"
    VAT = "vat"
    FEE = "fee"


@dataclass(frozen=True)
class Posting:
    party: str
    counterparty: str
    kind: Kind
    money: Money


@dataclass(frozen=True)
class CdrPrice:
    """What the eMSP owes the CPO for one CDR, VAT apart; negative for a credit CDR."""

    cost: Money  # excl. VAT
    vat: Money


@dataclass(frozen=True)
class FeeRule:
    """The hub's fee for one party in one currency: ``fixed`` per CDR plus ``percent`` of the cost."""

    fixed: Decimal = Decimal(0)
    percent: Decimal = Decimal(0)


def round_money(amount: Decimal) -> Decimal:
    """Half-up to 4 decimals (10⁻⁴ units): a tie goes away from zero, so fee(-x) == -fee(x) exactly."""
    return amount.quantize(_QUANTUM, rounding=ROUND_HALF_UP)


def fee_for(rule: FeeRule, cost: Money, *, credit: bool) -> Money:
    """The fee a party pays the hub for one CDR; a credit CDR refunds it (its cost is negative already)."""
    fixed = -rule.fixed if credit else rule.fixed
    return Money.of(round_money(fixed + cost.amount * rule.percent / _HUNDRED), cost.currency)


def _pair(party: str, counterparty: str, kind: Kind, owed: Money) -> tuple[Posting, Posting]:
    """Both sides of one leg: ``counterparty`` owes ``party`` ``owed``."""
    return Posting(party, counterparty, kind, owed), Posting(counterparty, party, kind, -owed)


def cdr_postings(
    price: CdrPrice, *, cpo: str, emsp: str, hub: str, fees: Mapping[str, FeeRule], credit: bool
) -> tuple[Posting, ...]:
    """The postings of one CDR: cost (always, even zero), VAT and each involved party's fee (if not zero)."""
    postings = [*_pair(cpo, emsp, Kind.COST, price.cost)]
    if price.vat.amount:
        postings += _pair(cpo, emsp, Kind.VAT, price.vat)
    for payer in dict.fromkeys((cpo, emsp)):  # a party in both roles pays once
        rule = fees.get(payer)
        fee = fee_for(rule, price.cost, credit=credit) if rule and payer != hub else None
        if fee is not None and fee.amount:
            postings += _pair(hub, payer, Kind.FEE, fee)
    return tuple(postings)


def sums(postings: Iterable[Posting]) -> dict[str, Money]:
    """Sum per currency (a fold, as beancount's Inventory)."""
    totals: dict[str, Money] = {}
    for posting in postings:
        currency = posting.money.currency
        totals[currency] = totals.get(currency, Money.zero(currency)) + posting.money
    return totals


def check(postings: Iterable[Posting]) -> None:
    """Raise :class:`UnbalancedEntry` unless the postings sum to zero in every currency."""
    items = tuple(postings)
    if len(items) < 2:
        raise UnbalancedEntry(f"an entry needs at least two postings, not {len(items)}")
    unbalanced = {currency: str(total) for currency, total in sums(items).items() if total.amount}
    if unbalanced:
        raise UnbalancedEntry(f"postings do not sum to zero: {unbalanced}")


# --- balances: folds over (party, counterparty, currency) sums -----------------------------------------

PairSums = Mapping[tuple[str, str, str], Decimal]


def bilateral(pair_sums: PairSums) -> dict[tuple[str, str, str], Money]:
    """What A owes B (minus what B owes A), per (A, B, currency), read from A's own postings against B.

    Both directions come from their own postings, so antisymmetry is a property to test, not an identity.
    """
    return {(a, b, cur): Money.of(-total, cur) for (a, b, cur), total in pair_sums.items() if a != b}


def positions(pair_sums: PairSums) -> dict[tuple[str, str], Money]:
    """Each party's clearing position against the hub per currency: the sum of all its postings.

    Positive: the clearing house owes the party; negative: the party owes. They sum to zero per currency.
    """
    totals: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for (party, _counterparty, currency), total in pair_sums.items():
        totals[party, currency] += total
    return {key: Money.of(total, key[1]) for key, total in totals.items()}
