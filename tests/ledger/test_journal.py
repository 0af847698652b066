"""The journal's pure core: postings, the zero-sum check, fees and their rounding, balance folds."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.ledger import journal
from hub.ledger.journal import CdrPrice, FeeRule, Kind, Posting, UnbalancedEntry
from schemas.canonical.money import Money

HUB = "NL-HUB"


def eur(amount: str) -> Money:
    return Money.of(amount, "EUR")


def test_a_cdr_books_cost_and_vat_both_ways() -> None:
    postings = journal.cdr_postings(
        CdrPrice(cost=eur("10"), vat=eur("2.1")), cpo="NL-CPO", emsp="DE-MSP", hub=HUB, fees={}, credit=False
    )
    assert postings == (
        Posting("NL-CPO", "DE-MSP", Kind.COST, eur("10")),
        Posting("DE-MSP", "NL-CPO", Kind.COST, eur("-10")),
        Posting("NL-CPO", "DE-MSP", Kind.VAT, eur("2.1")),
        Posting("DE-MSP", "NL-CPO", Kind.VAT, eur("-2.1")),
    )
    journal.check(postings)


def test_fees_are_paid_to_the_hub_by_each_party_once() -> None:
    fees = {"NL-CPO": FeeRule(fixed=Decimal("0.05")), "DE-MSP": FeeRule(percent=Decimal("1.5"))}
    price = CdrPrice(cost=eur("10"), vat=eur("0"))
    postings = journal.cdr_postings(price, cpo="NL-CPO", emsp="DE-MSP", hub=HUB, fees=fees, credit=False)
    fee_legs = [p for p in postings if p.kind is Kind.FEE]
    assert fee_legs == [
        Posting(HUB, "NL-CPO", Kind.FEE, eur("0.05")),
        Posting("NL-CPO", HUB, Kind.FEE, eur("-0.05")),
        Posting(HUB, "DE-MSP", Kind.FEE, eur("0.15")),
        Posting("DE-MSP", HUB, Kind.FEE, eur("-0.15")),
    ]
    both_roles = journal.cdr_postings(price, cpo="NL-CPO", emsp="NL-CPO", hub=HUB, fees=fees, credit=False)
    assert len([p for p in both_roles if p.kind is Kind.FEE]) == 2  # one fee, two legs


def test_percentage_fees_round_half_up_to_four_decimals_and_credits_refund_exactly() -> None:
    rule = FeeRule(fixed=Decimal("0.1"), percent=Decimal("1.5"))
    # 0.0333 * 1.5 % = 0.00049950 -> 0.0005 (half-up); plus the fixed 0.1
    assert journal.fee_for(rule, eur("0.0333"), credit=False) == eur("0.1005")
    assert journal.fee_for(rule, eur("-0.0333"), credit=True) == eur("-0.1005")
    assert journal.fee_for(FeeRule(percent=Decimal("50")), eur("0.0001"), credit=False) == eur("0.0001")


def test_check_refuses_unbalanced_and_single_postings() -> None:
    with pytest.raises(UnbalancedEntry, match="EUR"):
        journal.check([Posting("A", "B", Kind.COST, eur("1")), Posting("B", "A", Kind.COST, eur("-0.9999"))])
    with pytest.raises(UnbalancedEntry):
        journal.check([Posting("A", "B", Kind.COST, eur("0"))])
    # Balanced per currency, not across: 1 EUR against -1 USD is refused.
    with pytest.raises(UnbalancedEntry):
        journal.check(
            [Posting("A", "B", Kind.COST, eur("1")), Posting("B", "A", Kind.COST, Money.of(-1, "USD"))]
        )


amounts = st.decimals(min_value=-10_000, max_value=10_000, places=4, allow_nan=False, allow_infinity=False)
rules = st.builds(
    FeeRule,
    fixed=st.decimals(min_value=0, max_value=5, places=4),
    percent=st.decimals(min_value=0, max_value=100, places=4),
)


@given(cost=amounts, vat=amounts, cpo_fee=st.none() | rules, emsp_fee=st.none() | rules, credit=st.booleans())
def test_every_cdr_entry_balances_and_mirrors(
    cost: Decimal, vat: Decimal, cpo_fee: FeeRule | None, emsp_fee: FeeRule | None, credit: bool
) -> None:
    fees = {k: v for k, v in (("NL-CPO", cpo_fee), ("DE-MSP", emsp_fee)) if v is not None}
    price = CdrPrice(cost=eur(str(cost)), vat=eur(str(vat)))
    postings = journal.cdr_postings(price, cpo="NL-CPO", emsp="DE-MSP", hub=HUB, fees=fees, credit=credit)
    journal.check(postings)
    sums: dict[tuple[str, str, str], Decimal] = {}
    for p in postings:
        key = (p.party, p.counterparty, p.money.currency)
        sums[key] = sums.get(key, Decimal(0)) + p.money.amount
    nets = journal.bilateral(sums)
    assert all(nets[b, a, c] == -money for (a, b, c), money in nets.items())
    assert sum(m.amount for m in journal.positions(sums).values()) == 0
