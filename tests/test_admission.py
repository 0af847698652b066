"""Admission control: past max_in_flight partner requests a worker answers 503 at once, in their protocol."""

import asyncio

from aiohttp import web
from aiohttp.test_utils import TestClient
from structlog.testing import capture_logs

from hub import errors
from hub.admission import ADMISSION, Admission, admit
from hub.metrics import Metrics


def _app(limit: int, release: asyncio.Event) -> web.Application:
    """Every route waits for ``release``: what is started stays in flight until the test lets it go."""

    async def slow(request: web.Request) -> web.Response:
        await release.wait()
        return web.json_response({"done": request.path})

    app = web.Application(middlewares=[admit])
    app[ADMISSION] = Admission(limit, Metrics())
    for path in ("/ocpi/2.2.1/x", "/api/oicp/x", "/admin/api/x", "/healthz", "/ocpi-like/x"):
        app.router.add_route("*", path, slow)
    return app


async def _in_flight(client: TestClient, count: int) -> None:
    for _ in range(200):
        if client.app[ADMISSION].in_flight == count:
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"in flight: {client.app[ADMISSION].in_flight}, expected {count}")


async def test_a_full_worker_refuses_at_once_in_each_protocol_and_finishes_what_it_took(
    aiohttp_client,  # type: ignore[no-untyped-def]
) -> None:
    release = asyncio.Event()
    client: TestClient = await aiohttp_client(_app(2, release))
    taken = [
        asyncio.ensure_future(client.post("/ocpi/2.2.1/x", json={})),
        asyncio.ensure_future(client.post("/api/oicp/x", json={})),
    ]
    await _in_flight(client, 2)
    ocpi = await client.post("/ocpi/2.2.1/x", json={"a": 1})
    assert ocpi.status == 503 and ocpi.headers["Retry-After"] == "1"
    body = await ocpi.json()
    assert body["status_code"] == 3000 and body.get("data") is None and "timestamp" in body
    assert (
        "2 requests are in progress" in body["status_message"] and "send it again" in body["status_message"]
    )
    oicp = await client.post("/api/oicp/x", json={})
    assert oicp.status == 503 and oicp.headers["Retry-After"] == "1"
    status = (await oicp.json())["StatusCode"]
    assert (await oicp.json())["Result"] is False and status["Code"] == "001"
    assert "limit" in status["AdditionalInfo"]
    release.set()
    done = await asyncio.gather(*taken)
    assert [r.status for r in done] == [200, 200]  # what was admitted is finished as usual
    assert client.app[ADMISSION].in_flight == 0 and client.app[ADMISSION].refused == 2
    again = await client.post("/ocpi/2.2.1/x", json={})
    assert again.status == 200  # room again


async def test_the_operators_doors_are_never_refused(aiohttp_client) -> None:  # type: ignore[no-untyped-def]
    release = asyncio.Event()
    client: TestClient = await aiohttp_client(_app(1, release))
    held = asyncio.ensure_future(client.get("/ocpi/2.2.1/x"))
    await _in_flight(client, 1)
    others = [
        asyncio.ensure_future(client.get(path)) for path in ("/admin/api/x", "/healthz", "/ocpi-like/x")
    ]
    await asyncio.sleep(0.05)
    assert client.app[ADMISSION].in_flight == 1  # none of them counted
    release.set()
    assert [r.status for r in await asyncio.gather(held, *others)] == [200, 200, 200, 200]


async def test_limit_zero_admits_everything(aiohttp_client) -> None:  # type: ignore[no-untyped-def]
    release = asyncio.Event()
    client: TestClient = await aiohttp_client(_app(0, release))
    many = [asyncio.ensure_future(client.get("/ocpi/2.2.1/x")) for _ in range(20)]
    await asyncio.sleep(0.1)
    release.set()
    assert {r.status for r in await asyncio.gather(*many)} == {200}
    assert client.app[ADMISSION].refused == 0


def test_refusals_are_counted_per_protocol_and_logged_at_most_once_a_second() -> None:
    metrics = Metrics()
    admission = Admission(3, metrics, log_every=3600)
    admission.in_flight = 3
    assert admission.full()
    with capture_logs() as logs:
        refusals = [admission.refuse("ocpi") for _ in range(5)] + [admission.refuse("oicp")]
    assert all(isinstance(r, errors.Overloaded) for r in refusals)
    assert [entry["event"] for entry in logs] == ["http.overloaded"]
    assert logs[0]["in_flight"] == 3 and logs[0]["limit"] == 3
    text = metrics.render().decode()
    assert 'roamhub_http_requests_shed_total{protocol="ocpi"} 5.0' in text
    assert 'roamhub_http_requests_shed_total{protocol="oicp"} 1.0' in text
    assert "roamhub_http_requests_in_flight 3.0" in text
    admission.in_flight = 2
    assert not admission.full()
