"""Simulated partner platforms that talk to the hub the way real ones do, for tests, demos and benchmarks.

:mod:`hub.simulators.ocpi` holds the OCPI 2.2.1 platform (CPO, eMSP, or both on one platform).
"""

from hub.simulators.ocpi import OcpiPlatform, run_simulator
from hub.simulators.ocpi_calls import CommandSent
from hub.simulators.ocpi_store import SimStore
from hub.simulators.ocpi_wire import Peer, Received, RegistrationFailed, SimResponse

__all__ = [
    "CommandSent",
    "OcpiPlatform",
    "Peer",
    "Received",
    "RegistrationFailed",
    "SimResponse",
    "SimStore",
    "run_simulator",
]
