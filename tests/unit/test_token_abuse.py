"""Forged staff tokens: tampering, expiry, algorithm confusion, the wrong key or issuer."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import timedelta
from typing import Any

import jwt
import pytest

from services.intake.app import create_app as intake
from services.intake.settings import IntakeSettings
from services.notify.app import create_app as notify
from services.notify.settings import NotifySettings
from services.routing.app import create_app as routing
from services.routing.settings import RoutingSettings
from shared.auth import Principal, Role, TokenCodec
from shared.errors import Unauthorized
from shared.events import utcnow
from shared.settings import DEV_AUTH_SECRET
from shared.signing import DEV_AUTH_PRIVATE_KEY, DEV_AUTH_PUBLIC_KEY, generate, private_key

SIGNER = TokenCodec(DEV_AUTH_PUBLIC_KEY, private=DEV_AUTH_PRIVATE_KEY, ttl_seconds=600)
VERIFIER = TokenCodec(DEV_AUTH_PUBLIC_KEY, ttl_seconds=600)
OFFICER = Principal(username="dlh", role=Role.OFFICER, opd="DLH")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(**changes: Any) -> dict[str, Any]:
    now = utcnow()
    claims: dict[str, Any] = {
        "iss": "layanan-pengaduan",
        "sub": "admin",
        "role": "admin",
        "opd": None,
        "tv": 0,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=5)).timestamp()),
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not ...}


def _hand_made(header: dict[str, Any], claims: dict[str, Any], key: bytes | None) -> str:
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    signature = b"" if key is None else hmac.new(key, signing_input.encode(), "sha256").digest()
    return f"{signing_input}.{_b64(signature)}"


def test_a_routing_token_verifies_with_the_public_key_alone() -> None:
    verified = VERIFIER.verify(SIGNER.issue(OFFICER))
    assert (verified.username, verified.role, verified.opd) == ("dlh", Role.OFFICER, "DLH")


def test_verifying_services_cannot_issue() -> None:
    assert not VERIFIER.can_issue
    with pytest.raises(RuntimeError):
        VERIFIER.issue(OFFICER)


def test_a_changed_claim_breaks_the_signature() -> None:
    header, payload, signature = SIGNER.issue(OFFICER).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims.update(role="admin", opd=None)
    forged = f"{header}.{_b64(json.dumps(claims).encode())}.{signature}"
    with pytest.raises(Unauthorized):
        VERIFIER.verify(forged)


@pytest.mark.parametrize(
    "header",
    [{"alg": "none", "typ": "JWT"}, {"alg": "None"}, {"alg": "HS256", "typ": "JWT"}],
)
def test_algorithm_confusion_is_refused(header: dict[str, Any]) -> None:
    """`none`, and HS256 keyed with the (public) verification key, as in the classic
    RS/HS confusion attack: neither is accepted, only EdDSA."""
    public = base64.urlsafe_b64decode(DEV_AUTH_PUBLIC_KEY + "=")
    for key in (None, public, DEV_AUTH_PUBLIC_KEY.encode()):
        with pytest.raises(Unauthorized):
            VERIFIER.verify(
                _hand_made(header, _claims(), None if header["alg"] != "HS256" else key)
            )


def test_hs256_with_the_old_shared_secret_is_refused() -> None:
    """A token minted the old way, with AUTH_SECRET, no longer signs anyone in."""
    token = jwt.encode(_claims(), DEV_AUTH_SECRET, algorithm="HS256")
    with pytest.raises(Unauthorized):
        VERIFIER.verify(token)


@pytest.mark.parametrize(
    "changes",
    [
        {"exp": int((utcnow() - timedelta(seconds=1)).timestamp())},
        {"exp": ...},
        {"iat": ...},
        {"iss": "someone-else"},
        {"iss": ...},
        {"sub": ...},
        {"role": "superuser"},
        {"role": ...},
        {"tv": "not-a-number"},
    ],
)
def test_expired_or_incomplete_claims_are_refused(changes: dict[str, Any]) -> None:
    token = jwt.encode(_claims(**changes), private_key(DEV_AUTH_PRIVATE_KEY), algorithm="EdDSA")
    with pytest.raises(Unauthorized):
        VERIFIER.verify(token)


def test_a_token_of_another_key_pair_is_refused() -> None:
    private, public = generate()
    other = TokenCodec(public, private=private, ttl_seconds=600)
    with pytest.raises(Unauthorized):
        VERIFIER.verify(other.issue(Principal(username="admin", role=Role.ADMIN)))


@pytest.mark.parametrize(
    "garbage",
    ["", ".", "..", "a.b.c", "x" * 5000, SIGNER.issue(OFFICER)[:-3], hashlib.sha256().hexdigest()],
)
def test_garbage_is_refused(garbage: str) -> None:
    with pytest.raises(Unauthorized):
        VERIFIER.verify(garbage)


def test_only_routing_can_issue() -> None:
    """intake parses untrusted uploads; it and notify hold the public key alone."""
    assert not intake(IntakeSettings()).state.token_codec.can_issue
    assert not notify(NotifySettings()).state.token_codec.can_issue
    assert routing(RoutingSettings()).state.token_codec.can_issue
