"""The middlewares every request passes: ids and logging context, metrics, errors rendered in one place.

Errors are rendered in the caller's protocol, chosen by the front door the path belongs to: the OCPI
envelope under ``/ocpi``, an OICP ``StatusCode`` under ``/api/oicp``, and an RFC 9457 problem object
everywhere else (the admin API).
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any, Literal

import structlog
from aiohttp import web
from aiohttp.typedefs import Handler
from sqlalchemy.exc import InterfaceError, OperationalError

from hub import errors
from hub.crypto import same_secret
from hub.keys import ADMIN_TOKEN, METRICS
from hub.ocpi.envelope import envelope

log = structlog.get_logger("hub.http")

REQUEST_ID = web.RequestKey("request_id", str)
CORRELATION_ID = web.RequestKey("correlation_id", str)

OCPI_PREFIX = "/ocpi"
OICP_PREFIX = "/api/oicp"
ADMIN_PREFIX = "/admin"

# aiohttp's own refusals (no route, wrong method, body too large) become the matching hub errors.
_HTTP_ERRORS: dict[int, type[errors.HubError]] = {
    400: errors.ClientError,
    401: errors.NotAuthenticated,
    404: errors.NotFound,
    405: errors.MethodNotAllowed,
    413: errors.PayloadTooLarge,
    429: errors.RateLimited,
}


PartnerProtocol = Literal["ocpi", "oicp"]
_FRONT_DOORS: tuple[tuple[str, PartnerProtocol], ...] = ((OCPI_PREFIX, "ocpi"), (OICP_PREFIX, "oicp"))


def partner_protocol(path: str) -> PartnerProtocol | None:
    """The protocol of a partner's request by its front door; None for the operator's (admin, health)."""
    for prefix, protocol in _FRONT_DOORS:
        if path == prefix or path.startswith(prefix + "/"):
            return protocol
    return None


def render_error(request: web.Request, error: errors.HubError) -> web.Response:
    response = _render(request, error)
    if error.retry_after is not None:
        response.headers["Retry-After"] = str(error.retry_after)
    return response


def _render(request: web.Request, error: errors.HubError) -> web.Response:
    path = request.path
    if path.startswith(OCPI_PREFIX):
        body = envelope(status_code=error.ocpi_status, message=str(error), now=datetime.now(UTC))
        return web.json_response(body, status=error.ocpi_http_status)
    if path.startswith(OICP_PREFIX):
        status: dict[str, Any] = {"Code": error.oicp_code, "Description": error.title}
        if error.message != error.title or error.field:
            status["AdditionalInfo"] = str(error)
        return web.json_response({"Result": False, "StatusCode": status}, status=error.oicp_http_status)
    problem: dict[str, Any] = {
        "type": "about:blank",
        "title": error.title,
        "status": error.http_status,
        "detail": error.message,
    }
    if error.field:
        problem["field"] = error.field
    response = web.json_response(problem, status=error.http_status, content_type="application/problem+json")
    if isinstance(error, errors.NotAuthenticated):
        response.headers["WWW-Authenticate"] = 'Bearer realm="roamhub admin"'
    return response


def _route_label(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


@web.middleware
async def request_context(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Ids, logging context, metrics and error rendering around every request."""
    request_id = request.headers.get("X-Request-ID") or str(uuid.uuid4())
    correlation_id = request.headers.get("X-Correlation-ID") or request_id
    request[REQUEST_ID] = request_id
    request[CORRELATION_ID] = correlation_id
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(request_id=request_id, correlation_id=correlation_id)
    started = time.perf_counter()
    try:
        response = await handler(request)
    except errors.HubError as exc:
        response = _answer(request, exc)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        cls = _HTTP_ERRORS.get(exc.status, errors.ClientError)
        response = _answer(
            request, cls(exc.reason if exc.status != 404 else f"no resource at {request.path}")
        )
        if "Allow" in exc.headers:  # a 405 says which methods would do (RFC 9110 §15.5.6)
            response.headers["Allow"] = exc.headers["Allow"]
    except (OperationalError, InterfaceError) as exc:
        # Translated once, here: a locked, full or unreachable database is the server's trouble, said plainly.
        log.error(
            "http.storage_unavailable", method=request.method, path=request.path, error=str(exc.orig)[:200]
        )
        response = _answer(request, errors.StorageUnavailable())
    except Exception:
        log.exception("http.unexpected_error", method=request.method, path=request.path)
        response = render_error(request, errors.HubError("unexpected error inside the hub"))
    response.headers.setdefault("X-Request-ID", request_id)
    response.headers.setdefault("X-Correlation-ID", correlation_id)
    request.app[METRICS].observe(
        _route_label(request), request.method, response.status, time.perf_counter() - started
    )
    return response


def _answer(request: web.Request, exc: errors.HubError) -> web.Response:
    level = "warning" if isinstance(exc, errors.NotAuthenticated | errors.Forbidden) else "info"
    getattr(log, level)(
        "http.refused",
        method=request.method,
        path=request.path,
        error=type(exc).__name__,
        detail=str(exc),
    )
    return render_error(request, exc)


@web.middleware
async def admin_auth(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Nothing under /admin answers without the operator token, not even a 404."""
    if request.path == ADMIN_PREFIX or request.path.startswith(ADMIN_PREFIX + "/"):
        scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not same_secret(presented.strip(), request.app[ADMIN_TOKEN]):
            log.warning("security.admin_unauthenticated", method=request.method, path=request.path)
            raise errors.NotAuthenticated("the admin API needs 'Authorization: Bearer <operator token>'")
        for name, value in request.query.items():  # no text column takes a NUL (PostgreSQL refuses it)
            if "\x00" in name or "\x00" in value:
                raise errors.InvalidParameters(f"query parameter {name!r} holds a NUL character", field=name)
    return await handler(request)
