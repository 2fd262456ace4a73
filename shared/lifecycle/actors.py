"""Who changes a ticket: staff (from their signed token), the citizen, or the system."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from shared.principals import Principal


class ActorRole(StrEnum):
    OFFICER = "officer"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    AUDITOR = "auditor"
    CITIZEN = "citizen"
    SYSTEM = "system"


OPD_STAFF = frozenset({ActorRole.OFFICER, ActorRole.SUPERVISOR})


@dataclass(frozen=True)
class Actor:
    """`name` is what the history records (a username, `warga`, `sistem:...`); officers and
    supervisors act for `opd`."""

    name: str
    role: ActorRole
    opd: str | None = None


def staff(principal: Principal) -> Actor:
    return Actor(name=principal.username, role=ActorRole(principal.role.value), opd=principal.opd)


CITIZEN = Actor(name="warga", role=ActorRole.CITIZEN)
ROUTER = Actor(name="sistem:router", role=ActorRole.SYSTEM)
CLOCK = Actor(name="sistem:tenggat", role=ActorRole.SYSTEM)
