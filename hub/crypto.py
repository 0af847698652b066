"""Secrets at rest: credentials tokens, their hashes, and the vault for tokens the hub presents.

Tokens partners present to the hub (OCPI token A and C) are stored only as SHA-256 hashes: they are random
with 256 bits of entropy, so a fast hash is enough and lookups stay O(1). Tokens the hub presents to
partners (OCPI token B) must be recoverable, so they are encrypted with Fernet (AES-128-CBC + HMAC) under
a key from configuration or, when none is set, from a key file generated on first start.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Callable
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from hub.config import Settings


def new_token() -> str:
    """A fresh credentials token: 43 URL-safe characters, within OCPI's string(64) printable ASCII."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def same_secret(left: str, right: str) -> bool:
    """Constant-time comparison of two secrets."""
    return hmac.compare_digest(left.encode("utf-8"), right.encode("utf-8"))


class VaultError(RuntimeError):
    """A stored secret cannot be decrypted (wrong or rotated key)."""


class Vault:
    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)
        # A ciphertext always decrypts to the same text; remembering it saves an HMAC and an AES
        # decryption on every request the hub forwards.
        self._plain: dict[str, str] = {}

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, ciphertext: str) -> str:
        plain = self._plain.get(ciphertext)
        if plain is not None:
            return plain
        try:
            plain = self._fernet.decrypt(ciphertext.encode("ascii")).decode("utf-8")
        except InvalidToken as exc:
            raise VaultError("stored secret cannot be decrypted with the configured key") from exc
        if len(self._plain) > 10_000:
            self._plain.clear()
        self._plain[ciphertext] = plain
        return plain


def load_vault(settings: Settings) -> Vault:
    if settings.security.secret_key is not None:
        return Vault(settings.security.secret_key.get_secret_value().encode("ascii"))
    return Vault(_read_or_create(Path(settings.security.secret_key_file), Fernet.generate_key))


def admin_token(settings: Settings) -> str:
    """The operator token: from configuration, else generated once into ``<data_dir>/admin.token``."""
    if settings.admin.token is not None:
        return settings.admin.token.get_secret_value()
    path = admin_token_file(settings)
    return _read_or_create(path, lambda: new_token().encode("ascii")).decode("ascii")


def admin_token_file(settings: Settings) -> Path:
    return Path(settings.data_dir) / "admin.token"


def _read_or_create(path: Path, make: Callable[[], bytes]) -> bytes:
    if path.exists():
        return path.read_bytes().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = make()
    # O_EXCL: two workers starting at once must not overwrite each other's freshly written key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as handle:
        handle.write(value + b"\n")
    return value
