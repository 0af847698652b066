"""Versions module (version information endpoint): Version, VersionDetails, Endpoint."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field

from schemas.ocpi.v2_2_1.common import OPEN_ENUM, URL, OcpiModel


class VersionNumber(StrEnum):
    """Open on input: a peer that also speaks a newer version lists it (for example ``2.3.0``)."""

    V2_0 = "2.0"
    V2_1 = "2.1"
    V2_1_1 = "2.1.1"
    V2_2 = "2.2"
    V2_2_1 = "2.2.1"


class ModuleID(StrEnum):
    """Open: custom modules are allowed, prefixed with the party's name (for example ``nltnm-tokens``)."""

    CDRS = "cdrs"
    CHARGING_PROFILES = "chargingprofiles"
    COMMANDS = "commands"
    CREDENTIALS = "credentials"
    HUB_CLIENT_INFO = "hubclientinfo"
    LOCATIONS = "locations"
    SESSIONS = "sessions"
    TARIFFS = "tariffs"
    TOKENS = "tokens"


class InterfaceRole(StrEnum):
    SENDER = "SENDER"
    RECEIVER = "RECEIVER"


class Version(OcpiModel):
    version: Annotated[VersionNumber | str, OPEN_ENUM]
    url: URL


class Endpoint(OcpiModel):
    identifier: Annotated[ModuleID | str, OPEN_ENUM]
    # For `credentials` the role has no meaning; d2 says send SENDER and ignore it on input.
    role: InterfaceRole
    url: URL


class VersionDetails(OcpiModel):
    version: Annotated[VersionNumber | str, OPEN_ENUM]
    endpoints: Annotated[list[Endpoint], Field(min_length=1)]
