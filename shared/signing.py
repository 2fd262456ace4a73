"""The Ed25519 key pair that signs staff tokens: routing holds the private key and signs, every
service holds the public key and only verifies (intake, which parses untrusted uploads, can
mint nothing).

Keys travel as one line each, the raw 32 bytes in unpadded base64url, so they fit an
environment variable: `python -m shared.signing keygen` prints a fresh pair. The built-in
development pair below is public knowledge; production refuses it (`shared.settings`).
"""

from __future__ import annotations

import base64
import binascii
import sys

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ALGORITHM = "EdDSA"
# sha256("layanan-pengaduan development signing key") as the private key's seed.
DEV_AUTH_PRIVATE_KEY = "HyGeC0zJDTg3lUscBGdIbZo0Wd7G-bChE-MirRuPg9A"
DEV_AUTH_PUBLIC_KEY = "8LIlvJDk9Ts8wBpVPgnyc3kwm0fXxC5LKsuCSyNo_wU"


class InvalidKey(ValueError):
    """A key setting that is not a base64url Ed25519 key."""


def _raw(value: str, what: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(value.strip() + "=" * (-len(value.strip()) % 4))
    except (binascii.Error, ValueError) as exc:
        raise InvalidKey(f"{what} is not base64url") from exc
    if len(raw) != 32:
        raise InvalidKey(f"{what} must be 32 bytes (an Ed25519 key), not {len(raw)}")
    return raw


def _text(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def private_key(value: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(_raw(value, "AUTH_PRIVATE_KEY"))


def public_key(value: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(_raw(value, "AUTH_PUBLIC_KEY"))


def public_of(private: str) -> str:
    """The public key (as text) that belongs to a private key (as text)."""
    key = private_key(private).public_key()
    return _text(key.public_bytes(Encoding.Raw, PublicFormat.Raw))


def generate() -> tuple[str, str]:
    """A fresh (private, public) pair as text."""
    private = _text(Ed25519PrivateKey.generate().private_bytes_raw())
    return private, public_of(private)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args != ["keygen"]:
        print("usage: python -m shared.signing keygen", file=sys.stderr)
        return 2
    private, public = generate()
    print(f"ROUTING_AUTH_PRIVATE_KEY={private}")
    print(f"AUTH_PUBLIC_KEY={public}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
