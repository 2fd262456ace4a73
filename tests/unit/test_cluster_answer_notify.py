"""One answer for a cluster tells each contact once: the keys and the reporter-first rule, and
the notifier over the events of one answer (fakes of its stores, the real templates)."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

import pytest

from services.notify import recipients
from services.notify.notifier import Notifier, NotifyConfig
from services.notify.recipients import Contact, Recipient, Status
from services.notify.rendering import Links, Renderer, TicketFacts
from services.notify.repository import TicketView
from shared.events import ClusterAnswer, Envelope, TicketCommented, TicketTransitioned
from shared.mongo import Document

NOW = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)


def test_answer_key_is_the_same_for_one_contact_written_two_ways() -> None:
    one = Recipient(key="citizen", kind="citizen", channel="email", address="Ani@Example.com ")
    two = Recipient(
        key="supporter:ab", kind="supporter", channel="email", address="ani@example.com"
    )
    key = functools.partial(recipients.answer_delivery_key, secret=b"s" * 32)
    assert key("JW-1", one) == key("JW-1", two)
    assert key("JW-1", one) != key("JW-2", one)
    assert "ani" not in key("JW-1", one).lower()
    other_secret = recipients.answer_delivery_key("JW-1", one, secret=b"t" * 32)
    assert other_secret != key("JW-1", one), "the hash is keyed"


def test_phone_numbers_match_with_and_without_the_country_code() -> None:
    assert recipients.normalised_address("0812-3456-7890") == recipients.normalised_address(
        "+6281234567890"
    )
    assert recipients.normalised_address("+6281234567890") == "6281234567890"


def test_a_supporter_who_reported_a_member_is_left_to_their_own_ticket() -> None:
    reporter_too = Contact(key="supporter:1", kind="supporter", email="ANI@example.com")
    by_phone = Contact(key="supporter:2", kind="supporter", phone="+6281234567890")
    other = Contact(key="supporter:3", kind="supporter", email="budi@example.com")
    reporters = [frozenset({"ani@example.com"}), frozenset({"6281234567890"}), frozenset()]
    kept = recipients.not_reporters([reporter_too, by_phone, other], reporters)
    assert kept == [other]
    assert recipients.not_reporters([other], []) == [other]


def test_an_event_without_an_answer_keeps_the_per_event_key() -> None:
    notice = recipients.notice_from(_resolve("LP-A", answer=None))
    assert notice.answer_id is None and notice.answer_members == ()
    marked = recipients.notice_from(_resolve("LP-A", answer=_answer()))
    assert marked.answer_id == "JW-TEST" and marked.answer_members == ("LP-A", "LP-B", "LP-C")


# -- the notifier over the three events of one answer --------------------------------------

REPORTERS = {
    "LP-A": "ani@example.com",
    "LP-B": "budi@example.com",
    "LP-C": "ani@example.com",  # Ani reported twice
}
SUPPORTERS = {
    "LP-A": [("dewi@example.com", "k1"), ("budi@example.com", "k2")],  # Budi reported LP-B
    "LP-B": [("dewi@example.com", "k1"), ("eko@example.com", "k3")],  # Dewi supports two
    "LP-C": [],
}


class FakeDeliveries:
    def __init__(self) -> None:
        self.records: dict[str, Document] = {}

    async def claim(self, record: Document) -> tuple[Document, bool]:
        if record["_id"] in self.records:
            return self.records[record["_id"]], False
        self.records[record["_id"]] = record
        return record, True


class FakeTickets:
    async def read(self, tracking_code: str) -> TicketView | None:
        return TicketView(
            facts=TicketFacts(kind="complaint", summary="Jembatan rusak"),
            email=REPORTERS[tracking_code],
            lang="id",
            history=(
                {
                    "action": "resolve",
                    "at": NOW,
                    "note": "Sudah diperbaiki.",
                    "public": True,
                },
            ),
        )

    async def reporter_addresses(self, tracking_codes: Any) -> list[frozenset[str]]:
        return [frozenset({REPORTERS[c]}) for c in tracking_codes]


class FakeSupporters:
    async def of(self, tracking_code: str) -> list[Contact]:
        return [
            Contact(key=f"supporter:{key}", kind="supporter", email=email)
            for email, key in SUPPORTERS[tracking_code]
        ]


class FakeDispatcher:
    def __init__(self) -> None:
        self.sent: list[Document] = []

    def lease(self, now: datetime) -> tuple[str, datetime]:
        return "lease", now

    async def first_attempt(self, record: Document) -> Status:
        self.sent.append(record)
        return Status.SENT


async def _no_names() -> dict[str, str]:
    return {}


def _notifier(deliveries: FakeDeliveries, dispatcher: FakeDispatcher) -> Notifier:
    renderer = Renderer(
        links=Links("http://127.0.0.1:8001", "http://127.0.0.1:8002"),
        organisation="Pemerintah Kabupaten Serang",
        tz=ZoneInfo("Asia/Jakarta"),
    )
    return Notifier(
        deliveries=cast(Any, deliveries),
        digests=cast(Any, None),
        tickets=cast(Any, FakeTickets()),
        staff=cast(Any, None),
        opd_names=_no_names,
        renderer=renderer,
        dispatcher=cast(Any, dispatcher),
        config=NotifyConfig(enabled=frozenset({"email"}), address_secret=b"s" * 32),
        clock=lambda: NOW,
        supporters=cast(Any, FakeSupporters()),
    )


def _answer() -> ClusterAnswer:
    return ClusterAnswer(id="JW-TEST", primary="LP-A", members=["LP-A", "LP-B", "LP-C"])


def _resolve(code: str, *, answer: ClusterAnswer | None) -> Envelope:
    event = TicketTransitioned(
        action="resolve",
        from_status="in_progress",
        to_status="resolved",
        opd="DPUPR",
        note="Sudah diperbaiki.",
        cluster_answer=answer,
    )
    envelope = event.envelope(ticket_id=code, producer="routing", correlation_id="c")
    return envelope.model_copy(update={"occurred_at": NOW})


@pytest.mark.parametrize("order", [("LP-A", "LP-B", "LP-C"), ("LP-C", "LP-B", "LP-A")])
async def test_each_contact_hears_one_answer_once_reporters_first(order: tuple[str, ...]) -> None:
    deliveries, dispatcher = FakeDeliveries(), FakeDispatcher()
    notifier = _notifier(deliveries, dispatcher)
    for code in order:
        await notifier.handle(_resolve(code, answer=_answer()))
        await notifier.handle(_resolve(code, answer=_answer()))  # a replay sends nothing
    heard = sorted((r["recipient"], r["template"]) for r in dispatcher.sent)
    assert heard == [
        ("ani@example.com", "citizen_resolved"),
        ("budi@example.com", "citizen_resolved"),
        ("dewi@example.com", "supporter_resolved"),
        ("eko@example.com", "supporter_resolved"),
    ]
    assert all("@" not in key for key in deliveries.records)


async def test_without_an_answer_each_ticket_tells_its_own_people() -> None:
    deliveries, dispatcher = FakeDeliveries(), FakeDispatcher()
    notifier = _notifier(deliveries, dispatcher)
    for code in ("LP-A", "LP-B"):
        await notifier.handle(_resolve(code, answer=None))
    heard = sorted((r["recipient"], r["template"]) for r in dispatcher.sent)
    assert heard == [
        ("ani@example.com", "citizen_resolved"),
        ("budi@example.com", "citizen_resolved"),
        ("budi@example.com", "supporter_resolved"),
        ("dewi@example.com", "supporter_resolved"),
        ("dewi@example.com", "supporter_resolved"),
        ("eko@example.com", "supporter_resolved"),
    ]


async def test_a_public_comment_for_the_whole_cluster_reaches_a_reporter_of_two_once() -> None:
    deliveries, dispatcher = FakeDeliveries(), FakeDispatcher()
    notifier = _notifier(deliveries, dispatcher)
    for code in ("LP-A", "LP-B", "LP-C"):
        comment = TicketCommented(
            comment_id=f"c-{code}",
            public=True,
            opd="DPUPR",
            body="Tim sedang menuju lokasi.",
            cluster_answer=_answer(),
        )
        envelope = comment.envelope(ticket_id=code, producer="routing", correlation_id="c")
        await notifier.handle(envelope.model_copy(update={"occurred_at": NOW}))
    heard = sorted((r["recipient"], r["template"]) for r in dispatcher.sent)
    assert heard == [
        ("ani@example.com", "citizen_answered"),
        ("budi@example.com", "citizen_answered"),
    ]
