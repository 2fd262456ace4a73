"""Supporters' contacts are purged with the reporter's after the retention period; the count
stays. On the real database, supports counted by intake's own repository."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from services.intake.support import SupportRepository
from services.notify.repository import SupporterContacts
from services.routing.housekeeping import Housekeeping
from services.routing.repository import TicketRepository
from services.routing.supporter_purge import SupporterContactPurge
from shared.events import utcnow
from shared.mongo import connect
from tests.conftest import Infra
from tests.integration.conftest import put_ticket

pytestmark = pytest.mark.integration

LONG_AGO = timedelta(days=400)


def _support(infra: Infra, db_name: str, code: str, *contacts: dict[str, str]) -> None:
    async def run() -> None:
        client = connect(infra.mongodb_url)
        try:
            repo = SupportRepository(client[db_name])
            for contact in contacts:
                await repo.add(
                    code,
                    email=contact.get("email"),
                    phone=contact.get("phone"),
                    lang="id",
                    now=utcnow(),
                )
        finally:
            await client.close()

    asyncio.run(run())


def _contacts_seen_by_notify(infra: Infra, db_name: str, code: str) -> int:
    async def run() -> int:
        client = connect(infra.mongodb_url)
        try:
            return len(await SupporterContacts(client[db_name]).of(code))
        finally:
            await client.close()

    return asyncio.run(run())


def _passes(infra: Infra, db_name: str, instances: int) -> list[dict[str, int]]:
    """`instances` housekeepers at once, like two routing processes."""

    async def run() -> list[dict[str, int]]:
        clients = [connect(infra.mongodb_url) for _ in range(instances)]
        try:
            return list(
                await asyncio.gather(
                    *(
                        Housekeeping(
                            TicketRepository(c[db_name]),
                            contact_retention=timedelta(days=365),
                            supporter_purge=SupporterContactPurge(
                                c[db_name], retention=timedelta(days=365)
                            ),
                        ).run_once(utcnow())
                        for c in clients
                    )
                )
            )
        finally:
            for c in clients:
                await c.close()

    return asyncio.run(run())


def test_supporters_contacts_of_long_closed_tickets_are_purged_and_counted_still(
    infra: Infra, db_name: str, stored: Any
) -> None:
    closed_long_ago = put_ticket(stored, status="verified")
    rejected_long_ago = put_ticket(stored, status="verified")
    closed_recently = put_ticket(stored, status="verified")
    open_long_ago = put_ticket(stored, status="verified")
    everyone = [closed_long_ago, rejected_long_ago, closed_recently, open_long_ago]
    for code in everyone:
        _support(
            infra,
            db_name,
            code,
            {"email": "dewi@example.com"},
            {"phone": "+6281234567890"},
            {},  # a support without contact: counted only
        )
    stored.tickets.update_many(
        {"_id": {"$in": [closed_long_ago, closed_recently]}}, {"$set": {"status": "closed"}}
    )
    stored.tickets.update_one({"_id": rejected_long_ago}, {"$set": {"status": "rejected"}})
    stored.tickets.update_many(
        {"_id": {"$in": [closed_long_ago, rejected_long_ago, open_long_ago]}},
        {"$set": {"updated_at": utcnow() - LONG_AGO}},
    )
    assert _contacts_seen_by_notify(infra, db_name, closed_long_ago) == 2

    passes = _passes(infra, db_name, 2)
    assert sum(p["supporters_purged"] for p in passes) == 2, passes
    for code in (closed_long_ago, rejected_long_ago):
        doc = stored.supporters.find_one({"_id": code})
        assert doc["contacts"] == [] and doc["count"] == 3
        assert doc["contacts_purged_at"] is not None
        assert "example.com" not in str(doc) and "81234567890" not in str(doc)
        assert _contacts_seen_by_notify(infra, db_name, code) == 0
        assert stored.tickets.find_one({"_id": code})["reporter"] is None  # purged together
    for code in (closed_recently, open_long_ago):
        doc = stored.supporters.find_one({"_id": code})
        assert len(doc["contacts"]) == 2 and doc["count"] == 3
    assert sum(p["supporters_purged"] for p in _passes(infra, db_name, 1)) == 0


def test_the_purge_pages_through_every_supported_ticket(
    infra: Infra, db_name: str, stored: Any
) -> None:
    codes = [put_ticket(stored, status="verified") for _ in range(5)]
    for code in codes:
        _support(infra, db_name, code, {"email": "eko@example.com"})
    stored.tickets.update_many(
        {"_id": {"$in": codes}}, {"$set": {"status": "closed", "updated_at": utcnow() - LONG_AGO}}
    )

    async def run() -> int:
        client = connect(infra.mongodb_url)
        try:
            purge = SupporterContactPurge(client[db_name], retention=timedelta(days=365), page=2)
            return await purge.run(utcnow())
        finally:
            await client.close()

    assert asyncio.run(run()) == 5
    assert stored.supporters.count_documents({"contacts": []}) == 5
