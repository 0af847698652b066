"""eRoamingDynamicPricing (dynamicpricing v1.0): pricing products and EVSE→product assignments.

Here, and only here, ``ProviderID`` may be ``*`` (offer to all EMPs). Prices exclude VAT (best-practice
guide) and are decimals. Hubject renamed ``OperatorPricingProducts`` to ``PricingProductData`` in 2024/25
without a version bump (notes §2.1, §8.10): both are read.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import AliasChoices, Field

from schemas.oicp.v2_3.common import (
    OPEN_ENUM,
    ActionType,
    CurrencyID,
    EvseID,
    OicpDateTime,
    OicpDecimal,
    OicpModel,
    OperatorID,
    ProductID,
    ProviderID,
    ProviderIDAsterisk,
    StatusCode,
)
from schemas.oicp.v2_3.evse_data import DayValue, Period


class ReferenceUnit(StrEnum):
    HOUR = "HOUR"
    KILOWATT_HOUR = "KILOWATT_HOUR"
    MINUTE = "MINUTE"


class AdditionalReferenceType(StrEnum):
    START_FEE = "START FEE"
    FIXED_FEE = "FIXED FEE"
    PARKING_FEE = "PARKING FEE"
    MINIMUM_FEE = "MINIMUM FEE"
    MAXIMUM_FEE = "MAXIMUM FEE"


_Unit = Annotated[ReferenceUnit | str, OPEN_ENUM]
"""A plain string in the schema; the AsciiDoc lists HOUR, KILOWATT_HOUR and MINUTE."""


class ProductAvailabilityTimes(OicpModel):
    # Periods in the OpenAPI files and examples, Period in the AsciiDoc (notes §8.8).
    periods: list[Period] = Field(alias="Periods", validation_alias=AliasChoices("Periods", "Period"))
    on: DayValue


class AdditionalReferences(OicpModel):
    additional_reference: Annotated[AdditionalReferenceType | str, OPEN_ENUM] = Field(
        alias="AdditionalReference"
    )
    additional_reference_unit: _Unit = Field(alias="AdditionalReferenceUnit")
    price_per_additional_reference_unit: OicpDecimal = Field(alias="PricePerAdditionalReferenceUnit")


class PricingProductDataRecord(OicpModel):
    product_id: ProductID = Field(alias="ProductID")
    reference_unit: _Unit = Field(alias="ReferenceUnit")
    product_price_currency: CurrencyID = Field(alias="ProductPriceCurrency")
    price_per_reference_unit: OicpDecimal = Field(alias="PricePerReferenceUnit")
    maximum_product_charging_power: OicpDecimal = Field(alias="MaximumProductChargingPower")
    is_valid_24_hours: bool = Field(alias="IsValid24hours")
    product_availability_times: list[ProductAvailabilityTimes] = Field(alias="ProductAvailabilityTimes")
    additional_references: list[AdditionalReferences] | None = Field(
        default=None, alias="AdditionalReferences"
    )


class PricingProductData(OicpModel):
    operator_id: OperatorID = Field(alias="OperatorID")
    operator_name: str | None = Field(default=None, alias="OperatorName")
    provider_id: ProviderIDAsterisk = Field(alias="ProviderID")
    pricing_default_price: OicpDecimal = Field(alias="PricingDefaultPrice")
    pricing_default_price_currency: CurrencyID = Field(alias="PricingDefaultPriceCurrency")
    pricing_default_reference_unit: _Unit = Field(alias="PricingDefaultReferenceUnit")
    pricing_product_data_records: list[PricingProductDataRecord] = Field(alias="PricingProductDataRecords")


class eRoamingPushPricingProductData(OicpModel):
    action_type: ActionType = Field(alias="ActionType")
    pricing_product_data: PricingProductData = Field(alias="PricingProductData")


class EVSEPricing(OicpModel):
    """Which products apply at an EVSE, for one EMP or for ``*``."""

    evse_id: EvseID = Field(alias="EvseID")
    # The EMP schema types it ProviderID, but the pull returns what was pushed for "*" too.
    provider_id: ProviderIDAsterisk = Field(alias="ProviderID")
    evse_id_product_list: list[ProductID] = Field(alias="EvseIDProductList")


class eRoamingPushEVSEPricing(OicpModel):
    action_type: ActionType = Field(alias="ActionType")
    evse_pricing: list[EVSEPricing] = Field(alias="EVSEPricing")


class eRoamingPullPricingProductData(OicpModel):
    """EMP → Hubject. There is no ProviderID in the body: the provider is the one in the path."""

    last_call: OicpDateTime | None = Field(default=None, alias="LastCall")
    operator_ids: list[OperatorID] = Field(
        alias="OperatorIDs", validation_alias=AliasChoices("OperatorIDs", "OperatorIds")
    )


class eRoamingPricingProductData(OicpModel):
    """The answer to PullPricingProductData, grouped by operator."""

    pricing_product_data: list[PricingProductData] = Field(
        alias="PricingProductData",
        validation_alias=AliasChoices("PricingProductData", "OperatorPricingProducts"),
    )
    status_code: StatusCode | None = Field(default=None, alias="StatusCode")


class eRoamingPullEVSEPricing(OicpModel):
    provider_id: ProviderID = Field(alias="ProviderID")
    last_call: OicpDateTime | None = Field(default=None, alias="LastCall")
    operator_ids: list[OperatorID] = Field(
        alias="OperatorIDs", validation_alias=AliasChoices("OperatorIDs", "OperatorIds")
    )


class OperatorEVSEPricing(OicpModel):
    operator_id: OperatorID = Field(alias="OperatorID")
    operator_name: str | None = Field(default=None, alias="OperatorName")
    evse_pricing: list[EVSEPricing] = Field(alias="EVSEPricing")


class eRoamingEVSEPricing(OicpModel):
    """The answer to PullEVSEPricing. The AsciiDoc calls the list OperatorEVSEPricing; schema and example
    say EVSEPricing, which is written."""

    evse_pricing: list[OperatorEVSEPricing] = Field(
        alias="EVSEPricing", validation_alias=AliasChoices("EVSEPricing", "OperatorEVSEPricing")
    )
    status_code: StatusCode | None = Field(default=None, alias="StatusCode")
