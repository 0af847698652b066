"""What every OICP data push checks before it touches the store (notes §1 "Data pushes", §5).

The pushing id inside the body must be the caller's and the one in the path (017); each EvseID must
belong to the pushing OperatorID and appear once (018); pushes run one at a time per partner and
operation (009). A push answers ``Result: true`` with code 000.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from hub.errors import Forbidden, InconsistentEvseId
from hub.oicp.evse_query import evse_key
from hub.oicp.pushsets import duplicates
from hub.pki.callers import check_owns
from schemas.canonical.party import Role, normalise_oicp_id
from schemas.oicp.v2_3.common import StatusCode, StatusCodeType, eRoamingAcknowledgement, operator_id_of

if TYPE_CHECKING:
    from hub.oicp.frontdoor import OicpCall

_PATH_PARAM = {Role.CPO: "operatorID", Role.EMSP: "providerID"}


def acknowledged() -> eRoamingAcknowledgement:
    return eRoamingAcknowledgement(result=True, status_code=StatusCode.of(StatusCodeType.SUCCESS))


def check_pusher(call: OicpCall, oicp_id: str, field: str, role: Role) -> None:
    """An OperatorID/ProviderID inside the body: the caller's own and the path's (017)."""
    check_owns(call.caller, oicp_id, field, role=role)
    in_path = call.params.get(_PATH_PARAM[role])
    if in_path is not None and normalise_oicp_id(in_path) != normalise_oicp_id(oicp_id):
        raise Forbidden(f"{oicp_id} differs from {in_path} in the path", field=field)


def check_evse_ids(operator_id: str, evse_ids: Iterable[str], *, field: str = "EvseID") -> None:
    """Each EvseID of this OperatorID (prefix, compared without ``*``) and named once (018, §4.1)."""
    listed = list(evse_ids)
    check_evse_owner(operator_id, listed, field=field)
    refuse_repeated((evse_key(evse_id) for evse_id in listed), field=field)


def check_evse_owner(operator_id: str, evse_ids: Iterable[str], *, field: str = "EvseID") -> None:
    """Each EvseID's OperatorID prefix is the pushing operator's (018)."""
    operator = normalise_oicp_id(operator_id)
    for evse_id in evse_ids:
        if normalise_oicp_id(operator_id_of(evse_id)) != operator:
            raise InconsistentEvseId(f"{evse_id} is not an EVSE of operator {operator_id}", field=field)


def refuse_repeated(keys: Iterable[str], *, field: str = "EvseID") -> None:
    """A record named twice in one push: 018 for EVSEs (notes §2 #11 [guide])."""
    repeated = duplicates(keys)
    if repeated:
        raise InconsistentEvseId(f"{', '.join(repeated[:5])} listed more than once", field=field)


@contextmanager
def one_at_a_time(call: OicpCall) -> Iterator[None]:
    """Sequential pushes per partner and operation: a parallel one is 009 (notes §1 [support])."""
    with call.ctx.pushes.hold(call.caller.party_fk, call.operation.name):
        yield
