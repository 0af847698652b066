"""Remote commands an eMSP sends a CPO through the hub, and how they ended.

OCPI commands are asynchronous (a CommandResponse now, a CommandResult later at ``response_url``); OICP's
AuthorizeRemoteStart/Stop are synchronous, the Acknowledgement being the final answer (oicp-hub-notes §9).
``response_url`` is not part of the canonical command: the hub keeps its own mapping of callback URLs
(ocpi-hub-notes §6.6), whatever protocol the CPO speaks.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from schemas.canonical.party import PartyRef
from schemas.canonical.token import TokenRef


class CommandStatus(StrEnum):
    """How a command ended: OCPI's CommandResultType values, plus UNKNOWN_SESSION (a CommandResponse
    value, what OICP's 400 "Session is invalid" means for a remote stop)."""

    ACCEPTED = "ACCEPTED"
    CANCELED_RESERVATION = "CANCELED_RESERVATION"
    EVSE_OCCUPIED = "EVSE_OCCUPIED"
    EVSE_INOPERATIVE = "EVSE_INOPERATIVE"
    FAILED = "FAILED"
    NOT_SUPPORTED = "NOT_SUPPORTED"
    REJECTED = "REJECTED"
    TIMEOUT = "TIMEOUT"
    UNKNOWN_RESERVATION = "UNKNOWN_RESERVATION"
    UNKNOWN_SESSION = "UNKNOWN_SESSION"


class _Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RemoteStart(_Command):
    """Start charging for ``token`` at a location or EVSE (OCPI START_SESSION, OICP AuthorizeRemoteStart).

    OCPI names the EVSE by ``location_id``/``evse_uid``, OICP by ``evse_id``; the hub resolves one from
    the other through its location store.
    """

    token: TokenRef
    emsp: PartyRef | None = None
    location_id: str | None = Field(default=None, max_length=36)
    evse_uid: str | None = Field(default=None, max_length=36)
    evse_id: str | None = Field(default=None, max_length=48)
    connector_id: str | None = Field(default=None, max_length=36)
    authorization_reference: str | None = Field(default=None, max_length=36)
    product_id: str | None = Field(default=None, max_length=50)


class RemoteStop(_Command):
    """Stop a session, named by the id the eMSP knows it by (OCPI ``session_id``)."""

    session_id: str = Field(min_length=1, max_length=250)


class CommandOutcome(_Command):
    """The final answer to a command. ``accepted`` is true exactly when ``status`` is ACCEPTED."""

    accepted: bool
    status: CommandStatus
    message: str | None = None

    @model_validator(mode="after")
    def _agree(self) -> CommandOutcome:
        if self.accepted != (self.status is CommandStatus.ACCEPTED):
            raise ValueError(f"accepted={self.accepted} contradicts status {self.status}")
        return self

    @classmethod
    def of(cls, status: CommandStatus, message: str | None = None) -> CommandOutcome:
        return cls(accepted=status is CommandStatus.ACCEPTED, status=status, message=message)
