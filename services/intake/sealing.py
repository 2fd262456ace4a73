"""The reply token inside an idempotency record, sealed with the Idempotency-Key itself.

A replay within 24 h must answer with the same reply token, so the record keeps it; but the
token is the citizen's secret, and the database holds only the key's hash. Sealing it with
AES-GCM under a key derived from the Idempotency-Key (which only the client knows; its
hash is a different derivation) means that a reader of the database cannot use it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_PURPOSE = b"layanan-pengaduan idempotency reply token v1"


class Unsealable(ValueError):
    """The sealed value does not open with this Idempotency-Key."""


def _key(idempotency_key: str) -> bytes:
    return hmac.new(idempotency_key.encode(), _PURPOSE, hashlib.sha256).digest()


def seal(idempotency_key: str, secret: str, *, bound_to: str) -> str:
    """`secret` encrypted for whoever knows `idempotency_key`; `bound_to` (the record's id)
    is authenticated with it, so a sealed value cannot be moved to another record."""
    nonce = os.urandom(12)
    sealed = AESGCM(_key(idempotency_key)).encrypt(nonce, secret.encode(), bound_to.encode())
    return base64.urlsafe_b64encode(nonce + sealed).decode()


def unseal(idempotency_key: str, sealed: str, *, bound_to: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(sealed.encode())
        opened = AESGCM(_key(idempotency_key)).decrypt(raw[:12], raw[12:], bound_to.encode())
    except (InvalidTag, ValueError) as exc:
        raise Unsealable("the sealed reply token does not open with this key") from exc
    return opened.decode()
