"""In-memory fakes of the repositories, for fast unit tests of the use cases.

`InMemoryTickets` keeps documents in their stored form and honours the version check as
`shared.ticket_store.TicketStore` does; `apply` is the lifecycle's own, not a copy. The
deadline scans filter the documents as the MongoDB queries do. The intake stores' fakes
(idempotency records, duplicate markers, photos, supporters) follow the Protocols of
`services/intake/stores.py`, and `intake_context` builds intake's use-case context on them.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import dataclasses
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from pymongo import DESCENDING
from pymongo.errors import DuplicateKeyError

from services.intake.api_keys import hash_key
from services.intake.chat.dialogue import Channel, Conversation
from services.intake.chat.media import MediaSource, MediaUnavailable
from services.intake.chat.repository import SEEN_KEPT, Stored
from services.intake.photos import PhotoGate
from services.intake.ratelimit import AddressLimiter
from services.intake.repository import search_query
from services.intake.service import IntakeContext
from services.intake.settings import IntakeSettings
from services.intake.stores import ApiKeys, Conversations, IntakeTickets
from services.intake.support import Supported, contact_key
from services.notify.stores import TicketDeliveries, TicketDigests
from services.routing import model_cache, ops_counts
from services.routing.classification import router
from services.routing.cluster_service import Clusters
from services.routing.clustering import AppliesRewrites, Cluster, Matcher, Profile
from services.routing.queries import (
    SORTS,
    TicketFilter,
    after_cursor,
    build_clauses,
    build_query,
    encode_cursor,
    merge,
    open_deadlines_query,
    resolved_since_query,
    scope,
)
from services.routing.settings import RoutingSettings
from services.routing.staff import RoutingContext
from services.routing.stores import (
    AccountExists,
    Accounts,
    Backlog,
    CannedAnswerStore,
    ChatTranscripts,
    SignInThrottle,
    TicketLists,
)
from shared.auth import PasswordHashing
from shared.catalogue import Catalogue, packaged_catalogue
from shared.documents import Document
from shared.lifecycle.repository import AppliesChanges
from shared.principals import Principal, Role
from shared.tickets import Ticket, TicketStatus
from tests.matching import matches, ordered, sort_key

NOW = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)  # a Thursday
CODE = "LP-ABCD-EFGH"
# The staff the use-case tests act as: an officer and the head of DPUPR, an admin, an auditor.
OFFICER = Principal(username="dpupr", role=Role.OFFICER, opd="DPUPR")
HEAD = Principal(username="dpupr-kepala", role=Role.SUPERVISOR, opd="DPUPR")
ADMIN = Principal(username="admin", role=Role.ADMIN)
AUDITOR = Principal(username="auditor", role=Role.AUDITOR)


def a_ticket(status: TicketStatus, code: str = CODE, **fields: object) -> Ticket:
    """A DPUPR road complaint in `status` (no OPD while submitted or in triage), submitted 30
    days before NOW; `fields` override."""
    return Ticket.model_validate(
        {
            "tracking_code": code,
            "status": status,
            "kind": "complaint",
            "title": "Jalan rusak",
            "description": "Jalan rusak berlubang besar di depan sekolah, sudah tiga bulan",
            "category": "jalan-rusak",
            "reply_token_hash": "x",
            "submitted_at": NOW - timedelta(days=30),
            "updated_at": NOW - timedelta(days=20),
            "correlation_id": "c",
            "opd": None if status in (TicketStatus.SUBMITTED, TicketStatus.TRIAGE) else "DPUPR",
            **fields,
        }
    )


class InMemoryTickets(AppliesChanges):
    """The ticket store in memory; `interfere(code, n)` makes the next n writes to a ticket
    lose their race (as if someone else wrote first), `writes` counts successful writes."""

    def __init__(self, *tickets: Ticket) -> None:
        self.docs: dict[str, Document] = {}
        self.writes = 0
        self._interference: dict[str, int] = {}
        for ticket in tickets:
            self.docs[ticket.tracking_code] = ticket.to_document()

    def interfere(self, tracking_code: str, times: int) -> None:
        self._interference[tracking_code] = times

    def stored(self, tracking_code: str) -> Document:
        return copy.deepcopy(self.docs[tracking_code])

    async def get(self, tracking_code: str) -> Ticket | None:
        doc = self.docs.get(tracking_code)
        return Ticket.from_document(copy.deepcopy(doc)) if doc is not None else None

    async def add(self, ticket: Ticket) -> None:
        if ticket.tracking_code in self.docs:  # the unique `_id`, as the database refuses it
            raise DuplicateKeyError(f"duplicate tracking code {ticket.tracking_code}")
        self.docs[ticket.tracking_code] = ticket.to_document()

    async def update(
        self, ticket: Ticket, *, set_fields: Document, push: dict[str, list[Any]] | None = None
    ) -> Ticket | None:
        code = ticket.tracking_code
        doc = self.docs.get(code)
        if self._interference.get(code, 0) > 0 and doc is not None:
            self._interference[code] -= 1
            doc["version"] += 1  # another writer came first
        if doc is None or doc["version"] != ticket.version:
            return None
        doc.update(copy.deepcopy(set_fields))
        for field, values in (push or {}).items():
            doc.setdefault(field, []).extend(copy.deepcopy(values))
        doc["version"] += 1
        self.writes += 1
        return Ticket.from_document(copy.deepcopy(doc))

    def _scan(
        self, keep: Callable[[Document], bool], fields: tuple[str, ...], limit: int
    ) -> list[Document]:
        found = [d for d in self.docs.values() if keep(d)][:limit]
        return [{"_id": d["_id"], **{f: d[f] for f in fields if f in d}} for d in found]

    async def search(
        self,
        *,
        codes: list[str] | None = None,
        categories: list[str] | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        statuses: list[str] | None = None,
        include_confidential: bool = False,
        limit: int = 1000,
    ) -> list[Ticket]:
        """Intake's search (Open311): the query `TicketRepository.search` sends, newest first."""
        query = search_query(
            codes=codes,
            categories=categories,
            start=start,
            end=end,
            statuses=statuses,
            include_confidential=include_confidential,
        )
        found = [d for d in self.docs.values() if matches(d, query)]
        newest = sorted(found, key=lambda d: sort_key(d, "submitted_at"), reverse=True)
        return [Ticket.from_document(copy.deepcopy(d)) for d in newest[:limit]]

    async def due_before(self, status: str, before: datetime, *, limit: int) -> list[Document]:
        return self._scan(
            lambda d: (
                d["status"] == status and d.get("due_at") is not None and d["due_at"] < before
            ),
            ("due_at", "escalated_for", "reminded_for"),
            limit,
        )

    async def resolved_before(self, before: datetime, *, limit: int) -> list[Document]:
        return self._scan(
            lambda d: (
                d["status"] == "resolved"
                and d.get("resolved_at") is not None
                and d["resolved_at"] < before
            ),
            ("resolved_at",),
            limit,
        )

    async def submitted_before(self, before: datetime, *, limit: int) -> list[Document]:
        return self._scan(
            lambda d: d["status"] == "submitted" and d["submitted_at"] < before, (), limit
        )

    async def contact_kept(
        self, status: str, updated_before: datetime, *, limit: int
    ) -> list[Document]:
        return self._scan(
            lambda d: (
                d["status"] == status
                and d["updated_at"] < updated_before
                and d.get("reporter") is not None
            ),
            (),
            limit,
        )


class FixedCatalogue:
    """The catalogue store's `get`: the packaged catalogue (or the one given)."""

    def __init__(self, catalogue: Catalogue | None = None) -> None:
        self.catalogue = catalogue or packaged_catalogue()

    async def get(self) -> Catalogue:
        return self.catalogue


class InMemoryIdempotency:
    """Idempotency records by key hash: the first claim stores, a later one gets the record."""

    def __init__(self) -> None:
        self.records: dict[str, Document] = {}

    async def claim(self, record: Document) -> Document | None:
        existing = self.records.get(record["_id"])
        if existing is not None:
            return copy.deepcopy(existing)
        self.records[record["_id"]] = copy.deepcopy(record)
        return None

    async def forget(self, key_hash: str) -> None:
        self.records.pop(key_hash, None)


class InMemoryDuplicateMarkers:
    """The latest (tracking code, time) per duplicate key."""

    def __init__(self) -> None:
        self.markers: dict[str, tuple[str, datetime]] = {}

    async def mark(
        self, key: str, tracking_code: str, now: datetime
    ) -> tuple[str, datetime] | None:
        before = self.markers.get(key)
        self.markers[key] = (tracking_code, now)
        return before

    async def forget(self, key: str, tracking_code: str) -> None:
        if self.markers.get(key, ("", NOW))[0] == tracking_code:
            del self.markers[key]


class InMemoryPhotos:
    """Photo files by id, with the ticket each belongs to."""

    def __init__(self) -> None:
        self.files: dict[str, tuple[bytes, str, str]] = {}

    async def put(self, data: bytes, *, content_type: str, tracking_code: str) -> str:
        photo_id = uuid.uuid4().hex
        self.files[photo_id] = (data, content_type, tracking_code)
        return photo_id

    async def get(self, photo_id: str) -> bytes | None:
        found = self.files.get(photo_id)
        return found[0] if found else None

    async def delete(self, photo_id: str) -> None:
        self.files.pop(photo_id, None)


class InMemorySupporters:
    """Supports per ticket: a contact counts once (by its hash), supports without one always;
    `clusters` maps a cluster id to its tickets."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.contacts: dict[str, set[str]] = {}
        self.clusters: dict[str, list[str]] = {}

    async def cluster_size(self, ticket: Ticket) -> int:
        everyone = self.clusters.get(ticket.cluster_id or "", [])
        return len(everyone) if ticket.tracking_code in everyone else 1

    async def count(self, tracking_code: str) -> int:
        return self.counts.get(tracking_code, 0)

    async def add(
        self,
        tracking_code: str,
        *,
        email: str | None,
        phone: str | None,
        lang: str,
        now: datetime,
    ) -> Supported:
        key = contact_key(email=email, phone=phone)
        known = self.contacts.setdefault(tracking_code, set())
        if key is not None and key in known:
            return Supported(self.counts[tracking_code], new=False)
        if key is not None:
            known.add(key)
        self.counts[tracking_code] = self.counts.get(tracking_code, 0) + 1
        return Supported(self.counts[tracking_code], new=True)


class NoStatistics:
    async def summaries(self, months: tuple[str, ...]) -> dict[str, Document]:
        return {}


def intake_context(
    tickets: InMemoryTickets, *, settings: IntakeSettings | None = None, **stores: Any
) -> IntakeContext:
    """Intake's use-case context on the in-memory fakes; `stores` replace any of them."""
    parts: dict[str, Any] = {
        "settings": settings or IntakeSettings(),
        "tickets": tickets,
        "catalogue": FixedCatalogue(),
        "idempotency": InMemoryIdempotency(),
        "duplicates": InMemoryDuplicateMarkers(),
        "photos": InMemoryPhotos(),
        "photo_gate": PhotoGate(),
        "rate_limiter": AddressLimiter(per_minute=60),
        "statistics": NoStatistics(),
        "supporters": InMemorySupporters(),
        "support_limiter": AddressLimiter(per_minute=60),
        **stores,
    }
    return IntakeContext(**parts)


class InMemoryClusters(AppliesRewrites):
    """The cluster store in memory, with the version check of ClusterRepository.save;
    `interfere(id, n)` makes the next n saves of a cluster lose their race, `saves` counts the
    successful ones; `recent` is each OPD's recent list, `supporting` the supporters' counts."""

    def __init__(self, *clusters: Cluster) -> None:
        self.clusters = {c.id: c for c in clusters}
        self.recent: dict[str, list[Profile]] = {}
        self.supporting: dict[str, int] = {}
        self.saves = 0
        self._interference: dict[str, int] = {}
        self._other_writer: dict[str, Callable[[Cluster], Cluster]] = {}
        self._proposing = asyncio.Lock()

    def interfere(
        self, cluster_id: str, times: int, change: Callable[[Cluster], Cluster] | None = None
    ) -> None:
        """The next `times` saves find the cluster changed by another writer (`change`, else
        a new version of the same)."""
        self._interference[cluster_id] = times
        self._other_writer[cluster_id] = change or (lambda cluster: cluster)

    async def get(self, cluster_id: str) -> Cluster | None:
        return self.clusters.get(cluster_id)

    async def supporters(self, tracking_code: str) -> int:
        return self.supporting.get(tracking_code, 0)

    async def add(self, cluster: Cluster) -> None:
        self.clusters[cluster.id] = cluster

    async def save(self, before: Cluster, after: Cluster | None) -> bool:
        stored = self.clusters.get(before.id)
        if stored is not None and self._interference.get(before.id, 0) > 0:
            self._interference[before.id] -= 1
            changed = self._other_writer[before.id](stored)
            stored = self.clusters[before.id] = dataclasses.replace(
                changed, version=stored.version + 1
            )
        if stored is None or stored.version != before.version:
            return False
        if after is None:
            del self.clusters[before.id]
        else:
            self.clusters[before.id] = after
        self.saves += 1
        return True

    @contextlib.asynccontextmanager
    async def _hold(self) -> AsyncIterator[None]:
        async with self._proposing:
            yield

    def proposing(self, opd: str) -> contextlib.AbstractAsyncContextManager[None]:
        return self._hold()

    async def remember(
        self, profile: Profile, *, matcher: Matcher, cap: int, now: datetime
    ) -> list[Profile]:
        entries = self.recent.get(profile.opd, [])
        pool = [
            e for e in matcher.recent(entries, now, cap) if e.tracking_code != profile.tracking_code
        ]
        self.recent[profile.opd] = [*pool, profile][-cap:]
        return pool


class RecordedCorrections:
    """The model store's `add_correction`: the labelled examples staff decisions give."""

    def __init__(self) -> None:
        self.examples: list[tuple[str, str, str, str]] = []

    async def add_correction(self, ticket: Ticket, opd: str, *, source: str, actor: str) -> None:
        self.examples.append((ticket.tracking_code, opd, source, actor))


class PackagedModel(RecordedCorrections):
    """The model store with no model promoted: `active_model` is the packaged one (the real
    router's, from the model cache or trained once per process), as `ModelStore` answers."""

    async def active_model(self) -> router.LinearTextModel:
        return await asyncio.to_thread(model_cache.packaged_model)


class NotUsed:
    """A store the use case under test must not touch: any use of it fails the test."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        raise AssertionError(f"the use case used {self._name}.{attribute}")


def routing_context(
    tickets: InMemoryTickets,
    *,
    clusters: InMemoryClusters | None = None,
    models: RecordedCorrections | None = None,
    queries: InMemoryQueries | None = None,
    accounts: InMemoryAccounts | None = None,
) -> RoutingContext:
    """Routing's staff context on the in-memory stores: tickets, the packaged catalogue, the
    corrections the model store is given, clusters, lists and accounts if given; what is not
    given (and statistics) the use case under test must not touch."""
    parts: dict[str, Any] = {
        "settings": RoutingSettings(),
        "tickets": tickets,
        "queries": queries if queries is not None else NotUsed("queries"),
        "accounts": accounts if accounts is not None else NotUsed("accounts"),
        "catalogue": FixedCatalogue(),
        "models": models or RecordedCorrections(),  # of the model store, only add_correction
        "statistics": NotUsed("statistics"),
        "clusters": Clusters(tickets=tickets, store=clusters) if clusters is not None else None,
    }
    return RoutingContext(**parts)


class InMemoryQueries:
    """The officers' lists and counts (`services.routing.stores.TicketLists`) over the
    in-memory tickets: the filters, scope and cursors are the very query documents
    `TicketQueries` sends, evaluated with MongoDB's semantics (tests/matching.py)."""

    def __init__(self, tickets: InMemoryTickets) -> None:
        self._tickets = tickets

    def _found(self, query: Document) -> list[Document]:
        return [copy.deepcopy(d) for d in self._tickets.docs.values() if matches(d, query)]

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
        field, direction = SORTS[sort]
        docs = ordered(self._found(merge(clauses)), field, descending=direction == DESCENDING)[
            : limit + 1
        ]
        tickets = [Ticket.from_document(d) for d in docs[:limit]]
        next_cursor = None
        if len(docs) > limit:
            last = docs[limit - 1]
            next_cursor = encode_cursor(last.get(field), str(last["_id"]))
        return tickets, next_cursor

    async def counts(self, principal: Principal, now: datetime) -> dict[str, int]:
        result: dict[str, int] = {}
        for doc in self._found(scope(principal)):
            result[doc["status"]] = result.get(doc["status"], 0) + 1
        result["overdue"] = len(
            self._found(build_query(principal, TicketFilter(overdue=True), now))
        )
        return result

    async def open_deadlines(self, opd: str, *, limit: int = 2000) -> list[tuple[str, datetime]]:
        docs = ordered(self._found(open_deadlines_query(opd)), "due_at", descending=False)
        return [(str(d["_id"]), d["due_at"]) for d in docs[:limit]]

    async def resolved_since(self, opd: str, since: datetime) -> int:
        return len(self._found(resolved_since_query(opd, since)))


def an_account(username: str, role: Role, opd: str | None, **fields: object) -> Document:
    """An account document as `AccountRepository` stores it (no password hash)."""
    return {
        "_id": username,
        "role": role.value,
        "opd": opd,
        "active": True,
        "notify_mode": "immediate",
        **fields,
    }


# argon2 itself, at its cheapest (the default costs 64 MiB and tens of milliseconds a hash).
CHEAP_ARGON2 = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


def a_password_hash(password: str) -> str:
    """An argon2 hash of `password`, made cheaply (verified as any argon2 hash is)."""
    return CHEAP_ARGON2.hash(password)


class InMemoryAccounts:
    """Accounts by username as `AccountRepository` keeps them (`services.routing.stores
    .Accounts`): `get` answers active accounts only, `find` any; `add` refuses a username
    taken (the unique `_id`); `update` sets fields and, with `revoke_tokens`, bumps the token
    version (`$inc`: a missing one counts as 0). `passwords` is the real bounded hashing on a
    cheap argon2."""

    def __init__(self, *accounts: Document) -> None:
        self.docs = {a["_id"]: copy.deepcopy(a) for a in accounts}
        self.passwords = PasswordHashing(hasher=CHEAP_ARGON2)

    async def get(self, username: str) -> Document | None:
        doc = self.docs.get(username)
        return copy.deepcopy(doc) if doc is not None and doc.get("active") is True else None

    async def find(self, username: str) -> Document | None:
        doc = self.docs.get(username)
        return copy.deepcopy(doc) if doc is not None else None

    async def all(self) -> list[Document]:
        return [
            {k: copy.deepcopy(v) for k, v in self.docs[name].items() if k != "password_hash"}
            for name in sorted(self.docs)
        ]

    async def usernames(self) -> set[str]:
        return set(self.docs)

    async def add(
        self,
        *,
        username: str,
        password_hash: str,
        role: Role,
        opd: str | None,
        **profile: Any,
    ) -> None:
        if username in self.docs:
            raise AccountExists(username)
        self.docs[username] = {
            "_id": username,
            "password_hash": password_hash,
            "role": role.value,
            "opd": opd,
            "active": True,
            "notify_mode": "immediate",
            **copy.deepcopy(profile),
        }

    async def update(
        self, username: str, fields: Document, *, revoke_tokens: bool = False
    ) -> Document | None:
        doc = self.docs.get(username)
        if doc is None:
            return None
        doc.update(copy.deepcopy(fields))
        if revoke_tokens:
            doc["token_version"] = int(doc.get("token_version", 0)) + 1
        return copy.deepcopy(doc)


class InMemoryThrottle:
    """Sign-in attempts as `LoginThrottle` counts them (`services.routing.stores
    .SignInThrottle`): each attempt is recorded before the password is checked; more than
    `max_failures` for one (username, address), or `max_failures_per_address` for one address,
    within `window` is the seconds until the oldest of them leaves the window."""

    def __init__(
        self,
        *,
        max_failures: int = 5,
        window: timedelta = timedelta(minutes=15),
        max_failures_per_address: int = 30,
    ) -> None:
        self.max_failures = max_failures
        self.max_failures_per_address = max_failures_per_address
        self.window = window
        self.attempts: list[tuple[str, str, datetime]] = []  # (key, address, at)

    @staticmethod
    def _key(username: str, address: str) -> str:
        return f"{username.lower()}|{address}"

    async def attempt(self, username: str, address: str, now: datetime) -> int:
        key = self._key(username, address)
        self.attempts.append((key, address, now))
        since = now - self.window
        for recent, limit in (
            ([at for k, _, at in self.attempts if k == key and at >= since], self.max_failures),
            (
                [at for _, a, at in self.attempts if a == address and at >= since],
                self.max_failures_per_address,
            ),
        ):
            if len(recent) > limit:
                until = min(recent) + self.window
                return max(1, int((until - now).total_seconds()) + 1)
        return 0

    async def succeeded(self, username: str, address: str) -> None:
        key = self._key(username, address)
        self.attempts = [a for a in self.attempts if a[0] != key]


class InMemoryCannedAnswers:
    """Each OPD's canned answers (`services.routing.stores.CannedAnswerStore`) as
    `throughput.CannedAnswers` keeps them: by title (case-insensitive), one per id."""

    def __init__(self) -> None:
        self.answers: dict[str, list[Document]] = {}

    async def of(self, opd: str) -> list[Document]:
        answers = copy.deepcopy(self.answers.get(opd, []))
        return sorted(answers, key=lambda a: str(a.get("title", "")).lower())

    async def put(
        self,
        opd: str,
        *,
        answer_id: str | None,
        title: str,
        body: str,
        by: str,
        now: datetime,
    ) -> Document:
        answer = {
            "id": answer_id or uuid.uuid4().hex[:12],
            "title": title,
            "body": body,
            "updated_by": by,
            "updated_at": now,
        }
        kept = [a for a in self.answers.get(opd, []) if a["id"] != answer["id"]]
        self.answers[opd] = [*kept, copy.deepcopy(answer)]
        return answer

    async def delete(self, opd: str, answer_id: str) -> bool:
        answers = self.answers.get(opd, [])
        kept = [a for a in answers if a["id"] != answer_id]
        self.answers[opd] = kept
        return len(kept) != len(answers)


class InMemoryBacklog:
    """The backlog's figures (`services.routing.stores.Backlog`) over the in-memory tickets and
    accounts, with `ops_counts`' own match documents."""

    def __init__(self, tickets: InMemoryTickets, accounts: InMemoryAccounts) -> None:
        self._tickets = tickets
        self._accounts = accounts

    def _grouped(self, query: Document, key: Callable[[Document], Any]) -> dict[Any, int]:
        found: dict[Any, int] = {}
        for doc in self._tickets.docs.values():
            if matches(doc, query):
                found[key(doc)] = found.get(key(doc), 0) + 1
        return found

    async def by_status_and_opd(self) -> dict[tuple[str, str], int]:
        return self._grouped(
            ops_counts.NOT_SYNTHETIC,
            lambda d: (str(d["status"]), str(d.get("opd") or ops_counts.NO_OPD)),
        )

    async def overdue_by_opd(self, now: datetime) -> dict[str, int]:
        return self._grouped(
            ops_counts.overdue_match(now), lambda d: str(d.get("opd") or ops_counts.NO_OPD)
        )

    async def reaching_accounts(self) -> list[Document]:
        return [
            copy.deepcopy(a)
            for a in self._accounts.docs.values()
            if a["role"] in ops_counts.REACHING_ROLES
        ]


@dataclasses.dataclass(frozen=True)
class KeyHolder:
    """The client application a key was issued to (`api_keys.ApiClient`'s fields)."""

    id: str
    name: str


class InMemoryApiKeys:
    """Open311 keys by their hash, as `api_keys.ApiKeyRepository` keeps them: `ensure` never
    un-revokes a key, `revoke` stops one, `find` answers issued keys not revoked."""

    def __init__(self, **clients: str) -> None:
        self.keys: dict[str, Document] = {}
        for key, name in clients.items():
            self.keys[hash_key(key)] = {"name": name, "revoked": False}

    async def find(self, key: str) -> KeyHolder | None:
        doc = self.keys.get(hash_key(key))
        if doc is None or doc["revoked"]:
            return None
        return KeyHolder(id=hash_key(key)[:12], name=doc["name"])

    async def ensure(self, key: str, *, name: str, contact: str, now: datetime) -> None:
        self.keys.setdefault(hash_key(key), {"name": name, "revoked": False})

    def revoke(self, key: str) -> None:
        self.keys[hash_key(key)]["revoked"] = True


class InMemoryTranscripts:
    """Chat transcripts by tracking code (`services.routing.stores.ChatTranscripts`)."""

    def __init__(self, **transcripts: list[Document]) -> None:
        self.transcripts = transcripts

    async def for_ticket(self, tracking_code: str, *, limit: int = 500) -> list[Document]:
        return copy.deepcopy(self.transcripts.get(tracking_code, [])[:limit])


class InMemoryDeliveries:
    """Notify's delivery records (`services.notify.stores.TicketDeliveries`): a ticket's
    oldest first and without the message's text, as `DeliveryRepository.for_ticket` reads."""

    def __init__(self, *records: Document) -> None:
        self.records = [copy.deepcopy(r) for r in records]

    async def for_ticket(self, tracking_code: str) -> list[Document]:
        mine = [r for r in self.records if r["tracking_code"] == tracking_code]
        return [
            {k: copy.deepcopy(v) for k, v in r.items() if k != "message"}
            for r in sorted(mine, key=lambda r: r["created_at"])
        ]

    async def statuses_of_events(self, event_ids: list[str]) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for record in self.records:
            if record["event_id"] in event_ids:
                found.setdefault(record["event_id"], []).append(record["status"])
        return found


class InMemoryDigestItems:
    """Messages kept for officers' digests (`services.notify.stores.TicketDigests`)."""

    def __init__(self, *items: Document) -> None:
        self.items = [copy.deepcopy(i) for i in items]

    async def for_ticket(self, tracking_code: str) -> list[Document]:
        mine = [i for i in self.items if i["tracking_code"] == tracking_code]
        return copy.deepcopy(sorted(mine, key=lambda i: i["created_at"]))


class InMemoryLocks:
    """A lock per document id, held across awaits (`shared.locks.DocumentLocks.hold`)."""

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}

    @contextlib.asynccontextmanager
    async def hold(self, doc_id: str) -> AsyncIterator[None]:
        async with self._locks.setdefault(doc_id, asyncio.Lock()):
            yield


class InMemoryConversations:
    """The chat's conversations (`services.intake.stores.Conversations`) as
    `ConversationRepository` keeps them: one per (channel, number), saved version-checked with
    the ids already handled and the replies' outbox; transcript entries and delivery statuses
    each stored once by id. `interfere(id)` makes the next save of a conversation lose its
    race."""

    def __init__(self) -> None:
        self.docs: dict[str, Document] = {}
        self.messages: dict[str, Document] = {}
        self.statuses: dict[str, Document] = {}
        self.locks = InMemoryLocks()
        self._interfering: set[str] = set()

    def interfere(self, conversation_id: str) -> None:
        self._interfering.add(conversation_id)

    def of(self, phone: str) -> Document:
        return copy.deepcopy(next(d for d in self.docs.values() if d["phone"] == phone))

    async def open(self, channel: Channel, phone: str, now: datetime) -> str:
        for doc in self.docs.values():
            if (doc["channel"], doc["phone"]) == (channel.value, phone):
                return str(doc["_id"])
        conversation_id = "c" + uuid.uuid4().hex[:20]
        self.docs[conversation_id] = {
            "_id": conversation_id,
            "channel": channel.value,
            "phone": phone,
            "state": Conversation(channel=channel).model_dump(mode="python"),
            "seen": [],
            "version": 1,
            "created_at": now,
            "updated_at": now,
            "outbox": [],
        }
        return conversation_id

    async def get(self, conversation_id: str) -> Stored | None:
        doc = self.docs.get(conversation_id)
        if doc is None:
            return None
        return Stored(
            id=doc["_id"],
            version=doc["version"],
            phone=doc["phone"],
            state=Conversation.model_validate(copy.deepcopy(doc["state"])),
            seen=tuple(doc["seen"]),
            flood_warned_at=doc.get("flood_warned_at"),
        )

    async def save(
        self,
        stored: Stored,
        *,
        state: Conversation,
        handled: str,
        outbox: list[Document],
        fields: Document,
    ) -> bool:
        doc = self.docs.get(stored.id)
        if doc is not None and stored.id in self._interfering:
            self._interfering.discard(stored.id)
            doc["version"] += 1
        if doc is None or doc["version"] != stored.version:
            return False
        doc.update(
            state=state.model_dump(mode="python"),
            seen=[*stored.seen, handled][-SEEN_KEPT:],
            **copy.deepcopy(fields),
        )
        doc["outbox"].extend(copy.deepcopy(outbox))
        doc["version"] += 1
        return True

    async def add_messages(self, messages: list[Document]) -> None:
        for message in messages:
            self.messages.setdefault(message["_id"], copy.deepcopy(message))

    async def tag_draft(self, conversation_id: str, draft_id: str, tracking_code: str) -> None:
        for message in self.messages.values():
            if (message["conversation"], message["draft"]) == (conversation_id, draft_id):
                message["tracking_code"] = tracking_code

    async def record_status(self, status: Document) -> bool:
        if status["_id"] in self.statuses:
            return False
        self.statuses[status["_id"]] = copy.deepcopy(status)
        return True


class InMemoryMedia:
    """The platform's media by id (`services.intake.chat.media.MediaSource`)."""

    def __init__(self, **media: bytes) -> None:
        self.media = media

    async def fetch(self, media_id: str) -> bytes:
        if media_id not in self.media:
            raise MediaUnavailable(media_id)
        return self.media[media_id]


# The fakes satisfy the Protocols the MongoDB adapters do (checked by mypy).
_CONVERSATIONS: type[Conversations] = InMemoryConversations
_MEDIA: type[MediaSource] = InMemoryMedia
_DELIVERIES: type[TicketDeliveries] = InMemoryDeliveries
_DIGESTS: type[TicketDigests] = InMemoryDigestItems
_TRANSCRIPTS: type[ChatTranscripts] = InMemoryTranscripts
_INTAKE_TICKETS: type[IntakeTickets] = InMemoryTickets
_API_KEYS: type[ApiKeys] = InMemoryApiKeys
_LISTS: type[TicketLists] = InMemoryQueries
_ACCOUNTS: type[Accounts] = InMemoryAccounts
_THROTTLE: type[SignInThrottle] = InMemoryThrottle
_BACKLOG: type[Backlog] = InMemoryBacklog
_CANNED: type[CannedAnswerStore] = InMemoryCannedAnswers
