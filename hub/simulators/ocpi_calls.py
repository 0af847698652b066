"""Thin request helpers a simulated platform sends to its peer, one per OCPI interaction.

Each one only builds the path and body and hands over to :meth:`OcpiCalls.call`; the routing, ids and
authorization headers are added there. They are the vocabulary of the hub's end-to-end tests.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hub.simulators.ocpi_wire import RECEIVER, SENDER, Party, SimResponse

_NEXT_LINK = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')


@dataclass(frozen=True)
class CommandSent:
    """A command we posted: the peer's synchronous answer and the id under which its result will arrive."""

    result_id: str
    response: SimResponse


class OcpiCalls:
    """The request helpers; :class:`hub.simulators.ocpi.OcpiPlatform` supplies the transport."""

    async def call(
        self,
        method: str,
        module: str,
        interface: str,
        path: str = "",
        *,
        json: Any = None,
        params: Mapping[str, str] | None = None,
        to: Party | None = None,
        from_: Party | None = None,
        headers: Mapping[str, str | None] | None = None,
        raw_url: str | None = None,
        correlation_id: str | None = None,
    ) -> SimResponse:
        raise NotImplementedError

    def party_for(self, module: str, interface: str) -> Party:
        raise NotImplementedError

    def command_response_url(self, result_id: str, target: Party | None) -> str:
        raise NotImplementedError

    # --- Locations, Tariffs, Tokens, Sessions: client owned objects on the peer's Receiver ---------

    async def push_location(self, location: Mapping[str, Any], *, to: Party | None = None) -> SimResponse:
        return await self._put_owned("locations", location, str(location["id"]), to=to)

    async def patch_location(
        self,
        location_id: str,
        patch: Mapping[str, Any],
        *,
        evse_uid: str | None = None,
        connector_id: str | None = None,
        to: Party | None = None,
        owner: Party | None = None,
    ) -> SimResponse:
        cc, pid = owner or self.party_for("locations", SENDER)
        parts = [cc, pid, location_id, *(p for p in (evse_uid, connector_id) if p is not None)]
        return await self.call("PATCH", "locations", RECEIVER, "/".join(parts), json=patch, to=to)

    async def patch_evse(
        self,
        location_id: str,
        evse_uid: str,
        patch: Mapping[str, Any],
        *,
        to: Party | None = None,
        owner: Party | None = None,
    ) -> SimResponse:
        return await self.patch_location(location_id, patch, evse_uid=evse_uid, to=to, owner=owner)

    async def push_tariff(self, tariff: Mapping[str, Any], *, to: Party | None = None) -> SimResponse:
        return await self._put_owned("tariffs", tariff, str(tariff["id"]), to=to)

    async def delete_tariff(
        self, tariff_id: str, *, to: Party | None = None, owner: Party | None = None
    ) -> SimResponse:
        cc, pid = owner or self.party_for("tariffs", SENDER)
        return await self.call("DELETE", "tariffs", RECEIVER, f"{cc}/{pid}/{tariff_id}", to=to)

    async def push_token(self, token: Mapping[str, Any], *, to: Party | None = None) -> SimResponse:
        params = {"type": str(token.get("type", "RFID"))}
        return await self._put_owned("tokens", token, str(token["uid"]), to=to, params=params)

    async def patch_token(
        self,
        uid: str,
        patch: Mapping[str, Any],
        *,
        type: str = "RFID",
        to: Party | None = None,
        owner: Party | None = None,
    ) -> SimResponse:
        cc, pid = owner or self.party_for("tokens", SENDER)
        path = f"{cc}/{pid}/{uid}"
        return await self.call("PATCH", "tokens", RECEIVER, path, json=patch, params={"type": type}, to=to)

    async def put_session(self, session: Mapping[str, Any], *, to: Party | None = None) -> SimResponse:
        return await self._put_owned("sessions", session, str(session["id"]), to=to)

    async def patch_session(
        self,
        session_id: str,
        patch: Mapping[str, Any],
        *,
        to: Party | None = None,
        owner: Party | None = None,
    ) -> SimResponse:
        cc, pid = owner or self.party_for("sessions", SENDER)
        return await self.call("PATCH", "sessions", RECEIVER, f"{cc}/{pid}/{session_id}", json=patch, to=to)

    async def _put_owned(
        self,
        module: str,
        obj: Mapping[str, Any],
        object_id: str,
        *,
        to: Party | None,
        params: Mapping[str, str] | None = None,
    ) -> SimResponse:
        # The URL carries the owner's cc/pid from the object, even when FROM is someone else (§2.7).
        path = f"{obj['country_code']}/{obj['party_id']}/{object_id}"
        return await self.call("PUT", module, RECEIVER, path, json=obj, params=params, to=to)

    # --- Tokens: real-time authorization on the eMSP's Sender ---------------------------------------

    async def authorize(
        self,
        uid: str,
        type: str = "RFID",
        location: Mapping[str, Any] | None = None,
        *,
        to: Party | None = None,
    ) -> SimResponse:
        path = f"{uid}/authorize"
        return await self.call("POST", "tokens", SENDER, path, json=location, params={"type": type}, to=to)

    # --- CDRs: POST to the eMSP, then GET through the Location header ------------------------------

    async def post_cdr(self, cdr: Mapping[str, Any], *, to: Party | None = None) -> SimResponse:
        return await self.call("POST", "cdrs", RECEIVER, json=cdr, to=to)

    async def get_cdr(self, location_url: str, *, to: Party | None = None) -> SimResponse:
        return await self.call("GET", "cdrs", RECEIVER, raw_url=location_url, to=to)

    # --- Commands: eMSP -> CPO, with a response_url on this platform -------------------------------

    async def send_command(
        self, command: str, body: Mapping[str, Any], *, to: Party | None = None
    ) -> CommandSent:
        result_id = uuid.uuid4().hex
        payload = {**body, "response_url": self.command_response_url(result_id, to)}
        response = await self.call("POST", "commands", RECEIVER, command, json=payload, to=to)
        return CommandSent(result_id, response)

    async def start_session(
        self,
        token: Mapping[str, Any],
        location_id: str,
        *,
        evse_uid: str | None = None,
        connector_id: str | None = None,
        authorization_reference: str | None = None,
        to: Party | None = None,
    ) -> CommandSent:
        optional = {
            "evse_uid": evse_uid,
            "connector_id": connector_id,
            "authorization_reference": authorization_reference,
        }
        body = {"token": token, "location_id": location_id}
        body |= {name: value for name, value in optional.items() if value is not None}
        return await self.send_command("START_SESSION", body, to=to)

    async def stop_session(self, session_id: str, *, to: Party | None = None) -> CommandSent:
        return await self.send_command("STOP_SESSION", {"session_id": session_id}, to=to)

    # --- Sender lists -------------------------------------------------------------------------------

    async def get_list(
        self, module: str, *, params: Mapping[str, str] | None = None, to: Party | None = None
    ) -> SimResponse:
        return await self.call("GET", module, SENDER, params=params, to=to)

    async def fetch_all(
        self, module: str, *, params: Mapping[str, str] | None = None, to: Party | None = None
    ) -> list[Any]:
        """Every page of a Sender list, following ``Link: <...>; rel="next"`` (§2.4)."""
        response = await self.get_list(module, params=params, to=to)
        objects: list[Any] = list(response.data or [])
        while (next_url := next_link(response)) is not None:
            response = await self.call("GET", module, SENDER, raw_url=next_url, to=to)
            objects.extend(response.data or [])
        return objects


def next_link(response: SimResponse) -> str | None:
    match = _NEXT_LINK.search(response.headers.get("Link", ""))
    return match.group(1) if match else None
