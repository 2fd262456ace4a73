"""Signed access tokens and the one dependency every service uses to know its caller."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import Annotated

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from pydantic import BaseModel, ConfigDict

from shared.errors import Forbidden, Unauthorized
from shared.events import utcnow

ISSUER = "layanan-pengaduan"
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


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def current_principal(
    request: Request, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> Principal:
    if not token:
        raise Unauthorized("Perlu masuk terlebih dahulu. (Authentication required.)")
    codec: TokenCodec = request.app.state.token_codec
    return codec.verify(token)


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require_roles(*roles: Role) -> object:
    """A dependency that admits only the given roles."""

    def check(principal: CurrentPrincipal) -> Principal:
        if principal.role not in roles:
            raise Forbidden("Peran Anda tidak diizinkan. (Your role is not allowed here.)")
        return principal

    return Depends(check)
