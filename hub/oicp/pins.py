"""QR-code PINs kept only as hashes (oicp-hub-notes §2 #9: "PINs are stored only as hashes").

A clear PIN an EMP pushes is hashed here with scrypt (standard library; Hubject uses Bcrypt, which the
hub has no library for) and the hash is stored with its parameters and salt, so they can be raised
later without invalidating stored hashes. At AuthorizeStart the presented clear PIN is hashed the same
way and compared in constant time (§3: "hashes the clear-text PIN itself").

Format: ``scrypt$<n>$<r>$<p>$<salt, base64>$<hash, base64>``. Each hash costs about 50 ms of CPU: callers
run batches in a thread.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

SCHEME = "scrypt"
N, R, P = 2**14, 8, 1  # 16 MiB of memory per hash
_SALT_BYTES = 16
_KEY_BYTES = 32


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _derive(pin: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(pin.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=_KEY_BYTES)


def hash_pin(pin: str, *, salt: bytes | None = None) -> str:
    """A salted hash of a clear PIN, in the format above."""
    salt = salt if salt is not None else os.urandom(_SALT_BYTES)
    return f"{SCHEME}${N}${R}${P}${_b64(salt)}${_b64(_derive(pin, salt, N, R, P))}"


def verify_pin(pin: str, stored: str) -> bool:
    """Does a clear PIN match a stored hash? False for anything not in this module's format."""
    try:
        scheme, n, r, p, salt, expected = stored.split("$")
        if scheme != SCHEME:
            return False
        derived = _derive(pin, base64.b64decode(salt), int(n), int(r), int(p))
        return hmac.compare_digest(derived, base64.b64decode(expected))
    except ValueError:
        return False
