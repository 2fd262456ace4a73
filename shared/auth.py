"""Signed access tokens and the one dependency every service uses to know its caller."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from enum import StrEnum
from typing import Annotated, TypeVar

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from pydantic import BaseModel, ConfigDict

from shared.errors import Forbidden, ServiceUnavailable, Unauthorized
from shared.events import utcnow

ISSUER = "layanan-pengaduan"
_T = TypeVar("_T")
ALGORITHM = "HS256"


class Role(StrEnum):
    OFFICER = "officer"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    AUDITOR = "auditor"


class Principal(BaseModel):
    """Who is calling: username, role and, for officers and supervisors, their OPD."""

    model_config = ConfigDict(frozen=True)

    username: str
    role: Role
    opd: str | None = None


class TokenCodec:
    def __init__(self, secret: str, *, ttl_seconds: int) -> None:
        self._secret = secret
        self.ttl_seconds = ttl_seconds

    def issue(self, principal: Principal) -> str:
        now = utcnow()
        claims = {
            "iss": ISSUER,
            "sub": principal.username,
            "role": principal.role.value,
            "opd": principal.opd,
            "iat": now,
            "exp": now + timedelta(seconds=self.ttl_seconds),
        }
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def verify(self, token: str) -> Principal:
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                options={"require": ["exp", "sub", "iss"]},
            )
            return Principal(
                username=claims["sub"], role=Role(claims["role"]), opd=claims.get("opd")
            )
        except (jwt.PyJWTError, KeyError, ValueError) as exc:
            raise Unauthorized(
                "Token tidak sah atau kedaluwarsa. (Invalid or expired token.)"
            ) from exc


_hasher = PasswordHasher()
BUSY = "Layanan masuk sedang sibuk; coba lagi sebentar. (Sign-in is busy; try again shortly.)"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


class PasswordHashing:
    """argon2 in worker threads, at most `concurrency` at once: each hash takes 64 MiB, so a
    flood of sign-ins waits its turn instead of exhausting memory. More than `max_waiting`
    waiting, or a wait past `wait_s`, is 503 with Retry-After."""

    def __init__(self, *, concurrency: int = 1, max_waiting: int = 32, wait_s: float = 10.0):
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
        return await self._run(lambda: hash_password(password))

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """Whether the password matches; None (an unknown user) is checked against a dummy
        hash, so that an unknown user and a wrong password take the same time."""
        if password_hash is None:
            if self._dummy is None:
                self._dummy = await self.hash("not-a-real-password")
            password_hash = self._dummy
        known = password_hash
        return await self._run(lambda: verify_password(known, password))


oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


async def current_principal(
    request: Request, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> Principal:
    if not token:
        raise Unauthorized("Perlu masuk terlebih dahulu. (Authentication required.)")
    codec: TokenCodec = request.app.state.token_codec
    return codec.verify(token)


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require_roles(*roles: Role) -> object:
    """A dependency that admits only the given roles."""

    async def check(principal: CurrentPrincipal) -> Principal:
        if principal.role not in roles:
            raise Forbidden("Peran Anda tidak diizinkan. (Your role is not allowed here.)")
        return principal

    return Depends(check)
