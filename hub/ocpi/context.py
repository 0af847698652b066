"""What the OCPI side of the hub needs at hand: the store, settings, the vault and the partner client."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hub.cache import TtlCache
from hub.config import Settings
from hub.crypto import Vault
from hub.limits import RateLimiter
from hub.ocpi.cdr_writer import CdrWriter
from hub.ocpi.client import OcpiClient
from hub.store.db import Database

VERSION = "2.2.1"


@dataclass(frozen=True)
class OcpiContext:
    db: Database
    settings: Settings
    vault: Vault
    client: OcpiClient
    # Called after a commit that queued outbox work, so this process's dispatcher starts at once.
    wake: Callable[..., None] = field(default=lambda line=None: None)  # line: see Dispatcher.wake
    # Per-process caches of the hot path (hub/cache.py): tokens, connections. Built from settings.
    tokens: TtlCache[Any, Any] = field(init=False)
    connections: TtlCache[int, Any] = field(init=False)
    # Every admitted party in a role (hub/oicp/directory.py): OICP AuthorizeStart reads it on every call.
    roster: TtlCache[Any, Any] = field(init=False)
    targets: TtlCache[Any, Any] = field(init=False)
    # The platforms a broadcast of a module reaches (hub/ocpi/broadcast.py): read on every push.
    receivers: TtlCache[Any, Any] = field(init=False)
    # OICP client certificates by fingerprint (hub/pki/callers.py): forgotten with the rest on a change.
    certificates: TtlCache[str, Any] = field(init=False)
    limiter: RateLimiter = field(init=False)
    cdr_writer: CdrWriter = field(init=False)  # group commit of CDR POSTs

    def __post_init__(self) -> None:
        ocpi = self.settings.ocpi
        object.__setattr__(
            self, "limiter", RateLimiter(ocpi.rate_limits, ocpi.rate_limit_burst, default=ocpi.rate_limit)
        )
        ttl = self.settings.ocpi.cache_seconds
        object.__setattr__(self, "tokens", TtlCache(ttl))
        object.__setattr__(self, "connections", TtlCache(ttl))
        object.__setattr__(self, "targets", TtlCache(ttl))
        object.__setattr__(self, "roster", TtlCache(ttl))
        object.__setattr__(self, "receivers", TtlCache(ttl))
        object.__setattr__(self, "certificates", TtlCache(ttl))
        object.__setattr__(self, "cdr_writer", CdrWriter(self.db, self.settings))

    def forget(self, party_fk: int | None = None) -> None:
        """This process changed a platform's tokens, status or connection: stop using what it remembered."""
        self.tokens.forget()
        self.targets.forget()
        self.roster.forget()
        self.receivers.forget()
        self.certificates.forget()
        self.connections.forget(party_fk)

    def url(self, path: str) -> str:
        return self.settings.url(path)

    @property
    def versions_url(self) -> str:
        return self.url("/ocpi/versions")

    @property
    def details_url(self) -> str:
        return self.url(f"/ocpi/{VERSION}")
