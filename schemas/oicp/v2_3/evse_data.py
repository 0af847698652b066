"""eRoamingEvseData: PushEvseData (evsepush v2.3) and PullEvseData (evsepull v2.3), notes §6 and §2.1.

The descriptive enums (plugs, payment options, ...) are open: Hubject adds values in place and returns
retired ones as ``null`` on pull (notes §6, §8.10), and a hub relays what it does not interpret.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import AliasChoices, Field

from schemas.oicp.v2_3.common import (
    OPEN_ENUM,
    ActionType,
    ChargingPoolID,
    EvseID,
    OicpDateTime,
    OicpDecimal,
    OicpModel,
    OicpPage,
    OperatorID,
    ProviderID,
)

# --- Enums ------------------------------------------------------------------------------------------


class Accessibility(StrEnum):
    FREE_PUBLICLY_ACCESSIBLE = "Free publicly accessible"
    RESTRICTED_ACCESS = "Restricted access"
    PAYING_PUBLICLY_ACCESSIBLE = "Paying publicly accessible"
    TEST_STATION = "Test Station"


class AccessibilityLocation(StrEnum):
    ON_STREET = "OnStreet"
    PARKING_LOT = "ParkingLot"
    PARKING_GARAGE = "ParkingGarage"
    UNDERGROUND_PARKING_GARAGE = "UndergroundParkingGarage"


class AuthenticationMode(StrEnum):
    NFC_RFID_CLASSIC = "NFC RFID Classic"
    NFC_RFID_DESFIRE = "NFC RFID DESFire"
    PNC = "PnC"
    REMOTE = "REMOTE"
    DIRECT_PAYMENT = "Direct Payment"
    NO_AUTHENTICATION_REQUIRED = "No Authentication Required"


class CalibrationLawDataAvailability(StrEnum):
    LOCAL = "Local"
    EXTERNAL = "External"
    NOT_AVAILABLE = "Not Available"


class ChargingMode(StrEnum):
    MODE_1 = "Mode_1"
    MODE_2 = "Mode_2"
    MODE_3 = "Mode_3"
    MODE_4 = "Mode_4"
    CHADEMO = "CHAdeMO"


class PowerType(StrEnum):
    AC_1_PHASE = "AC_1_PHASE"
    AC_3_PHASE = "AC_3_PHASE"
    DC = "DC"


class DynamicInfoAvailable(StrEnum):
    """A string enum on the wire, not a boolean."""

    TRUE = "true"
    FALSE = "false"
    AUTO = "auto"


class EnergyType(StrEnum):
    SOLAR = "Solar"
    WIND = "Wind"
    HYDRO_POWER = "HydroPower"
    GEOTHERMAL_ENERGY = "GeothermalEnergy"
    BIOMASS = "Biomass"
    COAL = "Coal"
    NUCLEAR_ENERGY = "NuclearEnergy"
    PETROLEUM = "Petroleum"
    NATURAL_GAS = "NaturalGas"


class PaymentOption(StrEnum):
    NO_PAYMENT = "No Payment"  # exclusive: not combined with the others
    DIRECT = "Direct"
    CONTRACT = "Contract"


class Plug(StrEnum):
    SMALL_PADDLE_INDUCTIVE = "Small Paddle Inductive"
    LARGE_PADDLE_INDUCTIVE = "Large Paddle Inductive"
    AVCON_CONNECTOR = "AVCON Connector"
    TESLA_CONNECTOR = "Tesla Connector"
    NEMA_5_20 = "NEMA 5-20"
    TYPE_E_FRENCH_STANDARD = "Type E French Standard"
    TYPE_F_SCHUKO = "Type F Schuko"
    TYPE_G_BRITISH_STANDARD = "Type G British Standard"
    TYPE_J_SWISS_STANDARD = "Type J Swiss Standard"
    TYPE_1_CONNECTOR_CABLE_ATTACHED = "Type 1 Connector (Cable Attached)"
    TYPE_2_OUTLET = "Type 2 Outlet"
    TYPE_2_CONNECTOR_CABLE_ATTACHED = "Type 2 Connector (Cable Attached)"
    TYPE_3_OUTLET = "Type 3 Outlet"
    IEC_60309_SINGLE_PHASE = "IEC 60309 Single Phase"
    IEC_60309_THREE_PHASE = "IEC 60309 Three Phase"
    CCS_COMBO_2_PLUG_CABLE_ATTACHED = "CCS Combo 2 Plug (Cable Attached)"
    CCS_COMBO_1_PLUG_CABLE_ATTACHED = "CCS Combo 1 Plug (Cable Attached)"
    CHADEMO = "CHAdeMO"


class ValueAddedService(StrEnum):
    RESERVATION = "Reservation"
    DYNAMIC_PRICING = "DynamicPricing"
    PARKING_SENSORS = "ParkingSensors"
    MAXIMUM_POWER_CHARGING = "MaximumPowerCharging"
    PREDICTIVE_CHARGE_POINT_USAGE = "PredictiveChargePointUsage"
    CHARGING_PLANS = "ChargingPlans"
    ROOF_PROVIDED = "RoofProvided"
    NONE = "None"


class DeltaType(StrEnum):
    """Set on records of a ``LastCall`` delta pull."""

    UPDATE = "update"
    INSERT = "insert"
    DELETE = "delete"


class GeoCoordinatesResponseFormat(StrEnum):
    GOOGLE = "Google"
    DEGREE_MINUTE_SECONDS = "DegreeMinuteSeconds"
    DECIMAL_DEGREE = "DecimalDegree"


class DayValue(StrEnum):
    EVERYDAY = "Everyday"
    WORKDAYS = "Workdays"
    WEEKEND = "Weekend"
    MONDAY = "Monday"
    TUESDAY = "Tuesday"
    WEDNESDAY = "Wednesday"
    THURSDAY = "Thursday"
    FRIDAY = "Friday"
    SATURDAY = "Saturday"
    SUNDAY = "Sunday"


# --- Structures -------------------------------------------------------------------------------------


class InfoText(OicpModel):
    """``InfoTextType``: a language code and a text of at most 150 characters."""

    lang: str
    value: str


class AddressIso19773(OicpModel):
    country: str = Field(alias="Country")  # ISO 3166-1 alpha-3 here, e.g. DEU
    city: str = Field(alias="City")
    street: str = Field(alias="Street")
    postal_code: str = Field(alias="PostalCode")
    house_num: str = Field(alias="HouseNum")
    floor: str | None = Field(default=None, alias="Floor")
    region: str | None = Field(default=None, alias="Region")
    parking_facility: bool | None = Field(default=None, alias="ParkingFacility")
    parking_spot: str | None = Field(default=None, alias="ParkingSpot")
    time_zone: str | None = Field(default=None, alias="TimeZone")  # e.g. UTC+01:00


class GoogleCoordinates(OicpModel):
    coordinates: str = Field(alias="Coordinates")  # "latitude longitude", e.g. "47.662249 9.360922"


class LatitudeLongitude(OicpModel):
    """DecimalDegree and DegreeMinuteSeconds: two strings, kept as written."""

    longitude: str = Field(alias="Longitude")
    latitude: str = Field(alias="Latitude")


class GeoCoordinates(OicpModel):
    """One of three formats; the examples fill in all three at once (notes §8.9)."""

    google: GoogleCoordinates | None = Field(default=None, alias="Google")
    decimal_degree: LatitudeLongitude | None = Field(default=None, alias="DecimalDegree")
    degree_minute_seconds: LatitudeLongitude | None = Field(default=None, alias="DegreeMinuteSeconds")


class ChargingFacility(OicpModel):
    power_type: Annotated[PowerType | str, OPEN_ENUM] = Field(alias="PowerType")
    # kW; an integer in the CPO schema, a number in the EMP schema (notes §8.2): decimals accepted.
    power: OicpDecimal = Field(alias="Power")
    voltage: int | None = Field(default=None, alias="Voltage")
    amperage: int | None = Field(default=None, alias="Amperage")
    charging_modes: list[Annotated[ChargingMode | str, OPEN_ENUM]] | None = Field(
        default=None, alias="ChargingModes"
    )


class EnergySource(OicpModel):
    energy: Annotated[EnergyType | str, OPEN_ENUM] | None = Field(default=None, alias="Energy")
    percentage: int | None = Field(default=None, alias="Percentage")


class EnvironmentalImpact(OicpModel):
    co2_emission: OicpDecimal | None = Field(default=None, alias="CO2Emission")  # g/kWh
    nuclear_waste: OicpDecimal | None = Field(default=None, alias="NuclearWaste")  # g/kWh


class Period(OicpModel):
    begin: str  # hh:mm
    end: str


class OpeningTimes(OicpModel):
    # The key is the YAML 1.1 boolean "on" (README: PyYAML reads it as True); here it is a plain string.
    period: list[Period] = Field(alias="Period")
    on: DayValue


class EvseDataRecord(OicpModel):
    """One EVSE as a CPO pushes it (data types: EvseDataRecordType)."""

    delta_type: DeltaType | None = Field(default=None, alias="deltaType")
    last_update: OicpDateTime | None = Field(default=None, alias="lastUpdate")
    evse_id: EvseID = Field(alias="EvseID")
    charging_pool_id: ChargingPoolID | None = Field(default=None, alias="ChargingPoolID")
    # ChargingStationId in the 2.3 schema; ChargingStationID in the examples and Hubject's 2.2 Swagger.
    charging_station_id: str | None = Field(
        default=None,
        alias="ChargingStationID",
        validation_alias=AliasChoices("ChargingStationID", "ChargingStationId"),
    )
    charging_station_names: list[InfoText] = Field(alias="ChargingStationNames")
    hardware_manufacturer: str | None = Field(default=None, alias="HardwareManufacturer")
    charging_station_image: str | None = Field(default=None, alias="ChargingStationImage")
    sub_operator_name: str | None = Field(default=None, alias="SubOperatorName")
    address: AddressIso19773 = Field(alias="Address")
    geo_coordinates: GeoCoordinates = Field(alias="GeoCoordinates")
    # Retired values (e.g. "Unspecified") come back as null on pull (notes §6).
    plugs: list[Annotated[Plug | str, OPEN_ENUM] | None] = Field(alias="Plugs")
    dynamic_power_level: bool | None = Field(default=None, alias="DynamicPowerLevel")
    charging_facilities: list[ChargingFacility] = Field(alias="ChargingFacilities")
    renewable_energy: bool = Field(alias="RenewableEnergy")
    energy_source: list[EnergySource] | None = Field(default=None, alias="EnergySource")
    environmental_impact: EnvironmentalImpact | None = Field(default=None, alias="EnvironmentalImpact")
    calibration_law_data_availability: Annotated[CalibrationLawDataAvailability | str, OPEN_ENUM] = Field(
        alias="CalibrationLawDataAvailability"
    )
    authentication_modes: list[Annotated[AuthenticationMode | str, OPEN_ENUM]] = Field(
        alias="AuthenticationModes"
    )
    max_capacity: int | None = Field(default=None, alias="MaxCapacity")
    payment_options: list[Annotated[PaymentOption | str, OPEN_ENUM]] = Field(alias="PaymentOptions")
    value_added_services: list[Annotated[ValueAddedService | str, OPEN_ENUM]] = Field(
        alias="ValueAddedServices"
    )
    accessibility: Annotated[Accessibility | str, OPEN_ENUM] | None = Field(alias="Accessibility")
    accessibility_location: Annotated[AccessibilityLocation | str, OPEN_ENUM] | None = Field(
        default=None, alias="AccessibilityLocation"
    )
    hotline_phone_number: str = Field(alias="HotlinePhoneNumber")
    additional_info: list[InfoText] | None = Field(default=None, alias="AdditionalInfo")
    charging_station_location_reference: list[InfoText] | None = Field(
        default=None, alias="ChargingStationLocationReference"
    )
    geo_charging_point_entrance: GeoCoordinates | None = Field(default=None, alias="GeoChargingPointEntrance")
    is_open_24_hours: bool = Field(alias="IsOpen24Hours")
    opening_times: list[OpeningTimes] | None = Field(default=None, alias="OpeningTimes")
    hub_operator_id: OperatorID | None = Field(default=None, alias="HubOperatorID")
    clearinghouse_id: str | None = Field(default=None, alias="ClearinghouseID")
    is_hubject_compatible: bool = Field(alias="IsHubjectCompatible")
    dynamic_info_available: Annotated[DynamicInfoAvailable | str, OPEN_ENUM] = Field(
        alias="DynamicInfoAvailable"
    )


class PullEvseDataRecord(EvseDataRecord):
    """A record in the PullEvseData answer: 2.3 flattens the operators into each record."""

    # The example spells it OperatorId.
    operator_id: OperatorID = Field(
        alias="OperatorID", validation_alias=AliasChoices("OperatorID", "OperatorId")
    )
    operator_name: str = Field(alias="OperatorName")


class OperatorEvseData(OicpModel):
    operator_id: OperatorID = Field(alias="OperatorID")
    operator_name: str = Field(alias="OperatorName")
    evse_data_record: list[EvseDataRecord] = Field(alias="EvseDataRecord")


class eRoamingPushEvseData(OicpModel):
    """CPO → Hubject. ``fullLoad`` with an empty list deletes everything (notes §1)."""

    action_type: ActionType = Field(alias="ActionType")
    operator_evse_data: OperatorEvseData = Field(alias="OperatorEvseData")


class SearchCenter(OicpModel):
    geo_coordinates: GeoCoordinates = Field(alias="GeoCoordinates")
    radius: OicpDecimal = Field(alias="Radius")  # km


class eRoamingPullEVSEData(OicpModel):
    """EMP → Hubject, with ``?page=0&size=20``.

    ``LastCall`` (a delta pull) cannot be combined with SearchCenter, CountryCodes or OperatorIds.
    """

    provider_id: ProviderID = Field(alias="ProviderID")
    search_center: SearchCenter | None = Field(default=None, alias="SearchCenter")
    last_call: OicpDateTime | None = Field(default=None, alias="LastCall")
    geo_coordinates_response_format: GeoCoordinatesResponseFormat = Field(
        alias="GeoCoordinatesResponseFormat"
    )
    country_codes: list[str] | None = Field(default=None, alias="CountryCodes")  # ISO 3166-1 alpha-3
    # Hubject implements OperatorIds; OperatorIDs was reported silently ignored (hubject/oicp#88, #95).
    operator_ids: list[OperatorID] | None = Field(
        default=None, alias="OperatorIds", validation_alias=AliasChoices("OperatorIds", "OperatorIDs")
    )
    authentication_modes: list[Annotated[AuthenticationMode | str, OPEN_ENUM]] | None = Field(
        default=None, alias="AuthenticationModes"
    )
    accessibility: list[Annotated[Accessibility | str, OPEN_ENUM]] | None = Field(
        default=None, alias="Accessibility"
    )
    calibration_law_data_availability: (
        list[Annotated[CalibrationLawDataAvailability | str, OPEN_ENUM]] | None
    ) = Field(default=None, alias="CalibrationLawDataAvailability")
    renewable_energy: bool | None = Field(default=None, alias="RenewableEnergy")
    is_hubject_compatible: bool | None = Field(default=None, alias="IsHubjectCompatible")
    is_open_24_hours: bool | None = Field(default=None, alias="IsOpen24Hours")


class eRoamingEVSEData(OicpPage):
    """The PullEvseData answer: a flat page of records, each with its OperatorID and OperatorName."""

    content: list[PullEvseDataRecord]
