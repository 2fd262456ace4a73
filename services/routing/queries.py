"""Officers' lists: filters, search, sort and cursor paging over `tickets`, and status counts."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.collection import AsyncCollection

from shared.auth import Principal, Role
from shared.lifecycle.statuses import OPEN_STATUSES
from shared.mongo import Document
from shared.search import query_tokens
from shared.tickets import Ticket

SORTS = {
    "-submitted_at": ("submitted_at", DESCENDING),
    "due_at": ("due_at", ASCENDING),
    # How many citizens a ticket speaks for (its cluster's size plus its supporters).
    "-weight": ("weight", DESCENDING),
}


@dataclass(frozen=True)
class TicketFilter:
    status: list[str] | None = None
    category: str | None = None
    kecamatan: str | None = None
    opd: str | None = None
    overdue: bool | None = None
    q: str | None = None
    submitted_from: datetime | None = None
    submitted_to: datetime | None = None
    assigned_to: str | None = None  # a username; "" for tickets nobody handles yet


def scope(principal: Principal) -> Document:
    """The one place that limits what a caller sees: officers and supervisors, their OPD."""
    if principal.role in (Role.ADMIN, Role.AUDITOR):
        return {}
    return {"opd": principal.opd or "\x00none"}


def build_query(principal: Principal, f: TicketFilter, now: datetime) -> Document:
    return merge(build_clauses(principal, f, now))


def build_clauses(principal: Principal, f: TicketFilter, now: datetime) -> list[Document]:
    """The caller's scope and each filter as separate conditions, all of which must hold."""
    clauses: list[Document] = [scope(principal)]
    if f.status:
        clauses.append(
            {"status": f.status[0]} if len(f.status) == 1 else {"status": {"$in": f.status}}
        )
    if f.category:
        clauses.append({"category": f.category})
    if f.kecamatan:
        clauses.append({"location.kecamatan": f.kecamatan})
    if f.opd:
        clauses.append({"opd": f.opd})
    if f.assigned_to is not None:
        clauses.append({"assigned_to": f.assigned_to or None})
    if f.overdue is True:
        clauses.append({"due_at": {"$lt": now}, "status": {"$in": list(OPEN_STATUSES)}})
    elif f.overdue is False:
        clauses.append(
            {
                "$or": [
                    {"due_at": None},
                    {"due_at": {"$gte": now}},
                    {"status": {"$nin": list(OPEN_STATUSES)}},
                ]
            }
        )
    tokens = query_tokens(f.q or "")
    if tokens:
        clauses.append({"search_tokens": {"$all": tokens}})
    window: Document = {}
    if f.submitted_from:
        window["$gte"] = f.submitted_from
    if f.submitted_to:
        window["$lte"] = f.submitted_to
    if window:
        clauses.append({"submitted_at": window})
    return clauses


def merge(clauses: list[Document]) -> Document:
    """One flat document where keys do not collide, `$and` for the rest: FerretDB's PostgreSQL
    backend pushes top-level equalities down to storage, but nothing inside `$and`."""
    query: Document = {}
    rest: list[Document] = []
    for clause in clauses:
        if any(key in query or key.startswith("$") for key in clause):
            rest.append(clause)
        else:
            query.update(clause)
    if rest:
        query["$and"] = rest
    return query


def encode_cursor(value: Any, ticket_id: str) -> str:
    raw = json.dumps([value.isoformat() if isinstance(value, datetime) else value, ticket_id])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[Any, str]:
    padded = cursor + "=" * (-len(cursor) % 4)
    value, ticket_id = json.loads(base64.urlsafe_b64decode(padded))
    # Only a time, a whole number (or null) and an id: never an object that would reach the
    # query as an operator.
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        pass
    elif value is not None:
        raise ValueError("cursor")
    if not isinstance(ticket_id, str):
        raise ValueError("cursor")
    return value, ticket_id


def after_cursor(sort: str, cursor: str) -> Document:
    """Keyset paging: the rows after (value, _id) in the sort order (nulls sort lowest)."""
    field, direction = SORTS[sort]
    value, ticket_id = decode_cursor(cursor)
    if direction == ASCENDING:
        if value is None:
            return {"$or": [{field: None, "_id": {"$gt": ticket_id}}, {field: {"$ne": None}}]}
        return {"$or": [{field: {"$gt": value}}, {field: value, "_id": {"$gt": ticket_id}}]}
    if value is None:
        return {field: None, "_id": {"$lt": ticket_id}}
    return {
        "$or": [{field: {"$lt": value}}, {field: None}, {field: value, "_id": {"$lt": ticket_id}}]
    }


def open_deadlines_query(opd: str) -> Document:
    """The OPD's open tickets with a running deadline (the breach forecast's queue)."""
    return {"opd": opd, "status": {"$in": list(OPEN_STATUSES)}, "due_at": {"$ne": None}}


def resolved_since_query(opd: str, since: datetime) -> Document:
    """The OPD's tickets resolved since then (its pace)."""
    return {"opd": opd, "resolved_at": {"$gte": since}}


class TicketQueries:
    """The officers' lists and counts on MongoDB (`stores.TicketLists`)."""

    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self._tickets = collection

    async def ensure_indexes(self) -> None:
        for keys in (
            [("opd", ASCENDING), ("status", ASCENDING), ("submitted_at", DESCENDING)],
            [("status", ASCENDING), ("due_at", ASCENDING)],
            [("category", ASCENDING)],
            [("location.kecamatan", ASCENDING)],
            [("submitted_at", DESCENDING), ("_id", DESCENDING)],
            [("due_at", ASCENDING), ("_id", ASCENDING)],
            [("weight", DESCENDING), ("_id", DESCENDING)],
            [("assigned_to", ASCENDING), ("status", ASCENDING)],
            [("opd", ASCENDING), ("resolved_at", ASCENDING)],
            [("search_tokens", ASCENDING)],
        ):
            await self._tickets.create_index(keys)

    async def page(
        self,
        principal: Principal,
        f: TicketFilter,
        *,
        now: datetime,
        sort: str,
        limit: int,
        cursor: str | None,
    ) -> tuple[list[Ticket], str | None]:
        clauses = build_clauses(principal, f, now)
        if cursor:
            clauses.append(after_cursor(sort, cursor))
        query = merge(clauses)
        field, direction = SORTS[sort]
        docs = await (
            self._tickets.find(query, {"outbox": 0, "search_tokens": 0})
            .sort([(field, direction), ("_id", direction)])
            .limit(limit + 1)
            .to_list()
        )
        tickets = [Ticket.from_document(d) for d in docs[:limit]]
        next_cursor = None
        if len(docs) > limit:
            last = docs[limit - 1]
            next_cursor = encode_cursor(last.get(field), str(last["_id"]))
        return tickets, next_cursor

    async def open_deadlines(self, opd: str, *, limit: int = 2000) -> list[tuple[str, datetime]]:
        """(code, deadline) of the OPD's open tickets with a running deadline, soonest first."""
        cursor = self._tickets.find(open_deadlines_query(opd), {"due_at": 1}).sort(
            [("due_at", ASCENDING), ("_id", ASCENDING)]
        )
        return [(str(d["_id"]), d["due_at"]) for d in await cursor.limit(limit).to_list()]

    async def resolved_since(self, opd: str, since: datetime) -> int:
        """How many of the OPD's tickets were resolved since then (the OPD's pace)."""
        return await self._tickets.count_documents(resolved_since_query(opd, since))

    async def counts(self, principal: Principal, now: datetime) -> dict[str, int]:
        """Tickets per status in the caller's scope, plus `overdue`."""
        pipeline: list[Document] = [
            {"$match": scope(principal)},
            {"$group": {"_id": "$status", "n": {"$sum": 1}}},
        ]
        result = {doc["_id"]: doc["n"] async for doc in await self._tickets.aggregate(pipeline)}
        result["overdue"] = await self._tickets.count_documents(
            build_query(principal, TicketFilter(overdue=True), now)
        )
        return result
