"""Who may see whose data: OICP contracts are the hub's roaming-agreements policy (notes §1 "Contracts").

With the default policy ``open`` every CPO offers to all EMPs, so every EMP sees every operator; under
``explicit`` an EMP sees only the operators it has an agreement with (and a CPO only those EMPs). No
contract means the data is not offered, not an error: the pulls answer what the caller may see.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from hub.errors import Forbidden
from hub.oicp import directory
from hub.oicp.directory import Member
from hub.pki.callers import check_owns
from schemas.canonical.party import Role, normalise_oicp_id

if TYPE_CHECKING:
    from hub.oicp.frontdoor import OicpCall


async def caller_member(call: OicpCall, oicp_id: str, role: Role) -> Member:
    """The caller's own role behind an id it used (017 unless it is the caller's)."""
    check_owns(call.caller, oicp_id, "ProviderID" if role is Role.EMSP else "OperatorID", role=role)
    try:
        return await directory.own_member(call.ctx.db, call.caller.party_fk, oicp_id, role)
    except LookupError as exc:
        raise Forbidden(f"{oicp_id} is not a {role.value} id of the calling partner") from exc


async def pulling_emp(call: OicpCall) -> Member:
    """The EMP a pull is for: the ProviderID in the path (the front door matched the body's to it)."""
    return await caller_member(call, call.params["providerID"], Role.EMSP)


async def visible_cpos(call: OicpCall, emp: Member) -> list[Member]:
    """Every CPO, OICP or OCPI, whose data this EMP may pull."""
    db, settings = call.ctx.db, call.ctx.settings
    return [
        cpo
        for cpo in await directory.members(db, Role.CPO)
        if await directory.contracted(db, settings, cpo, emp)
    ]


async def visible_emps(call: OicpCall, cpo: Member) -> list[Member]:
    """Every EMP, OICP or OCPI, whose data this CPO may pull."""
    db, settings = call.ctx.db, call.ctx.settings
    return [
        emp
        for emp in await directory.members(db, Role.EMSP)
        if await directory.contracted(db, settings, cpo, emp)
    ]


async def contracted_cpos(call: OicpCall, operator_ids: Sequence[str] | None = None) -> list[Member]:
    """The CPOs the pulling EMP may see, narrowed to ``operator_ids`` if given (others: not offered)."""
    cpos = await visible_cpos(call, await pulling_emp(call))
    if operator_ids is None:
        return cpos
    wanted = {normalise_oicp_id(operator_id) for operator_id in operator_ids}
    return [cpo for cpo in cpos if normalise_oicp_id(cpo.oicp_id) in wanted]


def keys(members: list[Member]) -> set[str]:
    """The members' ids in comparable form."""
    return {normalise_oicp_id(member.oicp_id) for member in members}
