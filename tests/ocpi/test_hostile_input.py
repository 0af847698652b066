"""Hostile and broken input on OCPI endpoints: always an OCPI envelope, never a crash or a partial write."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from hub.store.models import Cdr, HubObject
from tests.ocpi.conftest import PlatformFactory, RunningHub, connected
from tests.ocpi.examples import HUB

PATHS = [
    ("POST", "/ocpi/2.2.1/receiver/cdrs"),
    ("PUT", "/ocpi/2.2.1/receiver/locations/NL/CPA/LOC1"),
    ("PATCH", "/ocpi/2.2.1/receiver/locations/NL/CPA/LOC1/EVSE1"),
    ("PUT", "/ocpi/2.2.1/receiver/tokens/NL/CPA/TOK1"),
    ("POST", "/ocpi/2.2.1/sender/tokens/TOK1/authorize"),
    ("POST", "/ocpi/2.2.1/receiver/commands/START_SESSION"),
    ("PUT", "/ocpi/2.2.1/credentials"),
]

json_like = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=25,
)


def assert_envelope(status: int, raw: bytes) -> dict:  # type: ignore[type-arg]
    body = json.loads(raw)
    assert isinstance(body["status_code"], int) and body["timestamp"].endswith("Z")
    assert status < 500 or body["status_code"] >= 3000
    return body  # type: ignore[no-any-return]


async def send(
    hub: RunningHub, token: str, method: str, path: str, data: bytes, headers: dict[str, str]
) -> tuple[int, bytes]:
    from tests.ocpi.conftest import b64

    all_headers = {
        "Authorization": f"Token {b64(token)}",
        "OCPI-from-country-code": "NL",
        "OCPI-from-party-id": "CPA",
        "OCPI-to-country-code": HUB[0],
        "OCPI-to-party-id": HUB[1],
        **headers,
    }
    async with hub.http.request(method, hub.url + path, data=data, headers=all_headers) as response:
        return response.status, await response.read()


@pytest.fixture
async def cpo_token(hub: RunningHub, platform: PlatformFactory) -> str:
    cpo = await connected(hub, platform, ("NL", "CPA", "CPO"))
    assert cpo.peer is not None and cpo.peer.outbound_token is not None
    return cpo.peer.outbound_token


async def nothing_stored(hub: RunningHub) -> None:
    async with hub.db.session() as session:
        for table in (Cdr, HubObject):
            assert (await session.execute(select(func.count()).select_from(table))).scalar_one() == 0


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=json_like, target=st.sampled_from(PATHS))
async def test_random_json_bodies_get_an_envelope(
    hub: RunningHub, cpo_token: str, body: object, target: tuple[str, str]
) -> None:
    status, raw = await send(
        hub, cpo_token, *target, json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    assert_envelope(status, raw)
    await nothing_stored(hub)


@pytest.mark.parametrize(
    ("data", "content_type", "http"),
    [
        (b"{not json", "application/json", 400),
        (b'{"id": "a", "id": "b"}', "application/json", 400),
        (b"\xff\xfe\x00", "application/json", 400),
        (b"[" * 100_000 + b"]" * 100_000, "application/json", 400),
        (b"[" * 5_000 + b"]" * 5_000, "application/json", 400),
        (b'{"a": 1}', "text/plain", 400),
        (b"x" * 3_000_000, "application/json", 413),
    ],
)
async def test_broken_bodies(
    hub: RunningHub, cpo_token: str, data: bytes, content_type: str, http: int
) -> None:
    for method, path in PATHS[:3]:
        status, raw = await send(hub, cpo_token, method, path, data, {"Content-Type": content_type})
        assert status == http
        assert_envelope(status, raw)
    await nothing_stored(hub)
