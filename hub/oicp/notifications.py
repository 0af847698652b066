"""Charging notifications, CPO -> hub -> EMP (oicp-hub-notes §2 #21).

Checks in Hubject's order: the session is valid and the sender's (400), an EvseID is given, the EMP is
taken from the session and must have a notification endpoint (320). The EMP's acknowledgement is relayed
back to the CPO (unlike a CDR); an EMP that fails or times out is 310.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import structlog

from hub.errors import InvalidParameters, ServiceNotAvailable
from hub.oicp import directory, sessions
from schemas.canonical.party import Role
from schemas.oicp.v2_3 import eRoamingAcknowledgement

if TYPE_CHECKING:
    from hub.oicp.frontdoor import Answer, OicpCall

log = structlog.get_logger("hub.oicp.notifications")


async def receive(call: OicpCall) -> Answer:
    notification, ctx = call.body, call.ctx
    row = await sessions.require_open(ctx.db, notification.session_id, cpo_party_fk=call.caller.party_fk)
    if not notification.evse_id:
        raise InvalidParameters("Please add Valid EVSEID", field="EvseID")
    emp = await directory.by_oicp_id(ctx.db, row.provider_id or "", Role.EMSP)
    if emp is None or not emp.is_oicp:
        # OCPI has no charging notifications: the eMSP follows the session through the sessions module.
        raise ServiceNotAvailable(f"the EMP of session {row.session_id} takes no charging notifications")
    link = await ctx.link(emp.party_fk)
    answer = await ctx.client.call(link, call.operation, notification.to_wire())
    log.info(
        "oicp.notification_forwarded", session=row.session_id, type=str(notification.type), emp=emp.oicp_id
    )
    return eRoamingAcknowledgement.model_validate(answer)
