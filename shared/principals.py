"""Who is calling: the staff roles and the principal a signed token carries (no I/O)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class Role(StrEnum):
    OFFICER = "officer"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    AUDITOR = "auditor"


class Principal(BaseModel):
    """Who is calling: username, role and, for officers and supervisors, their OPD; from a
    token also the account's token version (a sign-out or password change bumps it, which
    revokes every earlier token) and when the session began (sign-in, kept on renewal)."""

    model_config = ConfigDict(frozen=True)

    username: str
    role: Role
    opd: str | None = None
    token_version: int = 0
    signed_in_at: datetime | None = None
