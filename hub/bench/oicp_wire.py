"""What scenario 4 (OICP AuthorizeStart over mutual TLS) shares between the bench's processes.

The OICP CPO, the request every target gets (the same bytes but for its own ``CPOPartnerSessionID``), how
an answer is judged, and the TLS contexts: a listener that requires a client certificate from the hub's
partner CA, as the hub's own OICP listener does (:func:`hub.pki.tls.server_ssl_context`), and the CPO's
client context built from the files ``roamhub pki issue`` hands out.
"""

from __future__ import annotations

import json
import ssl
from typing import Any

from hub.bench import EMSP, TOKEN_UID, Party

OICP_CPO: Party = ("DE", "OCP")
OPERATOR_ID = "DE*OCP"
PROVIDER_ID = f"{EMSP[0]}-{EMSP[1]}"  # the OCPI eMSP as OICP names it (hub/oicp/directory.py)
EVSE_ID = "DE*OCP*E1"
# eRoamingAuthorizeStart, oicp-hub-notes §2 #1: the CPO's own OperatorID in the path.
AUTHORIZE_START_PATH = f"/api/oicp/charging/v21/operators/{OPERATOR_ID}/authorize/start"
AUTHORIZE_START_ROUTE = "/api/oicp/charging/v21/operators/{operatorID}/authorize/start"
OPERATION = "eRoamingAuthorizeStart"
UNLIMITED = 0  # [oicp] rate_limits: 0 = no limit (hub/oicp/limits.py)


def authorize_start_body(cpo_session: str) -> bytes:
    """An RFID card at the CPO's EVSE: the card's UID only, as most CPOs send it (no EvcoID)."""
    body = {
        "OperatorID": OPERATOR_ID,
        "EvseID": EVSE_ID,
        "Identification": {"RFIDMifareFamilyIdentification": {"UID": TOKEN_UID}},
        "CPOPartnerSessionID": cpo_session,
    }
    return json.dumps(body, separators=(",", ":")).encode()


def authorization_start(request: dict[str, Any], session_id: str, authorized: bool) -> dict[str, Any]:
    """An eRoamingAuthorizationStart answer to ``request`` (the direct baseline's, as an EMP gives it)."""
    answer: dict[str, Any] = {
        "SessionID": session_id,
        "CPOPartnerSessionID": request.get("CPOPartnerSessionID"),
        "AuthorizationStatus": "Authorized" if authorized else "NotAuthorized",
        "StatusCode": {"Code": "000" if authorized else "102"},
    }
    if authorized:
        answer["ProviderID"] = PROVIDER_ID
    return answer


def verdict(status: int, raw: bytes) -> str | None:
    """None when the answer is HTTP 200 with ``AuthorizationStatus`` Authorized; else a short reason."""
    if status != 200:
        return f"HTTP {status}"
    try:
        data = json.loads(raw)
    except ValueError:
        return "not JSON"
    if not isinstance(data, dict):
        return "not an object"
    if data.get("AuthorizationStatus") == "Authorized":
        return None
    code = data.get("StatusCode", {}).get("Code") if isinstance(data.get("StatusCode"), dict) else None
    return f"OICP {data.get('AuthorizationStatus')} {code}"


def server_context(cert: str, key: str, ca: str) -> ssl.SSLContext:
    """TLS 1.2+, a client certificate chaining to ``ca`` required, nothing else trusted."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_verify_locations(cafile=ca)
    context.load_cert_chain(cert, key)
    return context


def client_context(cert: str, key: str, ca: str) -> ssl.SSLContext:
    """What a CPO builds from ``roamhub pki issue``'s files: trust the hub's CA only, present ``cert``."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=ca)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    return context
