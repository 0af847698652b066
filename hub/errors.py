"""The hub's one error hierarchy.

Every error the hub answers with is a :class:`HubError`. Each class carries what each front door needs to
render it, so no handler ever chooses a status code by hand::

    HubError                       OCPI 3000  OICP 001  HTTP 500   unexpected failure inside the hub
    ├── ClientError                OCPI 2000  OICP 022  HTTP 400   the caller sent something wrong
    │   ├── InvalidParameters      OCPI 2001  OICP 022  HTTP 400   a field failed validation (names it)
    │   │   └── MalformedBody      OCPI 2001  OICP 022  HTTP 400   not JSON / wrong content type
    │   ├── NotEnoughInformation   OCPI 2002  OICP 022  HTTP 400
    │   ├── UnknownLocation        OCPI 2003  OICP 022  HTTP 404
    │   ├── UnknownToken           OCPI 2004  OICP 102  HTTP 404
    │   ├── NotAuthenticated       OCPI 2000  OICP 017  HTTP 401   missing or unknown credentials
    │   ├── Forbidden              OCPI 2001  OICP 017  HTTP 403   authenticated, but not for this party
    │   ├── NotFound               OCPI 2000  OICP 300  HTTP 404
    │   ├── Conflict               OCPI 2001  OICP 009  HTTP 409   duplicate or inconsistent write
    │   ├── MethodNotAllowed       OCPI 2000  OICP 022  HTTP 405   e.g. credentials POST when registered
    │   ├── PayloadTooLarge        OCPI 2001  OICP 022  HTTP 413
    │   ├── RateLimited            OCPI 2000  OICP 022  HTTP 429
    │   ├── UnknownService         OCPI 2000  OICP 001  HTTP 404   no OICP operation at this path
    │   ├── InvalidSession         OCPI 2001  OICP 400  HTTP 409   unknown, closed or foreign session
    │   ├── InconsistentEvseId     OCPI 2001  OICP 018  HTTP 400   EvseID not of the OperatorID
    │   └── InconsistentEvcoId     OCPI 2001  OICP 019  HTTP 400   EvcoID not of the ProviderID
    ├── StorageUnavailable         OCPI 3000  OICP 002  HTTP 503   the database is locked, full or down
    ├── ClientApiUnusable          OCPI 3001  OICP 021  HTTP 502   the partner's own API failed us
    ├── UnsupportedVersion         OCPI 3002  OICP 021  HTTP 502
    ├── NoMatchingEndpoints        OCPI 3003  OICP 021  HTTP 502
    └── RoutingError               OCPI 4000  OICP 021  HTTP 502   the hub could not route
        ├── UnknownReceiver        OCPI 4001  OICP 300  HTTP 404
        ├── ServiceNotAvailable    OCPI 4001  OICP 320  HTTP 404   the receiver does not offer it
        ├── ForwardTimeout         OCPI 4002  OICP 310  HTTP 504
        ├── ReceiverNotConnected   OCPI 4003  OICP 310  HTTP 502
        └── NoAgreement            OCPI 4901  OICP 210  HTTP 403   no roaming agreement (custom 49xx)

``http_status`` is what the admin API and plain HTTP answer. OCPI answers a request that reached its
layer with HTTP 200 and the OCPI code (ocpi-hub-notes §2.3, §3), except where the spec names an HTTP
status (401, 404 for an unknown token, 405 on credentials misuse, 400 for a body that is not JSON):
that is ``ocpi_http_status``. OICP answers business errors with HTTP 200 and ``Result: false``
(``oicp_http_status``). Only an unexpected failure (the base class itself) is HTTP 500 everywhere.
"""

from __future__ import annotations

from typing import ClassVar


class HubError(Exception):
    ocpi_status: ClassVar[int] = 3000
    oicp_code: ClassVar[str] = "001"
    http_status: ClassVar[int] = 500
    ocpi_http_status: ClassVar[int] = 500
    oicp_http_status: ClassVar[int] = 500
    title: ClassVar[str] = "Internal error"
    retry_after: int | None = None  # seconds; sent as Retry-After when set

    def __init__(self, message: str | None = None, *, field: str | None = None) -> None:
        self.message = message or self.title
        self.field = field
        super().__init__(self.message)

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class ClientError(HubError):
    ocpi_http_status = 200
    oicp_http_status = 200
    ocpi_status = 2000
    oicp_code = "022"
    http_status = 400
    title = "Bad request"


class InvalidParameters(ClientError):
    ocpi_status = 2001
    title = "Invalid or missing parameters"


class MalformedBody(InvalidParameters):
    ocpi_http_status = 400
    title = "The request body is not valid JSON"


class NotEnoughInformation(ClientError):
    ocpi_status = 2002
    title = "Not enough information"


class UnknownLocation(ClientError):
    ocpi_status = 2003
    http_status = 404
    title = "Unknown location"


class UnknownToken(ClientError):
    ocpi_status = 2004
    oicp_code = "102"
    http_status = 404
    ocpi_http_status = 404
    title = "Unknown token"


class NotAuthenticated(ClientError):
    oicp_code = "017"
    http_status = 401
    ocpi_http_status = 401
    oicp_http_status = 401
    title = "Not authenticated"


class Forbidden(ClientError):
    ocpi_status = 2001
    oicp_code = "017"
    http_status = 403
    title = "Not allowed for this party"


class NotFound(ClientError):
    oicp_code = "300"
    http_status = 404
    ocpi_http_status = 404
    title = "Not found"


class Conflict(ClientError):
    ocpi_status = 2001
    oicp_code = "009"
    http_status = 409
    title = "Conflict"


class MethodNotAllowed(ClientError):
    http_status = 405
    ocpi_http_status = 405
    title = "Method not allowed"


class PayloadTooLarge(ClientError):
    ocpi_status = 2001
    http_status = 413
    ocpi_http_status = 413
    oicp_http_status = 413
    title = "Request body too large"


class RateLimited(ClientError):
    http_status = 429
    ocpi_http_status = 429
    oicp_http_status = 429
    title = "Too many requests"
    retry_after: int | None = 1  # the limiter sets when the bucket holds a call again


class UnknownService(ClientError):
    oicp_code = "001"
    http_status = 404
    ocpi_http_status = 404
    oicp_http_status = 404
    title = "OICP service not found"


class InvalidSession(ClientError):
    ocpi_status = 2001
    oicp_code = "400"
    http_status = 409
    title = "Session is invalid"


class InconsistentEvseId(ClientError):
    ocpi_status = 2001
    oicp_code = "018"
    title = "Inconsistent EvseID"


class InconsistentEvcoId(ClientError):
    ocpi_status = 2001
    oicp_code = "019"
    title = "Inconsistent EvcoID"


class StorageUnavailable(HubError):
    """The database refused the work (locked, disk full, unreachable): nothing of the request was stored."""

    ocpi_http_status = 503
    oicp_http_status = 503
    oicp_code = "002"
    http_status = 503
    title = "Storage unavailable; nothing was stored, send it again"


class Overloaded(HubError):
    """The hub already has as many partner requests in flight as it is allowed: this one was not started."""

    ocpi_http_status = 503
    oicp_http_status = 503
    http_status = 503
    title = "The hub is at capacity; nothing was done, send it again shortly"
    retry_after: int | None = 1


class ClientApiUnusable(HubError):
    ocpi_http_status = 200
    oicp_http_status = 200
    ocpi_status = 3001
    oicp_code = "021"
    http_status = 502
    title = "Unable to use the client's API"


class UnsupportedVersion(HubError):
    ocpi_http_status = 200
    oicp_http_status = 200
    ocpi_status = 3002
    oicp_code = "021"
    http_status = 502
    title = "Unsupported version"


class NoMatchingEndpoints(HubError):
    ocpi_http_status = 200
    oicp_http_status = 200
    ocpi_status = 3003
    oicp_code = "021"
    http_status = 502
    title = "No matching endpoints or expected endpoints missing"


class RoutingError(HubError):
    ocpi_http_status = 200
    oicp_http_status = 200
    ocpi_status = 4000
    oicp_code = "021"
    http_status = 502
    title = "Hub routing error"


class UnknownReceiver(RoutingError):
    ocpi_status = 4001
    oicp_code = "300"
    http_status = 404
    title = "Unknown receiver"


class ServiceNotAvailable(RoutingError):
    ocpi_status = 4001
    oicp_code = "320"
    http_status = 404
    title = "Service not available"


class ForwardTimeout(RoutingError):
    ocpi_status = 4002
    oicp_code = "310"
    http_status = 504
    title = "Timeout on forwarded request"


class ReceiverNotConnected(RoutingError):
    ocpi_status = 4003
    oicp_code = "310"
    http_status = 502
    title = "Receiver not connected"


class NoAgreement(RoutingError):
    ocpi_status = 4901
    oicp_code = "210"
    http_status = 403
    title = "No roaming agreement between these parties"
