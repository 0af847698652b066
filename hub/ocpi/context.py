"""What the OCPI side of the hub needs at hand: the store, settings, the vault and the partner client."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from hub.config import Settings
from hub.crypto import Vault
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
    wake: Callable[[], None] = field(default=lambda: None)

    def url(self, path: str) -> str:
        return self.settings.url(path)

    @property
    def versions_url(self) -> str:
        return self.url("/ocpi/versions")

    @property
    def details_url(self) -> str:
        return self.url(f"/ocpi/{VERSION}")
