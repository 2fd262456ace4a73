"""Routing use cases: route a submitted ticket, sign an officer in, seed dev accounts."""

from __future__ import annotations

import asyncio
import logging
from datetime import date
from functools import cache

from services.routing import domain, metrics
from services.routing.classifier import Model
from services.routing.repository import AccountRepository, TicketRepository
from shared.auth import Principal, Role, TokenCodec, hash_password, verify_password
from shared.catalogue import Catalogue
from shared.errors import Unauthorized
from shared.events import TicketRouted, TicketTriaged, utcnow
from shared.outbox import outbox_entry
from shared.tickets import TicketStatus, history_entry

log = logging.getLogger(__name__)
PRODUCER = "routing"
ROUTER_ACTOR = "sistem:router"
MAX_VERSION_RETRIES = 5


async def route_submitted_ticket(
    *,
    tracking_code: str,
    tickets: TicketRepository,
    catalogue: Catalogue,
    threshold: float,
    holidays: set[date],
    model: Model | None = None,
) -> bool:
    """Route a `submitted` ticket once; returns False when there was nothing to do (a replay).

    `model` is the text classifier; without one the router uses rules, category and location.
    """
    for _ in range(MAX_VERSION_RETRIES):
        ticket = await tickets.get(tracking_code)
        if ticket is None:
            # The outbox writes the ticket before its event exists, so this is an event of
            # another database (or of a purged ticket): nothing to route.
            log.warning("ticket %s of a submitted event is not stored; skipped", tracking_code)
            return False
        if ticket.status is not TicketStatus.SUBMITTED:
            return False
        text = " ".join(filter(None, [ticket.title, ticket.description]))
        result = domain.classify(
            text=text,
            category=ticket.category,
            kecamatan=ticket.location.kecamatan,
            catalogue=catalogue,
            threshold=threshold,
            model=model,
        )
        status = domain.status_after_routing(result)
        now = utcnow()
        due_at = domain.due_after_routing(
            status, submitted_at=ticket.submitted_at, routed_at=now, holidays=holidays
        )
        payload_type = TicketRouted if status is TicketStatus.ROUTED else TicketTriaged
        event = payload_type(
            opd=result.opd,
            status=status.value,
            confidence=result.confidence,
            model=result.model,
            due_at=due_at,
        ).envelope(ticket_id=tracking_code, producer=PRODUCER, correlation_id=ticket.correlation_id)
        opd = catalogue.opd(result.opd)
        note = (
            f"Diteruskan ke {opd.name}."
            if opd is not None
            else "Menunggu penelaahan admin koordinator."
        )
        updated = await tickets.update(
            ticket,
            set_fields={
                "status": status.value,
                "opd": result.opd if status is TicketStatus.ROUTED else None,
                "routing": {
                    "opd": result.opd,
                    "confidence": result.confidence,
                    "reasons": result.reasons,
                    "model": result.model,
                },
                "due_at": due_at,
                "updated_at": now,
            },
            push={
                "history": [
                    history_entry(
                        at=now,
                        actor=ROUTER_ACTOR,
                        action="route",
                        from_status=ticket.status,
                        to_status=status,
                        note=note,
                    )
                ],
                "outbox": [outbox_entry(event)],
            },
        )
        if updated is not None:
            metrics.TICKETS_ROUTED.labels(status.value).inc()
            log.info(
                "ticket %s %s to %s (confidence %.2f)",
                tracking_code,
                status.value,
                result.opd,
                result.confidence,
            )
            return True
    raise RuntimeError(f"ticket {tracking_code} kept changing while routing it")


async def sign_in(
    *, username: str, password: str, accounts: AccountRepository, codec: TokenCodec
) -> str:
    """A signed token for valid credentials; the same answer for unknown user and bad password."""
    account = await accounts.get(username)
    password_hash = account["password_hash"] if account else _dummy_hash()
    valid = await asyncio.to_thread(verify_password, password_hash, password)
    if account is None or not valid:
        raise Unauthorized("Nama pengguna atau kata sandi salah. (Wrong username or password.)")
    principal = Principal(username=account["_id"], role=Role(account["role"]), opd=account["opd"])
    return codec.issue(principal)


@cache
def _dummy_hash() -> str:
    """Verified against for unknown users, so both failures take the same time."""
    return hash_password("not-a-real-password")


DEV_PASSWORDS = {
    Role.ADMIN: "admin",
    Role.AUDITOR: "auditor",
    Role.OFFICER: "officer",
    Role.SUPERVISOR: "supervisor",
}


def dev_accounts(catalogue: Catalogue) -> list[tuple[str, Role, str | None]]:
    """The development accounts ARCHITECTURE.md lists: admin, auditor, per OPD two accounts."""
    accounts: list[tuple[str, Role, str | None]] = [
        ("admin", Role.ADMIN, None),
        ("auditor", Role.AUDITOR, None),
    ]
    for opd in catalogue.opds:
        accounts.append((opd.code.lower(), Role.OFFICER, opd.code))
        accounts.append((f"{opd.code.lower()}-kepala", Role.SUPERVISOR, opd.code))
    return accounts


async def seed_dev_accounts(*, accounts: AccountRepository, catalogue: Catalogue) -> int:
    """Create the missing dev accounts; one argon2 hash per role keeps the start quick."""
    existing = await accounts.usernames()
    missing = [a for a in dev_accounts(catalogue) if a[0] not in existing]
    hashes: dict[Role, str] = {}
    for username, role, opd in missing:
        if role not in hashes:
            hashes[role] = await asyncio.to_thread(hash_password, DEV_PASSWORDS[role])
        await accounts.add(username=username, password_hash=hashes[role], role=role, opd=opd)
    return len(missing)
