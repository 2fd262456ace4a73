""" "Dukung laporan ini": citizens add their voice to a public report instead of filing anew.

One document per supported ticket in `supporters` (intake writes it; notify reads the contacts
to tell them of the resolution once; everyone else reads only the count), read by `_id`.
A contact supports a ticket once (its hash is the idempotency key); supports without contact
are counted, and all are limited per address.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from services.intake.views import NearbyItem
from shared import publication, recent_list
from shared.events import utcnow
from shared.locks import DocumentLocks
from shared.mongo import Document
from shared.search import words
from shared.tickets import LOCKS, Ticket, TicketStatus

COLLECTION = "supporters"
MAX_TAIL = 100  # log entries read after the snapshot at most (routing snapshots every 10)
CLUSTERS = "clusters"  # routing's clusters of related tickets (read only here)
NEARBY_M = 1000.0
# Supporters with contact kept per ticket (notify tells each); beyond that only counted.
MAX_CONTACTS = 1000
SUPPORTABLE = frozenset({TicketStatus.VERIFIED, TicketStatus.IN_PROGRESS})


def contact_key(*, email: str | None, phone: str | None) -> str | None:
    """The hash a contact is known by (lower-cased e-mail, else the phone's digits)."""
    if email:
        raw = "email:" + email.strip().lower()
    elif phone:
        raw = "phone:" + "".join(ch for ch in phone if ch.isdigit())
    else:
        return None
    return hashlib.sha256(raw.encode()).hexdigest()


def supportable(ticket: Ticket) -> bool:
    """Open, and public under the publication policy (verified, not confidential or hidden)."""
    return ticket.status in SUPPORTABLE and publication.shows_content(ticket)


@dataclass(frozen=True)
class Supported:
    count: int
    new: bool


class SupportRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.collection = db[COLLECTION]
        self._clusters = db[CLUSTERS]
        self._locks = DocumentLocks(db[LOCKS])

    async def cluster_size(self, ticket: Ticket) -> int:
        """How many tickets the ticket's cluster holds (1 when it is in none)."""
        if ticket.cluster_id is None:
            return 1
        doc = await self._clusters.find_one(
            {"_id": ticket.cluster_id}, {"members": 1, "proposed": 1}
        )
        everyone = [*(doc or {}).get("members", []), *(doc or {}).get("proposed", [])]
        return len(everyone) if ticket.tracking_code in everyone else 1

    async def count(self, tracking_code: str) -> int:
        doc = await self.collection.find_one({"_id": tracking_code}, {"count": 1})
        return int(doc["count"]) if doc else 0

    async def add(
        self,
        tracking_code: str,
        *,
        email: str | None,
        phone: str | None,
        lang: str,
        now: datetime,
    ) -> Supported:
        """Count a support; a contact that already supports the ticket changes nothing."""
        key = contact_key(email=email, phone=phone)
        async with self._locks.hold(f"support|{tracking_code}"):
            doc: dict[str, Any] = await self.collection.find_one({"_id": tracking_code}) or {
                "_id": tracking_code,
                "count": 0,
                "contacts": [],
            }
            contacts: list[dict[str, Any]] = doc.get("contacts") or []
            if key is not None and any(c.get("key") == key for c in contacts):
                return Supported(int(doc["count"]), new=False)
            if key is not None and len(contacts) < MAX_CONTACTS:
                contacts.append(
                    {"key": key, "email": email, "phone": phone, "lang": lang, "at": now}
                )
            doc.update(count=int(doc["count"]) + 1, contacts=contacts, updated_at=now)
            await self.collection.replace_one({"_id": tracking_code}, doc, upsert=True)
        return Supported(int(doc["count"]), new=True)


def _place(value: str | None) -> str | None:
    """A desa as routing's recent list keeps it (lower case, without "desa"/"kelurahan")."""
    if not value:
        return None
    folded = " ".join(value.lower().replace("desa", " ").replace("kelurahan", " ").split())
    return folded or None


def _distance_m(a_lat: float, a_lon: float, b_lat: float, b_lon: float) -> float:
    p1, p2 = math.radians(a_lat), math.radians(b_lat)
    dp, dl = p2 - p1, math.radians(b_lon - a_lon)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_000.0 * math.asin(math.sqrt(h))


def rank_nearby(
    entries: list[dict[str, Any]],
    *,
    category: str | None,
    kecamatan: str | None,
    desa: str | None,
    lat: float | None,
    lon: float | None,
    text: str,
) -> list[str]:
    """Codes of recent tickets near the place being typed, nearest and most alike first:
    close coordinates or the same desa before the same kecamatan; then shared words."""
    said = set(words(text))
    here = _place(desa)
    ranked: list[tuple[int, int, str]] = []
    for e in entries:
        if category and e.get("category") and e["category"] != category:
            continue
        if lat is not None and lon is not None and e.get("lat") is not None:
            if _distance_m(lat, lon, e["lat"], e["lon"]) > NEARBY_M:
                continue
            place = 2
        elif here and e.get("desa") == here:
            place = 2
        elif kecamatan and e.get("kecamatan") == kecamatan and not (here and e.get("desa")):
            place = 1
        else:
            continue
        shared = len(said & set(e.get("stems") or ()))
        ranked.append((place, shared, str(e["code"])))
    ranked.sort(key=lambda r: (-r[0], -r[1]))
    return [code for _, _, code in ranked]


def nearby_item(ticket: Ticket, supporters: int) -> NearbyItem:
    """A report as the form shows it: public text only (redacted), never who sent it."""
    return NearbyItem(
        tracking_code=ticket.tracking_code,
        status=ticket.status,
        category=ticket.category,
        public_text=publication.public_text(ticket),
        submitted_at=ticket.submitted_at,
        supporters=supporters,
    )


class NearbyReports:
    """Public open reports like the one being typed: routing's recent list of the category's
    OPD (its snapshot and the few log entries after it, each read by `_id`), then each
    candidate ticket by `_id`; no filter over `tickets`."""

    def __init__(self, db: AsyncDatabase[Document], supporters: SupportRepository) -> None:
        self._recent = db[recent_list.SNAPSHOTS]
        self._log = db[recent_list.LOG]
        self._tickets = db["tickets"]
        self._supporters = supporters

    async def recent(self, opd: str, now: datetime) -> list[dict[str, Any]]:
        """The OPD's recent entries, newest last (its snapshot and the log after it)."""
        return await recent_list.stored_entries(
            self._recent, self._log, opd, now, max_tail=MAX_TAIL
        )

    async def find(
        self,
        *,
        opd: str,
        category: str | None,
        kecamatan: str | None,
        desa: str | None,
        lat: float | None,
        lon: float | None,
        text: str,
        limit: int = 5,
    ) -> list[NearbyItem]:
        codes = rank_nearby(
            await self.recent(opd, utcnow()),
            category=category,
            kecamatan=kecamatan,
            desa=desa,
            lat=lat,
            lon=lon,
            text=text,
        )
        found: list[NearbyItem] = []
        for code in codes[: limit * 3]:
            raw = await self._tickets.find_one({"_id": code}, {"outbox": 0})
            if raw is None:
                continue
            ticket = Ticket.from_document(raw)
            if supportable(ticket):
                found.append(nearby_item(ticket, await self._supporters.count(code)))
            if len(found) >= limit:
                break
        return found
