"""The shape every "the database cannot take it now" fault test shares: refused plainly, nothing kept of
the refused POST, and the CPO's retry stored and delivered once when the trouble is gone."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager

from tests.ocpi.conftest import PlatformFactory, RunningHub, connected
from tests.ocpi.examples import cdr_of
from tests.ocpi.test_cdrs import stored


async def refused_then_kept(
    hub: RunningHub, platform: PlatformFactory, fault: AbstractAsyncContextManager[str]
) -> None:
    """A CDR POSTed while ``fault`` holds (it yields what it injected) gets HTTP 503 and OCPI 3000 "nothing
    was stored" and leaves nothing behind; once ``fault`` is lifted the same POST is stored and delivered
    exactly once."""
    emsp = await connected(hub, platform, ("DE", "EMA", "EMSP"))
    cpo = await connected(hub, platform, ("NL", "CPA", "CPO"))
    cdr = cdr_of(("NL", "CPA"), ("DE", "EMA"))
    async with fault as injected:
        refused = await cpo.post_cdr(cdr, to=("DE", "EMA"))
        print(f"injected: {injected}; answer HTTP {refused.status}, OCPI {refused.status_code}")
        assert refused.status == 503
        assert refused.status_code == 3000 and "nothing was stored" in refused.body["status_message"]
    assert await stored(hub) == []  # the refused POST left nothing behind
    accepted = await cpo.post_cdr(cdr, to=("DE", "EMA"))
    assert accepted.status_code == 1000
    await hub.settle()
    rows = await stored(hub)
    print(f"verified: stored {len(rows)}, delivered {sum(emsp.store.cdr_posts.values())}")
    assert len(rows) == 1 and sum(emsp.store.cdr_posts.values()) == 1
