"""Hostile and broken input on every OICP operation, over mutual TLS (issue #8).

Whatever arrives, the hub answers JSON with a ``StatusCode``, a refusal in the operation's own response
shape (hub/oicp/frontdoor.py ``failure``), never HTTP 500, and writes nothing: no session, EVSE, pricing,
authentication data or CDR row appears. Each operation starts from a valid body (checked valid below) that
is then broken one way at a time, besides bodies that are not JSON at all.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from hub.config import AUP_RATE_LIMITS
from hub.errors import HubError
from hub.oicp.frontdoor import _parse, _variant
from hub.simulators.oicp_samples import sample_cdr, sample_evse_record, sample_pricing_record
from hub.store.models import Cdr, OicpAuthData, OicpEvse, OicpPricing, OicpSession
from schemas.oicp.v2_3.endpoints import BY_NAME, OPERATIONS, Operation
from tests.oicp.conftest import OicpHub, OicpPartnerConn

BACKEND_NEUTRAL = True  # routing/protocol logic: SQLite only (tests/conftest.py)

OPERATOR, PROVIDER = "DE*ABC", "DE-ABC"
EVSE = "DE*ABC*E1"
UID = {"RFIDMifareFamilyIdentification": {"UID": "AABBCCDD"}}
SESSION = "b2688855-7f00-0002-6d8e-48d883f6abb6"
START, END = datetime(2026, 1, 20, 10, tzinfo=UTC), datetime(2026, 1, 20, 11, tzinfo=UTC)
WHEN = "2026-01-20T10:00:00Z"
PLACEHOLDERS = {"{operatorID}": OPERATOR, "{providerID}": PROVIDER, "{externalId}": PROVIDER}
TABLES = (OicpSession, OicpEvse, OicpAuthData, OicpPricing, Cdr)
LIMIT = 2_000_000  # Settings.max_body_bytes by default


def _valid_bodies() -> dict[str, dict[str, Any]]:
    """A valid request body per operation (charging notifications: the Start one), as a partner sends it."""
    pricing = {
        "OperatorID": OPERATOR,
        "ProviderID": "*",
        "PricingDefaultPrice": 0.39,
        "PricingDefaultPriceCurrency": "EUR",
        "PricingDefaultReferenceUnit": "KILOWATT_HOUR",
        "PricingProductDataRecords": [sample_pricing_record().to_wire()],
    }
    return {
        "eRoamingAuthorizeStart": {"OperatorID": OPERATOR, "EvseID": EVSE, "Identification": UID},
        "eRoamingAuthorizeStop": {"OperatorID": OPERATOR, "SessionID": SESSION, "Identification": UID},
        "eRoamingAuthorizeRemoteStart": {"ProviderID": PROVIDER, "EvseID": EVSE, "Identification": UID},
        "eRoamingAuthorizeRemoteStop": {"ProviderID": PROVIDER, "EvseID": EVSE, "SessionID": SESSION},
        "eRoamingAuthorizeRemoteReservationStart": {
            "ProviderID": PROVIDER,
            "EvseID": EVSE,
            "Identification": UID,
        },
        "eRoamingAuthorizeRemoteReservationStop": {
            "ProviderID": PROVIDER,
            "EvseID": EVSE,
            "SessionID": SESSION,
        },
        "eRoamingChargeDetailRecord": sample_cdr(SESSION, EVSE, "AABBCCDD", START, END, 10).to_wire(),
        "eRoamingGetChargeDetailRecords": {"ProviderID": PROVIDER, "From": WHEN, "To": WHEN},
        "eRoamingPushAuthenticationData": {
            "ActionType": "fullLoad",
            "ProviderAuthenticationData": {
                "ProviderID": PROVIDER,
                "AuthenticationDataRecord": [{"Identification": UID}],
            },
        },
        "eRoamingPullAuthenticationData": {"OperatorID": OPERATOR},
        "eRoamingPushEvseData": {
            "ActionType": "fullLoad",
            "OperatorEvseData": {
                "OperatorID": OPERATOR,
                "OperatorName": "ABC",
                "EvseDataRecord": [sample_evse_record(EVSE).to_wire()],
            },
        },
        "eRoamingPullEvseData": {"ProviderID": PROVIDER, "GeoCoordinatesResponseFormat": "DecimalDegree"},
        "eRoamingPushEvseStatus": {
            "ActionType": "fullLoad",
            "OperatorEvseStatus": {
                "OperatorID": OPERATOR,
                "EvseStatusRecord": [{"EvseID": EVSE, "EvseStatus": "Available"}],
            },
        },
        "eRoamingPullEvseStatus": {"ProviderID": PROVIDER},
        "eRoamingPullEvseStatusByID": {"ProviderID": PROVIDER, "EvseID": [EVSE]},
        "eRoamingPullEvseStatusByOperatorID": {"ProviderID": PROVIDER, "OperatorID": [OPERATOR]},
        "eRoamingPushPricingProductData": {"ActionType": "fullLoad", "PricingProductData": pricing},
        "eRoamingPushEVSEPricing": {
            "ActionType": "fullLoad",
            "EVSEPricing": [{"EvseID": EVSE, "ProviderID": "*", "EvseIDProductList": ["AC1"]}],
        },
        "eRoamingPullPricingProductData": {"OperatorIDs": [OPERATOR]},
        "eRoamingPullEVSEPricing": {"ProviderID": PROVIDER, "OperatorIDs": [OPERATOR]},
        "eRoamingChargingNotifications": {
            "Type": "Start",
            "SessionID": SESSION,
            "EvseID": EVSE,
            "OperatorID": OPERATOR,
            "ChargingStart": WHEN,
        },
    }


VALID = _valid_bodies()


def path_of(operation: Operation) -> str:
    path = operation.path
    for placeholder, value in PLACEHOLDERS.items():
        path = path.replace(placeholder, value)
    return path


def rejected(operation: Operation, body: Any) -> bool:
    """Whether the operation's request model refuses the body (the front door's own parsing)."""
    try:
        _parse(_variant(operation, body), body)
    except HubError:
        return True
    return False


def test_every_operation_has_a_valid_body_to_break() -> None:
    assert set(VALID) == {operation.name for operation in OPERATIONS}
    for operation in OPERATIONS:
        assert not rejected(operation, VALID[operation.name]), operation.name


@pytest.fixture
def oicp_overrides() -> dict[str, Any]:
    return {"rate_limits": dict.fromkeys(AUP_RATE_LIMITS, 0)}  # 0 = unlimited: hundreds of calls here


@pytest.fixture
async def conn(oicp_hub: OicpHub) -> OicpPartnerConn:
    """One partner that is CPO (DE*ABC) and EMP (DE-ABC), so that it may call every operation."""
    return await oicp_hub.connect(await oicp_hub.admit("DE", "ABC", "CPO", "EMSP"))


async def send(
    conn: OicpPartnerConn, operation: Operation, raw: bytes, content_type: str | None = "application/json"
) -> tuple[int, Any]:
    if content_type is None:
        return await conn.post(path_of(operation), raw=raw, headers={}, skip_auto_headers=["Content-Type"])
    return await conn.post(path_of(operation), raw=raw, headers={"Content-Type": content_type})


def assert_refused(operation: Operation, status: int, answer: Any, code: str = "022") -> None:
    """A refusal in the operation's own shape: HTTP 200 (413 for the size limit), Result/status negative."""
    assert status in (200, 413), (operation.name, status, answer)
    assert answer["StatusCode"]["Code"] == code, (operation.name, answer)
    operation.response.model_validate(answer)
    assert answer.get("Result") is not True


async def nothing_stored(hub: OicpHub) -> None:
    async with hub.db.session() as session:
        for table in TABLES:
            count = (await session.execute(select(func.count()).select_from(table))).scalar_one()
            assert count == 0, table.__tablename__


def _duplicate_first_key(body: dict[str, Any]) -> bytes:
    key, value = next(iter(body.items()))
    text = json.dumps(body)
    return ("{" + json.dumps(key) + ": " + json.dumps(value) + ", " + text[1:]).encode()


def _broken(operation: Operation) -> list[tuple[str, bytes, str | None]]:
    """(what, body, Content-Type) of every fixed way to break the operation's valid body."""
    body = VALID[operation.name]
    text = json.dumps(body)
    return [
        ("not JSON", b"{not json", "application/json"),
        ("truncated", text[: len(text) // 2].encode(), "application/json"),
        ("empty", b"", "application/json"),
        ("duplicate key", _duplicate_first_key(body), "application/json"),
        ("invalid UTF-8", text.encode().replace(b'{"', b'{"\xff', 1), "application/json"),
        ("latin-1", text.encode().replace(b"{", b'{"\xe9": 1, ', 1), "application/json"),
        ("NaN", text.replace("{", '{"x": NaN, ', 1).encode(), "application/json"),
        ("deep arrays", b"[" * 100_000 + b"]" * 100_000, "application/json"),
        ("deep objects", b'{"a": ' * 5_000 + b"1" + b"}" * 5_000, "application/json"),
        (
            "deep inside",
            text.replace("{", '{"x": ' + "[" * 50_000 + "]" * 50_000 + ", ", 1).encode(),
            "application/json",
        ),
        ("array of it", f"[{text}]".encode(), "application/json"),
        ("empty array", b"[]", "application/json"),
        ("null", b"null", "application/json"),
        ("number", b"42", "application/json"),
        ("string", json.dumps(text).encode(), "application/json"),
        ("text/plain", text.encode(), "text/plain"),
        ("form", b"OperatorID=DE*ABC", "application/x-www-form-urlencoded"),
        ("no Content-Type", text.encode(), None),
    ]


async def test_broken_bodies_are_refused_in_each_operations_shape(
    oicp_hub: OicpHub, conn: OicpPartnerConn
) -> None:
    for operation in OPERATIONS:
        for what, raw, content_type in _broken(operation):
            status, answer = await send(conn, operation, raw, content_type)
            assert_refused(operation, status, answer)
            assert answer["StatusCode"].get("AdditionalInfo"), (operation.name, what)
    await nothing_stored(oicp_hub)


async def test_a_body_over_the_limit_is_413_in_each_operations_shape(
    oicp_hub: OicpHub, conn: OicpPartnerConn
) -> None:
    for operation in OPERATIONS:
        padded = dict(VALID[operation.name], Padding="x" * LIMIT)
        status, answer = await send(conn, operation, json.dumps(padded).encode())
        assert status == 413, (operation.name, status, answer)
        assert_refused(operation, status, answer)
    await nothing_stored(oicp_hub)


json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
json_like = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


def _other_type(value: Any) -> st.SearchStrategy[Any]:
    """JSON values of another type than ``value``'s (the model may still coerce some: filtered later)."""
    if isinstance(value, dict):
        return json_scalars | st.lists(json_like, max_size=3)
    if isinstance(value, list):
        return json_scalars | st.dictionaries(st.text(max_size=10), json_like, max_size=3)
    if isinstance(value, str):
        return (
            st.none()
            | st.booleans()
            | st.integers()
            | st.floats(allow_nan=False)
            | st.lists(json_like, max_size=3)
        )
    return (
        st.none()
        | st.text(max_size=10)
        | st.lists(json_like, max_size=3)
        | st.dictionaries(st.text(max_size=5), json_like, max_size=3)
    )


@st.composite
def wrong_types(draw: st.DrawFn) -> tuple[Operation, dict[str, Any]]:
    """An operation's valid body with one top-level field of a wrong JSON type, or missing."""
    operation = draw(st.sampled_from(OPERATIONS))
    body = dict(VALID[operation.name])
    field = draw(st.sampled_from(sorted(body)))
    if draw(st.booleans()):
        del body[field]
    else:
        body[field] = draw(_other_type(body[field]))
    assume(rejected(operation, body))
    return operation, body


HOSTILE = settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@HOSTILE
@given(case=wrong_types())
async def test_wrong_types_for_each_top_level_field(
    oicp_hub: OicpHub, conn: OicpPartnerConn, case: tuple[Operation, dict[str, Any]]
) -> None:
    operation, body = case
    status, answer = await send(conn, operation, json.dumps(body).encode())
    assert_refused(operation, status, answer)
    await nothing_stored(oicp_hub)


@HOSTILE
@given(operation=st.sampled_from(OPERATIONS), body=json_like)
async def test_random_json_bodies(
    oicp_hub: OicpHub, conn: OicpPartnerConn, operation: Operation, body: Any
) -> None:
    assume(rejected(operation, body))
    status, answer = await send(conn, operation, json.dumps(body).encode())
    assert_refused(operation, status, answer)
    await nothing_stored(oicp_hub)


@HOSTILE
@given(operation=st.sampled_from(OPERATIONS), raw=st.binary(max_size=200))
async def test_random_bytes(
    oicp_hub: OicpHub, conn: OicpPartnerConn, operation: Operation, raw: bytes
) -> None:
    status, answer = await send(conn, operation, raw)
    assert_refused(operation, status, answer)
    await nothing_stored(oicp_hub)


def _last_item_foreign() -> dict[str, tuple[dict[str, Any], str]]:
    """Pushes whose first item is the caller's and whose last is not: (body, the code refusing it whole)."""
    foreign_evse, foreign_contract = "DE*XYZ*E2", {"RemoteIdentification": {"EvcoID": "DE-XYZ-C12345678-9"}}
    status = [{"EvseID": evse, "EvseStatus": "Available"} for evse in (EVSE, foreign_evse)]
    records = [sample_evse_record(evse).to_wire() for evse in (EVSE, foreign_evse)]
    pricing = [
        {"EvseID": evse, "ProviderID": "*", "EvseIDProductList": ["AC1"]} for evse in (EVSE, foreign_evse)
    ]
    auth = [{"Identification": UID}, {"Identification": foreign_contract}]
    return {
        "eRoamingPushEvseStatus": (
            {
                "ActionType": "insert",
                "OperatorEvseStatus": {"OperatorID": OPERATOR, "EvseStatusRecord": status},
            },
            "018",
        ),
        "eRoamingPushEvseData": (
            {
                "ActionType": "insert",
                "OperatorEvseData": {
                    "OperatorID": OPERATOR,
                    "OperatorName": "ABC",
                    "EvseDataRecord": records,
                },
            },
            "018",
        ),
        "eRoamingPushEVSEPricing": ({"ActionType": "insert", "EVSEPricing": pricing}, "018"),
        "eRoamingPushAuthenticationData": (
            {
                "ActionType": "insert",
                "ProviderAuthenticationData": {"ProviderID": PROVIDER, "AuthenticationDataRecord": auth},
            },
            "019",
        ),
    }


async def test_a_push_with_one_foreign_item_writes_nothing(oicp_hub: OicpHub, conn: OicpPartnerConn) -> None:
    for name, (body, code) in _last_item_foreign().items():
        operation = BY_NAME[name]
        assert not rejected(operation, body), name  # valid on the wire: refused by the hub's own rules
        status, answer = await send(conn, operation, json.dumps(body).encode())
        assert_refused(operation, status, answer, code=code)
    await nothing_stored(oicp_hub)


@pytest.mark.parametrize(
    "query",
    ["page=%C2%B2", "size=%C2%B2", "page=-1", "page=1.5", "size=0x10", "page=" + "9" * 5000, "size=%00"],
)
async def test_paged_pulls_refuse_bad_page_parameters(
    oicp_hub: OicpHub, conn: OicpPartnerConn, query: str
) -> None:
    for operation in (op for op in OPERATIONS if op.query):
        status, answer = await conn.post(f"{path_of(operation)}?{query}", VALID[operation.name])
        assert_refused(operation, status, answer)


@pytest.mark.parametrize("segment", ["%FF", "%00", "%C2%B2", "%25", "x" * 300])
async def test_hostile_ids_in_the_path_are_017(
    oicp_hub: OicpHub, conn: OicpPartnerConn, segment: str
) -> None:
    for operation in (op for op in OPERATIONS if "{" in op.path):
        path = re.sub(r"\{[^}]+\}", segment, operation.path)
        status, answer = await conn.post(path, VALID[operation.name])
        assert_refused(operation, status, answer, code="017")
    await nothing_stored(oicp_hub)
