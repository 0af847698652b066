"""OICP eRoamingChargeDetailRecord (cdrmgmt v2.2) ⇄ canonical Cdr (oicp-hub-notes §6, §9).

An OICP CDR has no price and no separate CDR id: the SessionID, which the hub minted, names both the
session and its one CDR. Timestamps keep the offset the CPO wrote (notes §1: Hubject forwards them
unchanged); canonical datetimes are aware and keep theirs, so a round trip does not move them to UTC.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from adapters.ocpi.locations import oicp_evse_id
from adapters.oicp.identification import from_token, provider_of_evco, to_token
from schemas.canonical.cdr import AuthMethod, Cdr, SignedValue
from schemas.canonical.party import PartyRef, normalise_oicp_id
from schemas.oicp.v2_3.cdr import (
    CalibrationLawVerificationInfo,
    ChargeDetailRecord,
    MeteringStatus,
    SignedMeteringValue,
)
from schemas.oicp.v2_3.common import operator_id_of

_KWH = Decimal("0.001")  # ConsumedEnergy and meter values are decimal(,3) kWh (notes §6)
_MAX_SIGNED_VALUES = 10
_TO_NATURE: dict[MeteringStatus | None, str] = {
    MeteringStatus.START: "Start",
    MeteringStatus.PROGRESS: "Intermediate",
    MeteringStatus.END: "End",
}


def to_canonical(record: ChargeDetailRecord, cpo: PartyRef, emsp: PartyRef) -> Cdr:
    """The canonical CDR of an OICP CDR from ``cpo`` for a session authorised by ``emsp``.

    ``auth_method`` is COMMAND for a RemoteIdentification (a remote start), otherwise AUTH_REQUEST;
    the hub replaces it with WHITELIST when it authorised the session from pushed data.
    """
    token = to_token(record.identification)
    remote = record.identification.remote_identification is not None
    signed = record.signed_metering_values or []
    return Cdr(
        id=record.session_id,
        session_id=record.session_id,
        cpo=cpo,
        emsp=emsp,
        token=token,
        evse_id=record.evse_id,
        auth_method=AuthMethod.COMMAND if remote else AuthMethod.AUTH_REQUEST,
        start=record.session_start,
        end=record.session_end,
        charging_start=record.charging_start,
        charging_end=record.charging_end,
        energy_kwh=record.consumed_energy,
        meter_start=record.meter_value_start,
        meter_end=record.meter_value_end,
        signed_values=_signed_values(signed) or None,
        signing_method=_signing_method(signed),
        public_key=_public_key(record.calibration_law_verification_info),
        product_id=record.partner_product_id,
    )


def _signed_values(values: list[SignedMeteringValue]) -> tuple[SignedValue, ...]:
    return tuple(
        SignedValue(nature=_TO_NATURE.get(value.metering_status, "Intermediate"), signed_data=text)
        for value in values
        if (text := value.signed_metering_value)
    )


def _signing_method(values: list[SignedMeteringValue]) -> str | None:
    # OICP asks for "the CPO's transparency-software format" without naming it; OCMF names itself.
    texts = [value.signed_metering_value for value in values if value.signed_metering_value]
    return "OCMF" if texts and all(text.startswith("OCMF|") for text in texts) else None


def _public_key(info: CalibrationLawVerificationInfo | None) -> str | None:
    return info.public_key if info else None


# --- canonical → OICP -------------------------------------------------------------------------------


def from_canonical(
    cdr: Cdr,
    session_id: str,
    operator_id: str,
    provider_id: str | None,
    *,
    emp_partner_session_id: str | None = None,
) -> dict[str, Any]:
    """An OICP ChargeDetailRecord (JSON) for the hub to send an OICP EMP, under the OICP ``session_id``.

    * ChargingStart/End are mandatory in 2.3; an OCPI CDR does not separate charging from the session,
      so the session times stand in for them when the charging times are unknown.
    * CPOPartnerSessionID carries the CPO's own session id (the OCPI ``session_id``), so the EMP and
      the CPO can talk about the same session.
    * HubOperatorID is ``operator_id`` when the EvseID belongs to another (sub-)operator of that hub
      partner; HubProviderID likewise ``provider_id`` when the EvcoID names another provider.
    * ConsumedEnergy and meter values are rounded to Wh (3 decimals, notes §6).

    Raises ValueError when the token or the EvseID has no OICP form (an RFID uid that is not 4, 7 or 10
    bytes of hex, a contract id that is not an EvcoID): such a CDR needs an operator's attention.
    """
    body: dict[str, Any] = {
        "SessionID": session_id,
        "EvseID": _evse_id(cdr.evse_id),
        "Identification": from_token(cdr.token).to_wire(),
        "SessionStart": cdr.start,
        "SessionEnd": cdr.end,
        "ChargingStart": cdr.charging_start or cdr.start,
        "ChargingEnd": cdr.charging_end or cdr.end,
        "ConsumedEnergy": _kwh(cdr.energy_kwh),
        **_partner_ids(cdr, session_id, emp_partner_session_id),
        **_meter_fields(cdr),
        **_hub_ids(cdr, operator_id, provider_id),
    }
    if cdr.product_id:
        body["PartnerProductID"] = cdr.product_id
    # Through the wire model: checks every identifier and writes timestamps with their own offsets.
    return ChargeDetailRecord.model_validate(body).to_wire()


def _evse_id(evse_id: str) -> str:
    oicp = oicp_evse_id(evse_id)
    if oicp is None:
        raise ValueError(f"{evse_id!r} cannot be an OICP EvseID")
    return oicp


def _kwh(value: Decimal) -> Decimal:
    return value.quantize(_KWH, rounding=ROUND_HALF_UP)


def _partner_ids(cdr: Cdr, session_id: str, emp_partner_session_id: str | None) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if cdr.session_id != session_id:
        fields["CPOPartnerSessionID"] = cdr.session_id
    if emp_partner_session_id:
        fields["EMPPartnerSessionID"] = emp_partner_session_id
    return fields


def _meter_fields(cdr: Cdr) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if cdr.meter_start is not None:
        fields["MeterValueStart"] = _kwh(cdr.meter_start)
    if cdr.meter_end is not None:
        fields["MeterValueEnd"] = _kwh(cdr.meter_end)
    if cdr.signed_values:
        fields["SignedMeteringValues"] = _oicp_signed_values(cdr)
    if cdr.public_key:
        fields["CalibrationLawVerificationInfo"] = {"PublicKey": cdr.public_key}
    return fields


def _oicp_signed_values(cdr: Cdr) -> list[dict[str, str]]:
    """At most 10, in the order Start, Progress 1..8, End (notes §6): extra intermediate values go."""
    values = list(cdr.signed_values or ())
    if len(values) > _MAX_SIGNED_VALUES:  # keeps Start, the first intermediate ones and End
        values = [*values[: _MAX_SIGNED_VALUES - 1], values[-1]]
    return [
        {"SignedMeteringValue": value.signed_data, "MeteringStatus": _metering_status(value.nature)}
        for value in values
    ]


def _metering_status(nature: str) -> str:
    lowered = nature.lower()
    if lowered == "start":
        return MeteringStatus.START.value
    if lowered == "end":
        return MeteringStatus.END.value
    return MeteringStatus.PROGRESS.value


def _hub_ids(cdr: Cdr, operator_id: str, provider_id: str | None) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if normalise_oicp_id(operator_id_of(cdr.evse_id)) != normalise_oicp_id(operator_id):
        fields["HubOperatorID"] = operator_id
    evco_provider = _evco_provider(cdr)
    if provider_id and evco_provider and evco_provider != normalise_oicp_id(provider_id):
        fields["HubProviderID"] = provider_id
    return fields


def _evco_provider(cdr: Cdr) -> str | None:
    if cdr.token.contract_id is None:
        return None
    try:
        return provider_of_evco(cdr.token.contract_id)
    except ValueError:
        return None
