"""Dynamic pricing through the real mutual-TLS hub (oicp-hub-notes §2 #17-#20): pushes, pulls, deltas,
and what the CDR pricing reads (``products_for``)."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest

from hub.oicp.pricing import products_for
from schemas.oicp.v2_3.openapi import validate_request, validate_response
from tests.oicp.conftest import OicpHub, OicpPartnerConn
from tests.oicp.test_evse import call, example, now

PRODUCTS = "/dynamicpricing/v10/operators/{op}/pricing-products"
EVSE_PRICING = "/dynamicpricing/v10/operators/{op}/evse-pricing"
PULL_PRODUCTS = "/dynamicpricing/v10/providers/{p}/pricing-products"
PULL_EVSE_PRICING = "/dynamicpricing/v10/providers/{p}/evse-pricing"


def products(action: str, provider: str, prices: dict[str, Any], *, default: Any = 0) -> dict[str, Any]:
    """The spec's PushPricingProductData with one record per (ProductID, price)."""
    body = example("cpo__eroamingpushpricingproductdata__request.json")
    template = body["PricingProductData"]["PricingProductDataRecords"][0]
    body["ActionType"] = action
    body["PricingProductData"] |= {
        "ProviderID": provider,
        "PricingDefaultPrice": default,
        "PricingProductDataRecords": [
            template | {"ProductID": product, "PricePerReferenceUnit": price}
            for product, price in prices.items()
        ],
    }
    validate_request("eRoamingPushPricingProductData", "post", body)
    return body


def evse_pricing(action: str, assignments: list[tuple[str, str, list[str]]]) -> dict[str, Any]:
    body = {
        "ActionType": action,
        "EVSEPricing": [
            {"EvseID": evse, "ProviderID": provider, "EvseIDProductList": listed}
            for evse, provider, listed in assignments
        ],
    }
    validate_request("eRoamingPushEVSEPricing", "post", body)
    return body


async def push(conn: OicpPartnerConn, path: str, body: dict[str, Any]) -> str:
    operation = "eRoamingPushPricingProductData" if "products" in path else "eRoamingPushEVSEPricing"
    answer = await call(conn, operation, path.format(op="DE*ABC"), body)
    code: str = answer["StatusCode"]["Code"]
    assert answer["Result"] is (code == "000"), answer
    return code


async def pull_products(
    conn: OicpPartnerConn, provider: str = "DE-DCB", **fields: Any
) -> list[dict[str, Any]]:
    body = {"OperatorIDs": ["DE*ABC"], **fields}
    answer = await call(conn, "eRoamingPullPricingProductData", PULL_PRODUCTS.format(p=provider), body)
    assert answer["StatusCode"]["Code"] == "000"
    found: list[dict[str, Any]] = answer["PricingProductData"]
    return found


def prices(groups: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """(ProviderID, {ProductID: price}) per group, in the answer's order."""
    return [
        (
            g["ProviderID"],
            {r["ProductID"]: r["PricePerReferenceUnit"] for r in g["PricingProductDataRecords"]},
        )
        for g in groups
    ]


async def pull_evse_pricing(
    conn: OicpPartnerConn, provider: str = "DE-DCB", **fields: Any
) -> dict[str, list[str]]:
    body = {"ProviderID": provider, "OperatorIDs": ["DE*ABC"], **fields}
    answer = await call(conn, "eRoamingPullEVSEPricing", PULL_EVSE_PRICING.format(p=provider), body)
    found: dict[str, list[str]] = {}
    for group in answer["EVSEPricing"]:
        assert group["OperatorID"] == "DE*ABC"
        for pricing in group["EVSEPricing"]:
            assert pricing["ProviderID"] == provider  # the EMP's own id, also for offers to all
            found[pricing["EvseID"]] = pricing["EvseIDProductList"]
    return found


@pytest.fixture
def oicp_overrides() -> dict[str, Any]:
    # The AUP allows 6 pricing pushes a minute (notes §7); these tests push more than that.
    return {"rate_limits": {"eRoamingPushPricingProductData": 0, "eRoamingPushEVSEPricing": 0}}


@pytest.fixture
async def cpo(oicp_hub: OicpHub) -> OicpPartnerConn:
    return await oicp_hub.connect(await oicp_hub.admit("DE", "ABC", "CPO"))


@pytest.fixture
async def emp(oicp_hub: OicpHub) -> OicpPartnerConn:
    return await oicp_hub.connect(await oicp_hub.admit("DE", "DCB", "EMSP"))


async def test_spec_examples_pushed_and_pulled(cpo: OicpPartnerConn, emp: OicpPartnerConn) -> None:
    pushed = example("cpo__eroamingpushpricingproductdata__request.json")
    assert await push(cpo, PRODUCTS, pushed) == "000"
    request = example("emp__eroamingpullpricingproductdata__request.json")  # LastCall in 2020
    answer = await call(emp, "eRoamingPullPricingProductData", PULL_PRODUCTS.format(p="DE-DCB"), request)
    (group,) = answer["PricingProductData"]
    assert group == pushed["PricingProductData"]

    assignments = example("cpo__eroamingpushevsepricing__request.json")
    assert await push(cpo, EVSE_PRICING, assignments) == "018"  # DE*XYZ*ETEST1 is not DE*ABC's
    assignments["EVSEPricing"][0]["EvseID"] = "DE*ABC*ETEST1"
    assert await push(cpo, EVSE_PRICING, assignments) == "000"
    request = example("emp__eroamingpullevsepricing__request.json")
    answer = await call(emp, "eRoamingPullEVSEPricing", PULL_EVSE_PRICING.format(p="DE-DCB"), request)
    assert answer["EVSEPricing"] == [
        {
            "OperatorID": "DE*ABC",
            "EVSEPricing": [
                {"EvseID": "DE*ABC*ETEST1", "ProviderID": "DE-DCB", "EvseIDProductList": ["AC 1"]}
            ],
        }
    ]


async def test_an_emp_pulls_its_own_products_and_the_offers_to_all(
    oicp_hub: OicpHub, cpo: OicpPartnerConn, emp: OicpPartnerConn
) -> None:
    other = await oicp_hub.connect(await oicp_hub.admit("DE", "QRS", "EMSP"))
    assert await push(cpo, PRODUCTS, products("fullLoad", "*", {"AC 1": 0.5, "DC": 0.79})) == "000"
    assert await push(cpo, PRODUCTS, products("fullLoad", "DE-DCB", {"AC 1": 0.35})) == "000"
    assert prices(await pull_products(emp)) == [("DE-DCB", {"AC 1": 0.35}), ("*", {"AC 1": 0.5, "DC": 0.79})]
    assert prices(await pull_products(other, "DE-QRS")) == [("*", {"AC 1": 0.5, "DC": 0.79})]
    # Operators not named, or not admitted, are simply not there.
    assert await pull_products(emp, OperatorIDs=["DE*OTH"]) == []


async def test_product_action_types(cpo: OicpPartnerConn, emp: OicpPartnerConn) -> None:
    assert await push(cpo, PRODUCTS, products("insert", "*", {"AC 1": 0.5})) == "000"
    assert await push(cpo, PRODUCTS, products("insert", "*", {"AC 1": 0.6})) == "009"  # exists
    assert await push(cpo, PRODUCTS, products("update", "*", {"DC": 0.6})) == "009"  # missing
    assert await push(cpo, PRODUCTS, products("update", "*", {"AC 1": 0.55}, default=1)) == "000"
    assert await push(cpo, PRODUCTS, products("insert", "DE-DCB", {"DC": 0.7})) == "000"
    assert await push(cpo, PRODUCTS, products("insert", "*", {"AC 3": 0.4, "DC": 0.8})) == "000"
    assert await push(cpo, PRODUCTS, products("delete", "*", {"AC 3": 0})) == "000"
    groups = await pull_products(emp)
    assert prices(groups) == [("DE-DCB", {"DC": 0.7}), ("*", {"AC 1": 0.55, "DC": 0.8})]
    assert groups[1]["PricingDefaultPrice"] == 0  # the defaults of the latest push for "*"
    # A fullLoad replaces one provider's set; the other provider's products stay.
    assert await push(cpo, PRODUCTS, products("fullLoad", "*", {})) == "000"
    assert prices(await pull_products(emp)) == [("DE-DCB", {"DC": 0.7})]
    twice = products("insert", "*", {"AC 1": 1})
    twice["PricingProductData"]["PricingProductDataRecords"] *= 2
    assert await push(cpo, PRODUCTS, twice) == "009"
    foreign = products("insert", "*", {"AC 1": 1})
    foreign["PricingProductData"]["OperatorID"] = "DE*OTH"
    assert await push(cpo, PRODUCTS, foreign) == "017"


async def test_last_call_gives_the_changed_products(cpo: OicpPartnerConn, emp: OicpPartnerConn) -> None:
    await push(cpo, PRODUCTS, products("fullLoad", "*", {"AC 1": 0.5, "DC": 0.79}))
    await asyncio.sleep(0.01)
    since = now()
    await asyncio.sleep(0.01)
    await push(cpo, PRODUCTS, products("update", "*", {"DC": 0.69}))
    await push(cpo, PRODUCTS, products("update", "*", {"AC 1": 0.5}))  # unchanged: not a change
    assert prices(await pull_products(emp, LastCall=since)) == [("*", {"DC": 0.69})]
    assert await pull_products(emp, LastCall=now()) == []


async def test_evse_pricing_own_before_offer_to_all_and_deltas(
    cpo: OicpPartnerConn, emp: OicpPartnerConn
) -> None:
    e1, e2 = "DE*ABC*E1", "DE*ABC*E2"
    assert (
        await push(
            cpo,
            EVSE_PRICING,
            evse_pricing(
                "fullLoad",
                [
                    (e1, "*", ["AC 1"]),
                    (e1, "DE-DCB", ["AC 3", "AC 1"]),
                    (e2, "*", ["DC"]),
                ],
            ),
        )
        == "000"
    )
    assert await pull_evse_pricing(emp) == {e1: ["AC 3", "AC 1"], e2: ["DC"]}
    assert await push(cpo, EVSE_PRICING, evse_pricing("insert", [(e2, "*", ["AC 1"])])) == "009"
    assert await push(cpo, EVSE_PRICING, evse_pricing("insert", [(e2, "DE*DCB", ["AC 1"])])) == "000"
    assert await push(cpo, EVSE_PRICING, evse_pricing("update", [(e1, "DE*QRS", ["AC 1"])])) == "009"
    assert (
        await push(cpo, EVSE_PRICING, evse_pricing("insert", [(e1, "DE*QRS", ["X"]), (e1, "DEQRS", ["Y"])]))
        == "018"
    )
    assert await push(cpo, EVSE_PRICING, evse_pricing("insert", [("DE*OTH*E1", "*", ["X"])])) == "018"

    await asyncio.sleep(0.01)
    since = now()
    await asyncio.sleep(0.01)
    # EMP's own assignment for E1 goes (the offer to all applies again); E2 loses every assignment.
    assert (
        await push(
            cpo, EVSE_PRICING, evse_pricing("delete", [(e1, "DE-DCB", []), (e2, "*", []), (e2, "DE-DCB", [])])
        )
        == "000"
    )
    assert await pull_evse_pricing(emp, LastCall=since) == {e1: ["AC 1"], e2: []}
    assert await pull_evse_pricing(emp) == {e1: ["AC 1"]}
    assert await pull_evse_pricing(emp, LastCall=now()) == {}


async def test_products_for_the_cdr_pricing(oicp_hub: OicpHub, cpo: OicpPartnerConn) -> None:
    await push(cpo, PRODUCTS, products("fullLoad", "*", {"AC 1": 0.5, "DC": 0.79}, default=0.3))
    await push(cpo, PRODUCTS, products("fullLoad", "DE-DCB", {"AC 1": 0.35}))
    await push(
        cpo,
        EVSE_PRICING,
        evse_pricing(
            "fullLoad",
            [
                ("DE*ABC*E1", "*", ["DC"]),
                ("DE*ABC*E1", "DE-DCB", ["AC 1"]),
                ("DE*ABC*E2", "*", ["DC", "AC 1"]),
            ],
        ),
    )
    found, listed = await products_for(oicp_hub.db, "DEABC", "DE*DCB", "DE*ABC*E1")
    assert [data["ProviderID"] for data in found] == ["DE-DCB", "*"]
    assert found[0]["PricingProductDataRecords"][0]["PricePerReferenceUnit"] == Decimal("0.35")
    assert found[1]["PricingDefaultPrice"] == Decimal("0.3")
    assert all(type(r["PricePerReferenceUnit"]) is Decimal for r in found[1]["PricingProductDataRecords"])
    assert listed == ["AC 1"]
    assert (await products_for(oicp_hub.db, "DE*ABC", "DE-QRS", "DE*ABC*E1"))[1] == ["DC"]
    others, none = await products_for(oicp_hub.db, "DE*ABC", "DE-QRS", "DE*ABC*E9")
    assert [data["ProviderID"] for data in others] == ["*"] and none is None
    assert await products_for(oicp_hub.db, "DE*OTH", "DE-DCB", None) == ([], None)


async def test_pricing_pulls_follow_the_contracts(
    oicp_hub: OicpHub, cpo: OicpPartnerConn, emp: OicpPartnerConn
) -> None:
    await push(cpo, PRODUCTS, products("fullLoad", "*", {"AC 1": 0.5}))
    await push(cpo, EVSE_PRICING, evse_pricing("fullLoad", [("DE*ABC*E1", "*", ["AC 1"])]))
    object.__setattr__(oicp_hub.ctx.settings, "agreements", "explicit")  # the policy, switched on the hub
    assert await pull_products(emp) == []
    assert await pull_evse_pricing(emp) == {}
    validate_response("eRoamingPullEVSEPricing", "post", {"EVSEPricing": []})
