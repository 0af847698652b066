"""Fault tests use the OCPI hub and simulators of tests/ocpi."""

from tests.ocpi.conftest import hub, hub_overrides, ocpi_overrides, platform  # noqa: F401 - fixtures
