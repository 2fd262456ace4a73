"""Notify's pure rules: who hears of which event (as a table), keys, masking, retries, digests."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from services.notify import recipients
from services.notify.recipients import Audience, Contact, Recipient, Status
from shared.events import Envelope, EventType

JAKARTA = ZoneInfo("Asia/Jakarta")
DUE = "2025-06-02T09:00:00+00:00"


def _event(event_type: str, **payload: Any) -> Envelope:
    return Envelope(
        event_type=event_type,
        ticket_id="LP-ABCD-EFGH",
        correlation_id="c",
        producer="test",
        payload=payload,
    )


def _transition(action: str, *, opd: str | None = "DLH", **extra: Any) -> Envelope:
    return _event(
        EventType.TICKET_TRANSITIONED,
        action=action,
        from_status="routed",
        to_status="x",
        opd=opd,
        **extra,
    )


def _reply(action: str, opd: str | None = "DLH") -> Envelope:
    return _event(
        EventType.CITIZEN_REPLIED, action=action, from_status="resolved", to_status="x", opd=opd
    )


def _routed(event_type: str, opd: str) -> Envelope:
    return _event(event_type, opd=opd, status="routed", confidence=0.9, model="m", due_at=DUE)


CIT, OFF, SUP, ADM = Audience.CITIZEN, Audience.OFFICERS, Audience.SUPERVISORS, Audience.ADMINS
WHO_HEARS_WHAT: list[tuple[str, Envelope, set[tuple[Audience, str]]]] = [
    (
        "submitted",
        _event(EventType.TICKET_SUBMITTED, kind="complaint"),
        {(CIT, "citizen_received")},
    ),
    (
        "routed to an OPD",
        _routed(EventType.TICKET_ROUTED, "DLH"),
        {(CIT, "citizen_routed"), (OFF, "staff_assigned")},
    ),
    (
        "routed out of authority",
        _routed(EventType.TICKET_ROUTED, "LUAR_KEWENANGAN"),
        {(ADM, "staff_triage")},
    ),
    ("triaged", _routed(EventType.TICKET_TRIAGED, "TRIASE"), {(ADM, "staff_triage")}),
    (
        "transferred to an OPD",
        _transition("transfer", from_opd="DPUPR"),
        {(CIT, "citizen_transferred"), (OFF, "staff_transfer_in")},
    ),
    ("transferred to triage", _transition("transfer", opd="TRIASE"), {(ADM, "staff_triage")}),
    ("verified", _transition("verify"), set()),
    ("started", _transition("start"), set()),
    (
        "resolved",
        _transition("resolve", note="Sudah diperbaiki."),
        {(CIT, "citizen_resolved"), (Audience.SUPPORTERS, "supporter_resolved")},
    ),
    ("rejected", _transition("reject", reason="spam"), {(CIT, "citizen_rejected")}),
    ("closed by the system", _transition("close", actor_role="system"), {(CIT, "citizen_closed")}),
    ("closed by the citizen", _transition("close", actor_role="citizen"), set()),
    (
        "reopened by an admin",
        _transition("reopen", actor_role="admin"),
        {(CIT, "citizen_reopened"), (OFF, "staff_reopened")},
    ),
    (
        "public comment",
        _event(EventType.TICKET_COMMENTED, comment_id="1", public=True),
        {(CIT, "citizen_answered")},
    ),
    ("internal comment", _event(EventType.TICKET_COMMENTED, comment_id="1", public=False), set()),
    ("citizen adds info", _reply("info"), {(OFF, "staff_citizen_replied")}),
    ("citizen adds info in triage", _reply("info", opd=None), {(ADM, "staff_citizen_replied")}),
    (
        "citizen confirms",
        _reply("confirm"),
        {(OFF, "staff_citizen_replied"), (CIT, "citizen_closed")},
    ),
    (
        "citizen disputes",
        _reply("dispute"),
        {(OFF, "staff_citizen_replied"), (CIT, "citizen_reopened")},
    ),
    (
        "escalated at an OPD",
        _event(EventType.TICKET_ESCALATED, opd="DLH", status="verified", due_at=DUE),
        {(SUP, "staff_escalation"), (ADM, "staff_escalation")},
    ),
    (
        "escalated in triage",
        _event(EventType.TICKET_ESCALATED, opd=None, status="triage", due_at=DUE, stage="routing"),
        {(ADM, "staff_escalation")},
    ),
    (
        "deadline near at an OPD",
        _event(EventType.TICKET_DUE_SOON, opd="DLH", status="in_progress", due_at=DUE),
        {(OFF, "staff_due_soon")},
    ),
    (
        "deadline near in triage",
        _event(EventType.TICKET_DUE_SOON, opd="TRIASE", status="triage", due_at=DUE),
        {(ADM, "staff_due_soon")},
    ),
    ("rated", _event(EventType.TICKET_RATED, score=5, opd="DLH"), set()),
    (
        "routing asks a chat's citizen to choose",
        _event(EventType.OPD_CHOICE_ASKED, candidates=["DLH", "DPUPR"]),
        {(CIT, "citizen_choose_opd")},
    ),
    ("the citizen chose", _event(EventType.OPD_CHOSEN, opd="DLH"), set()),
    # A conversation's own replies are sent as they are (ChatReplies), not through the table.
    ("a chat reply", _event(EventType.CHAT_REPLY, message_id="r1", channel="whatsapp"), set()),
]


@pytest.mark.parametrize(
    ("event", "expected"), [c[1:] for c in WHO_HEARS_WHAT], ids=[c[0] for c in WHO_HEARS_WHAT]
)
def test_who_hears_of_each_event(event: Envelope, expected: set[tuple[Audience, str]]) -> None:
    rules = recipients.rules_for(recipients.notice_from(event))
    assert {(r.audience, r.template) for r in rules} == expected
    assert len(rules) == len(expected)  # one message per audience and event


def test_every_event_type_has_a_row_in_the_table_test() -> None:
    assert {c[1].event_type for c in WHO_HEARS_WHAT} == set(EventType)


def test_only_officer_notices_go_into_digests() -> None:
    digestible = {r.template for r in recipients.RULES if r.digestible}
    assert digestible == {
        "staff_assigned",
        "staff_transfer_in",
        "staff_citizen_replied",
        "staff_reopened",
        "staff_due_soon",
    }
    assert all(r.audience is Audience.OFFICERS for r in recipients.RULES if r.digestible)


def test_a_payload_that_does_not_match_its_type_is_refused() -> None:
    with pytest.raises(ValidationError):
        recipients.notice_from(_event(EventType.TICKET_ROUTED, opd="DLH"))


@pytest.mark.parametrize(
    ("address", "masked"),
    [
        ("warga@example.com", "w***@example.com"),
        ("+628123456789", "+6281******89"),
        ("0812-3456-789", "081******89"),
        # A ten-character number keeps 4 of its characters, not 9.
        ("0812345678", "08******78"),
        ("+62812345678", "+628******78"),
        ("12345678", "***"),
        ("opd:DPUPR", "opd:DPUPR"),
        ("webhook:lapor", "webhook:lapor"),
        ("user:dlh", "user:dlh"),
        ("123", "***"),
    ],
)
def test_contacts_are_masked(address: str, masked: str) -> None:
    assert recipients.mask(address) == masked


@pytest.mark.parametrize(
    ("contact", "enabled", "channels"),
    [
        (
            Contact("citizen", "citizen", email="a@b.id", phone="+62811"),
            {"email", "whatsapp"},
            ["email", "whatsapp"],
        ),
        (Contact("citizen", "citizen", phone="+62811"), {"email", "sms"}, ["sms"]),
        (Contact("citizen", "citizen", phone="+62811"), {"whatsapp", "sms"}, ["whatsapp"]),
        (Contact("citizen", "citizen", email="a@b.id"), {"whatsapp"}, []),
        (Contact("user:x", "officer"), {"email", "whatsapp", "sms"}, []),
    ],
)
def test_a_contact_is_reached_on_email_and_one_phone_channel(
    contact: Contact, enabled: set[str], channels: list[str]
) -> None:
    found = recipients.channels_for(contact, frozenset(enabled))
    assert [r.channel for r in found] == channels


def test_nobody_reachable_leaves_a_log_record_for_the_group() -> None:
    officers = recipients.unreachable(Audience.OFFICERS, "DLH", "id")
    admins = recipients.unreachable(Audience.ADMINS, "DLH", "id")
    assert (officers.channel, officers.address) == ("log", "opd:DLH")
    assert (admins.channel, admins.address) == ("log", "opd:TRIASE")
    assert officers.key != recipients.unreachable(Audience.SUPERVISORS, "DLH", "id").key


def test_delivery_key_is_unique_per_event_recipient_and_channel_and_holds_no_contact() -> None:
    email = Recipient("citizen", "citizen", "email", "warga@example.com")
    whatsapp = Recipient("citizen", "citizen", "whatsapp", "+628123456789")
    officer = Recipient("user:dlh", "officer", "email", "dlh@serangkab.go.id")
    keys = {recipients.delivery_key("e1", r) for r in (email, whatsapp, officer)}
    assert len(keys) == 3
    assert recipients.delivery_key("e1", email) == recipients.delivery_key("e1", email)
    assert recipients.delivery_key("e2", email) != recipients.delivery_key("e1", email)
    assert not any("@" in k or "+62" in k for k in keys)


def test_webhooks_carry_no_note_of_a_confidential_ticket() -> None:
    notice = recipients.notice_from(_transition("resolve", note="Jawaban"))
    assert recipients.webhook_body(notice, confidential=False)["data"]["note"] == "Jawaban"
    assert "note" not in recipients.webhook_body(notice, confidential=True)["data"]


@pytest.mark.parametrize(
    ("attempt", "jitter", "delay"),
    [(1, 0.0, 15.0), (1, 0.999, 29.985), (2, 0.0, 30.0), (3, 0.5, 90.0), (10, 0.0, 1800.0)],
)
def test_retries_back_off_exponentially_with_jitter_up_to_a_cap(
    attempt: int, jitter: float, delay: float
) -> None:
    assert recipients.retry_delay(attempt, base_s=30, cap_s=3600, jitter=jitter) == pytest.approx(
        delay
    )


def test_a_failure_is_retried_until_the_limit_and_then_dead() -> None:
    now = datetime(2025, 1, 1, tzinfo=UTC)
    args: dict[str, Any] = {"now": now, "max_attempts": 3, "base_s": 10, "cap_s": 60, "jitter": 0}
    first = recipients.after_failure(attempts=1, permanent=False, **args)
    assert first == recipients.Outcome(Status.RETRYING, now + timedelta(seconds=5))
    assert recipients.after_failure(attempts=3, permanent=False, **args).status is Status.DEAD
    assert recipients.after_failure(attempts=1, permanent=True, **args).status is Status.DEAD


@pytest.mark.parametrize(
    ("local_time", "day"),
    [
        ("2025-03-03T06:59", date(2025, 3, 3)),  # before the digest hour: today's digest
        ("2025-03-03T07:00", date(2025, 3, 4)),  # at or after it: tomorrow's
        ("2025-03-03T23:30", date(2025, 3, 4)),
    ],
)
def test_a_message_goes_into_the_next_digest(local_time: str, day: date) -> None:
    at = datetime.fromisoformat(local_time).replace(tzinfo=JAKARTA)
    assert recipients.digest_day(at, hour=7, tz=JAKARTA) == day


def test_the_digest_of_a_day_is_due_from_its_hour() -> None:
    early = datetime(2025, 3, 3, 6, 0, tzinfo=JAKARTA)
    late = datetime(2025, 3, 3, 7, 0, tzinfo=JAKARTA)
    assert recipients.latest_due_digest_day(early, hour=7, tz=JAKARTA) == date(2025, 3, 2)
    assert recipients.latest_due_digest_day(late, hour=7, tz=JAKARTA) == date(2025, 3, 3)
    # 23:30 UTC is already 06:30 the next morning in Jakarta
    utc = datetime(2025, 3, 2, 23, 30, tzinfo=UTC)
    assert recipients.digest_day(utc, hour=7, tz=JAKARTA) == date(2025, 3, 3)


@pytest.mark.parametrize(
    ("statuses", "status"),
    [
        ([], Status.PENDING),
        (["dead", "sent"], Status.SENT),
        (["dead", "dead"], Status.DEAD),
        (["dead", "retrying"], Status.RETRYING),
        (["pending"], Status.PENDING),
    ],
)
def test_a_digested_message_is_sent_once_any_channel_sent_the_digest(
    statuses: list[str], status: Status
) -> None:
    assert recipients.digest_status(statuses) is status
