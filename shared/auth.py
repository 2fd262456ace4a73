"""Signed access tokens and the one dependency every service uses to know its caller."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, TypeVar

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from shared.errors import ServiceUnavailable, Unauthorized
from shared.events import utcnow
from shared.principals import Principal as Principal
from shared.principals import Role as Role
from shared.signing import ALGORITHM, private_key, public_key

ISSUER = "layanan-pengaduan"
_T = TypeVar("_T")
SIGNED_OUT = "Sesi sudah berakhir; silakan masuk lagi. (Session ended; sign in again.)"


class TokenCodec:
    """Ed25519-signed tokens (EdDSA): verifying needs only the public key; issuing needs the
    private key, which only routing is given."""

    def __init__(self, public: str, *, private: str | None = None, ttl_seconds: int) -> None:
        self._public = public_key(public)
        self._private = private_key(private) if private else None
        self.ttl_seconds = ttl_seconds

    @property
    def can_issue(self) -> bool:
        return self._private is not None

    def issue(self, principal: Principal) -> str:
        if self._private is None:
            raise RuntimeError("this service holds no signing key; only routing issues tokens")
        now = utcnow()
        claims = {
            "iss": ISSUER,
            "sub": principal.username,
            "role": principal.role.value,
            "opd": principal.opd,
            "tv": principal.token_version,
            "auth_time": int((principal.signed_in_at or now).timestamp()),
            "iat": now,
            "exp": now + timedelta(seconds=self.ttl_seconds),
        }
        return jwt.encode(claims, self._private, algorithm=ALGORITHM)

    def verify(self, token: str) -> Principal:
        try:
            claims = jwt.decode(
                token,
                self._public,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                options={"require": ["exp", "iat", "sub", "iss"]},
            )
            auth_time = claims.get("auth_time", claims["iat"])
            return Principal(
                username=claims["sub"],
                role=Role(claims["role"]),
                opd=claims.get("opd"),
                token_version=int(claims.get("tv", 0)),
                signed_in_at=datetime.fromtimestamp(int(auth_time), tz=UTC),
            )
        except (jwt.PyJWTError, KeyError, ValueError, TypeError, OverflowError) as exc:
            raise Unauthorized(
                "Token tidak sah atau kedaluwarsa. (Invalid or expired token.)"
            ) from exc


def principal_of_account(claimed: Principal, account: Mapping[str, Any] | None) -> Principal:
    """The token's caller as the account is now: a deactivated account or a revoked token
    (an older token version) is 401 at once, and a changed role or OPD applies at once."""
    if account is None or not account.get("active", True):
        raise Unauthorized("Akun tidak aktif. (Account inactive.)")
    if int(account.get("token_version", 0)) != claimed.token_version:
        raise Unauthorized(SIGNED_OUT)
    return Principal(
        username=account["_id"],
        role=Role(account["role"]),
        opd=account.get("opd"),
        token_version=claimed.token_version,
        signed_in_at=claimed.signed_in_at,
    )


_hasher = PasswordHasher()
BUSY = "Layanan masuk sedang sibuk; coba lagi sebentar. (Sign-in is busy; try again shortly.)"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    return _verify(_hasher, password_hash, password)


def _verify(hasher: PasswordHasher, password_hash: str, password: str) -> bool:
    try:
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


class PasswordHashing:
    """argon2 in worker threads, at most `concurrency` at once: each hash takes 64 MiB, so a
    flood of sign-ins waits its turn instead of exhausting memory. More than `max_waiting`
    waiting, or a wait past `wait_s`, is 503 with Retry-After."""

    def __init__(
        self,
        *,
        concurrency: int = 1,
        max_waiting: int = 32,
        wait_s: float = 10.0,
        hasher: PasswordHasher | None = None,
    ):
        self._hasher = hasher or _hasher  # unit tests give a cheap one (tests/fakes.py)
        self._slots = asyncio.Semaphore(concurrency)
        self._max_waiting = max_waiting
        self._wait_s = wait_s
        self._waiting = 0
        self._dummy: str | None = None

    async def _run(self, work: Callable[[], _T]) -> _T:
        if self._waiting >= self._max_waiting:
            raise ServiceUnavailable(BUSY, headers={"Retry-After": "5"})
        self._waiting += 1
        try:
            async with asyncio.timeout(self._wait_s):
                await self._slots.acquire()
        except TimeoutError as exc:
            raise ServiceUnavailable(BUSY, headers={"Retry-After": "5"}) from exc
        finally:
            self._waiting -= 1
        try:
            return await asyncio.to_thread(work)
        finally:
            self._slots.release()

    async def hash(self, password: str) -> str:
        return await self._run(lambda: self._hasher.hash(password))

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """Whether the password matches; None (an unknown user) is checked against a dummy
        hash, so that an unknown user and a wrong password take the same time."""
        if password_hash is None:
            if self._dummy is None:
                self._dummy = await self.hash("not-a-real-password")
            password_hash = self._dummy
        known = password_hash
        return await self._run(lambda: _verify(self._hasher, known, password))


oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


async def current_principal(
    request: Request, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> Principal:
    if not token:
        raise Unauthorized("Perlu masuk terlebih dahulu. (Authentication required.)")
    codec: TokenCodec = request.app.state.token_codec
    return codec.verify(token)


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
