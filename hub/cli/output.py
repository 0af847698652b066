"""Printing for people (aligned text) and for scripts (``--json``: one JSON document)."""

from __future__ import annotations

import json
import sys
from typing import Any

from pydantic import BaseModel

from hub.agreements import AgreementView
from hub.parties import PartyView


def emit_json(data: BaseModel | list[Any] | dict[str, Any]) -> None:
    if isinstance(data, BaseModel):
        payload: Any = data.model_dump(mode="json")
    elif isinstance(data, list):
        payload = [item.model_dump(mode="json") if isinstance(item, BaseModel) else item for item in data]
    else:
        payload = data
    json.dump(payload, sys.stdout, indent=2)
    sys.stdout.write("\n")


def table(rows: list[list[str]], headers: list[str]) -> str:
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=False)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    return "\n".join(lines)


def _roles(view: PartyView) -> str:
    return ", ".join(
        f"{r.country_code}-{r.party_id} {r.role}" + (f" ({r.oicp_id})" if r.oicp_id else "")
        for r in view.roles
    )


def party_detail(view: PartyView) -> str:
    lines = [
        f"Party {view.id}: {view.name}",
        f"  protocol:     {view.protocol}",
        f"  status:       {view.status}",
        f"  roles:        {_roles(view)}",
    ]
    if view.base_url:
        lines.append(f"  base URL:     {view.base_url}")
    if view.versions_url:
        lines.append(f"  versions URL: {view.versions_url}")
    if view.token_a:
        lines.append(f"  token A:      {view.token_a}")
        lines.append("  (token A is shown only this once: hand it to the partner with the versions URL)")
    lines.append(f"  admitted:     {view.created_at:%Y-%m-%d %H:%M:%S}Z")
    return "\n".join(lines)


def party_table(views: list[PartyView]) -> str:
    if not views:
        return "No parties admitted yet. Add one with: roamhub party add --help"
    rows = [[str(v.id), v.name, v.protocol, v.status, _roles(v)] for v in views]
    return table(rows, ["ID", "NAME", "PROTOCOL", "STATUS", "ROLES"])


def agreement_table(views: list[AgreementView]) -> str:
    if not views:
        return "No roaming agreements."
    rows = [[str(v.id), v.cpo, v.emsp, f"{v.created_at:%Y-%m-%d %H:%M}"] for v in views]
    return table(rows, ["ID", "CPO", "EMSP", "CREATED"])
