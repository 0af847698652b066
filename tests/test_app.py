"""The running hub on loopback: health, metrics, the admin API and error rendering per front door."""

import pytest
from aiohttp.test_utils import TestClient

PARTY = {"name": "Example CPO", "country_code": "NL", "party_id": "EXA", "roles": ["CPO"], "protocol": "ocpi"}


async def test_healthz_checks_the_database(client: TestClient) -> None:
    response = await client.get("/healthz")
    assert response.status == 200
    assert await response.json() == {"status": "ok", "database": "ok"}


async def test_healthz_reports_a_broken_database(client: TestClient) -> None:
    from hub.keys import DB

    await client.app[DB].engine.dispose()

    async def refuse() -> None:
        raise OSError("connection refused")

    client.app[DB].ping = refuse  # type: ignore[method-assign]
    response = await client.get("/healthz")
    assert response.status == 503
    assert (await response.json())["database"] == "unreachable"


async def test_metrics_count_requests_by_route_and_status(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    await client.get("/healthz")
    await client.get("/admin/api/parties/12345", headers=admin_headers)
    response = await client.get("/metrics")
    assert response.status == 200
    assert response.content_type == "text/plain"
    text = await response.text()
    assert 'roamhub_http_requests_total{method="GET",route="/healthz",status="200"} 1.0' in text
    assert (
        'roamhub_http_requests_total{method="GET",route="/admin/api/parties/{id}",status="404"} 1.0' in text
    )
    assert 'roamhub_http_request_duration_seconds_bucket{le="0.001",method="GET",route="/healthz"}' in text


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/admin/api/parties"),
        ("POST", "/admin/api/parties"),
        ("GET", "/admin/nothing-here"),
        ("GET", "/admin"),
    ],
)
@pytest.mark.parametrize("authorization", [None, "Bearer wrong", "Token test-operator-token", "Bearer"])
async def test_nothing_under_admin_answers_without_the_operator_token(
    client: TestClient, method: str, path: str, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = await client.request(method, path, headers=headers, json=PARTY)
    assert response.status == 401
    assert response.content_type == "application/problem+json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert (await response.json())["status"] == 401


async def test_admin_party_lifecycle(client: TestClient, admin_headers: dict[str, str]) -> None:
    created = await client.post("/admin/api/parties", json=PARTY, headers=admin_headers)
    assert created.status == 201
    party = await created.json()
    assert party["token_a"] and party["versions_url"] == "http://hub.test:8080/ocpi/versions"
    listed = await (await client.get("/admin/api/parties", headers=admin_headers)).json()
    assert [p["id"] for p in listed] == [party["id"]]
    assert all(p["token_a"] is None for p in listed)
    shown = await (await client.get(f"/admin/api/parties/{party['id']}", headers=admin_headers)).json()
    assert shown["roles"] == [{"country_code": "NL", "party_id": "EXA", "role": "CPO", "oicp_id": None}]
    suspended = await client.post(f"/admin/api/parties/{party['id']}/suspend", headers=admin_headers)
    assert (await suspended.json())["status"] == "SUSPENDED"


async def test_admin_agreements(client: TestClient, admin_headers: dict[str, str]) -> None:
    await client.post("/admin/api/parties", json=PARTY, headers=admin_headers)
    await client.post(
        "/admin/api/parties", json={**PARTY, "party_id": "EMA", "roles": ["EMSP"]}, headers=admin_headers
    )
    created = await client.post(
        "/admin/api/agreements", json={"cpo": "NL-EXA", "emsp": "nl-ema"}, headers=admin_headers
    )
    assert created.status == 201
    agreement = await created.json()
    assert (agreement["cpo"], agreement["emsp"]) == ("NL-EXA", "NL-EMA")
    duplicate = await client.post(
        "/admin/api/agreements", json={"cpo": "NL-EXA", "emsp": "NL-EMA"}, headers=admin_headers
    )
    assert duplicate.status == 409
    listed = await (await client.get("/admin/api/agreements", headers=admin_headers)).json()
    assert len(listed) == 1
    removed = await client.delete(f"/admin/api/agreements/{agreement['id']}", headers=admin_headers)
    assert removed.status == 200
    gone = await client.delete(f"/admin/api/agreements/{agreement['id']}", headers=admin_headers)
    assert gone.status == 404


@pytest.mark.parametrize(
    ("body", "field", "status"),
    [
        ({**PARTY, "country_code": "NLD"}, "country_code", 400),
        ({**PARTY, "roles": ["PILOT"]}, "roles.0", 400),
        ({**PARTY, "extra": 1}, "extra", 400),
        ({k: v for k, v in PARTY.items() if k != "name"}, "name", 400),
        ({**PARTY, "protocol": "oicp", "roles": ["CPO"], "operator_id": "DE*ABCDE"}, "operator_id", 400),
    ],
)
async def test_admin_bad_input_names_the_field(
    client: TestClient, admin_headers: dict[str, str], body: dict[str, object], field: str, status: int
) -> None:
    response = await client.post("/admin/api/parties", json=body, headers=admin_headers)
    assert response.status == status
    problem = await response.json()
    assert problem["field"] == field
    assert problem["detail"]
    assert (await (await client.get("/admin/api/parties", headers=admin_headers)).json()) == []


async def test_admin_duplicate_party_is_409_and_nothing_changes(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    await client.post("/admin/api/parties", json=PARTY, headers=admin_headers)
    again = await client.post("/admin/api/parties", json={**PARTY, "name": "Other"}, headers=admin_headers)
    assert again.status == 409
    assert (await again.json())["field"] == "roles"
    assert len(await (await client.get("/admin/api/parties", headers=admin_headers)).json()) == 1


@pytest.mark.parametrize(
    ("data", "content_type", "detail"),
    [
        (b"{not json", "application/json", "not valid JSON"),
        (b'{"name": "a", "name": "b"}', "application/json", "duplicate key"),
        (b"\xff\xfe{}", "application/json", "UTF-8"),
        (b'{"name": NaN}', "application/json", "NaN"),
        (b"{}", "text/plain", "Content-Type"),
    ],
)
async def test_admin_malformed_bodies(
    client: TestClient, admin_headers: dict[str, str], data: bytes, content_type: str, detail: str
) -> None:
    headers = {**admin_headers, "Content-Type": content_type}
    response = await client.post("/admin/api/parties", data=data, headers=headers)
    assert response.status == 400
    assert detail in (await response.json())["detail"]


async def test_admin_unknown_ids(client: TestClient, admin_headers: dict[str, str]) -> None:
    assert (await client.get("/admin/api/parties/77", headers=admin_headers)).status == 404
    bad = await client.get("/admin/api/parties/abc", headers=admin_headers)
    assert bad.status == 400 and (await bad.json())["field"] == "id"


async def test_admin_config_is_masked(client: TestClient, admin_headers: dict[str, str]) -> None:
    config = await (await client.get("/admin/api/config", headers=admin_headers)).json()
    assert "test-operator-token" not in repr(config)
    assert config["public_url"] == "http://hub.test:8080"


async def test_request_and_correlation_ids_are_echoed_or_generated(client: TestClient) -> None:
    echoed = await client.get("/healthz", headers={"X-Request-ID": "req-1", "X-Correlation-ID": "corr-1"})
    assert (echoed.headers["X-Request-ID"], echoed.headers["X-Correlation-ID"]) == ("req-1", "corr-1")
    generated = await client.get("/healthz")
    assert len(generated.headers["X-Request-ID"]) == 36


async def test_errors_render_in_each_front_doors_protocol(client: TestClient) -> None:
    ocpi = await client.get("/ocpi/no-such-module")
    assert ocpi.status == 404
    body = await ocpi.json()
    assert body["status_code"] == 2000 and body["timestamp"].endswith("Z") and "data" not in body
    oicp = await client.post("/api/oicp/nothing/v21/here", json={})
    body = await oicp.json()
    # Hubject's answer to an unknown URI: 001 "OICP service not found for URI" (oicp-hub-notes §5).
    assert oicp.status == 404
    assert body["Result"] is False and body["StatusCode"]["Code"] == "001"
    assert "/api/oicp/nothing/v21/here" in body["StatusCode"]["AdditionalInfo"]
    plain = await client.get("/nowhere")
    assert plain.status == 404 and plain.content_type == "application/problem+json"


async def test_body_over_the_limit_is_413(aiohttp_client, tmp_path, db_url) -> None:  # type: ignore[no-untyped-def]
    from hub.app import create_app
    from tests.conftest import ADMIN_TOKEN, make_settings

    client = await aiohttp_client(create_app(make_settings(tmp_path, db_url, max_body_bytes=1024)))
    response = await client.post(
        "/admin/api/parties",
        json={**PARTY, "name": "x" * 5000},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    )
    assert response.status == 413


@pytest.mark.parametrize(
    ("path", "status", "expected"),
    [
        ("/ocpi/2.2.1/boom", 500, {"status_code": 3000}),
        ("/api/oicp/boom", 500, {"Result": False}),
        ("/admin-less/boom", 500, {"status": 500}),
    ],
)
async def test_unexpected_errors_are_logged_with_traceback_and_answered_in_protocol(
    aiohttp_client, capsys: pytest.CaptureFixture[str], path: str, status: int, expected: dict[str, object]
) -> None:  # type: ignore[no-untyped-def]
    from aiohttp import web

    from hub.config import LogSettings
    from hub.keys import METRICS
    from hub.logs import configure_logging
    from hub.metrics import Metrics
    from hub.middleware import request_context

    configure_logging(LogSettings(format="json"))

    async def explode(request: web.Request) -> web.Response:
        raise RuntimeError("kaboom")

    app = web.Application(middlewares=[request_context])
    app[METRICS] = Metrics()
    app.router.add_route("*", path, explode)
    client = await aiohttp_client(app)
    response = await client.get(path)
    assert response.status == status
    body = await response.json()
    assert expected.items() <= body.items()
    assert "kaboom" not in repr(body)  # internals stay in the log
    logged = capsys.readouterr().err
    assert "http.unexpected_error" in logged and "RuntimeError: kaboom" in logged


async def test_admin_query_with_a_nul_is_400(client: TestClient, admin_headers: dict[str, str]) -> None:
    # Found by schemathesis on PostgreSQL, whose text columns refuse NUL: the query never reaches them.
    for path in ("/admin/api/traffic?party=%00", "/admin/api/parties?role=CP%00O"):
        response = await client.get(path, headers=admin_headers)
        assert response.status == 400, path
        assert "NUL" in (await response.json())["detail"]
