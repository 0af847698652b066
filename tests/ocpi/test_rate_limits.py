"""Rate limits per platform and module: HTTP 429 with an OCPI envelope, others unaffected (issue: #8)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.ocpi.conftest import PlatformFactory, RunningHub, connected
from tests.ocpi.examples import example, owned_by

BACKEND_NEUTRAL = True  # routing/protocol logic: SQLite only (tests/conftest.py)


@pytest.fixture
def ocpi_overrides() -> dict[str, Any]:
    return {"rate_limits": {"locations": 2}, "rate_limit_burst": 1.0}


async def test_a_greedy_platform_gets_429_and_starves_nobody(
    hub: RunningHub, platform: PlatformFactory
) -> None:
    greedy = await connected(hub, platform, ("NL", "CPA", "CPO"))
    other = await connected(hub, platform, ("NL", "CPB", "CPO"))
    location = example("location_example.json")
    answers = [await greedy.push_location(owned_by(location, "NL", "CPA")) for _ in range(3)]
    assert [a.status for a in answers[:2]] == [200, 200]
    refused = answers[2]
    assert refused.status == 429
    assert refused.body["status_code"] == 2000 and "per minute" in refused.body["status_message"]
    assert int(refused.headers["Retry-After"]) >= 1
    assert (await other.push_location(owned_by(location, "NL", "CPB"))).status == 200  # its own bucket
    assert (await greedy.get_list("locations")).status == 429  # same module, any interface
    assert (await greedy.get_list("tariffs")).status == 200  # another module is not limited
