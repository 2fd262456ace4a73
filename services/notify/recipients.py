"""Who hears of which event, pure: the rules table, contacts and their channels, delivery keys,
masking of contacts, and the arithmetic of reaching them (retry timing, digest days). No I/O here.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from shared.catalogue import LUAR_KEWENANGAN, TRIASE
from shared.chat import SERVICE_WINDOW
from shared.events import (
    CitizenReplied,
    Envelope,
    EventType,
    OpdChoiceAsked,
    TicketCommented,
    TicketDueSoon,
    TicketEscalated,
    TicketRouted,
    TicketSubmitted,
    TicketTransitioned,
    TicketTriaged,
    choice_id,
)

MAX_BUTTONS = 3  # WhatsApp's reply buttons per message
BUTTON_TITLE = 20  # characters of a button's title


class Audience(StrEnum):
    CITIZEN = "citizen"
    OFFICERS = "officer"  # the active officers of the OPD concerned
    SUPERVISORS = "supervisor"  # the OPD's head(s)
    ADMINS = "admin"  # the admin koordinator
    SUPPORTERS = "supporter"  # citizens who supported the report and left a contact


class Channel(StrEnum):
    EMAIL = "email"
    WHATSAPP = "whatsapp"
    SMS = "sms"
    WEBHOOK = "webhook"
    LOG = "log"  # a record that nobody could be reached (and a log line)


class Status(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    RETRYING = "retrying"
    DEAD = "dead"


@dataclass(frozen=True)
class Notice:
    """What notify needs of one event, read from its typed payload."""

    event_id: str
    event_type: str
    tracking_code: str
    occurred_at: datetime
    opd: str | None = None
    from_opd: str | None = None
    status: str | None = None
    action: str | None = None
    actor_role: str | None = None
    reason: str | None = None
    note: str | None = None
    public: bool = True
    due_at: datetime | None = None
    stage: str | None = None
    payload: Mapping[str, Any] = field(default_factory=dict)
    # One answer of a cluster's primary for all its members (`ClusterAnswer`): its id and codes.
    answer_id: str | None = None
    answer_members: tuple[str, ...] = ()

    @property
    def assigned(self) -> bool:
        """Whether an OPD (not the admin's queue, not "out of authority") holds the ticket."""
        return self.opd not in (None, "", TRIASE, LUAR_KEWENANGAN)


PAYLOADS: dict[str, type[BaseModel]] = {
    EventType.TICKET_SUBMITTED: TicketSubmitted,
    EventType.TICKET_ROUTED: TicketRouted,
    EventType.TICKET_TRIAGED: TicketTriaged,
    EventType.TICKET_TRANSITIONED: TicketTransitioned,
    EventType.TICKET_COMMENTED: TicketCommented,
    EventType.CITIZEN_REPLIED: CitizenReplied,
    EventType.TICKET_ESCALATED: TicketEscalated,
    EventType.TICKET_DUE_SOON: TicketDueSoon,
    EventType.OPD_CHOICE_ASKED: OpdChoiceAsked,
}


def notice_from(envelope: Envelope) -> Notice:
    """Read an event through its typed payload; unknown types keep only the envelope's facts.

    Raises `pydantic.ValidationError` for a payload that does not match its type.
    """
    payload_type = PAYLOADS.get(envelope.event_type)
    data = payload_type.model_validate(envelope.payload).model_dump() if payload_type else {}
    return Notice(
        event_id=envelope.event_id,
        event_type=envelope.event_type,
        tracking_code=envelope.ticket_id,
        occurred_at=envelope.occurred_at,
        payload=dict(envelope.payload),
        opd=data.get("opd"),
        from_opd=data.get("from_opd"),
        status=data.get("status") or data.get("to_status"),
        action=data.get("action"),
        actor_role=data.get("actor_role"),
        reason=data.get("reason"),
        note=data.get("note") or data.get("body"),
        public=bool(data.get("public", True)),
        due_at=data.get("due_at"),
        stage=data.get("stage"),
        answer_id=(data.get("cluster_answer") or {}).get("id"),
        answer_members=tuple((data.get("cluster_answer") or {}).get("members") or ()),
    )


# How far an event's time may be from its history entry's (both are set by the writer, an
# instant apart; a second routing instance's clock may differ a little).
HISTORY_CLOCK_SLACK = timedelta(minutes=5)


def stored_note(
    notice: Notice, history: Sequence[Mapping[str, Any]], comments: Sequence[Mapping[str, Any]]
) -> str | None:
    """The text a message may quote, read from the stored ticket, never from the event: Kafka
    events can be forged by anything on the network, the ticket's history cannot.

    A comment event quotes its public comment (by id); a status change the public note of its
    history entry (the latest with the event's action and target status, not after the
    event); anything else, or an event with no stored counterpart, quotes nothing.
    """
    if notice.event_type == EventType.TICKET_COMMENTED:
        wanted = notice.payload.get("comment_id")
        for comment in comments:
            if comment.get("id") == wanted and comment.get("public"):
                body = comment.get("body")
                return str(body) if body else None
        return None
    if notice.event_type != EventType.TICKET_TRANSITIONED:
        return None
    to_status = notice.payload.get("to_status")
    latest = notice.occurred_at + HISTORY_CLOCK_SLACK
    for entry in reversed(history):
        at = entry.get("at")
        if (
            entry.get("action") == notice.action
            and entry.get("to") == to_status
            and isinstance(at, datetime)
            and at <= latest
        ):
            note = entry.get("note") if entry.get("public", True) else None
            return str(note) if note else None
    return None


def transition_of(notice: Notice) -> dict[str, str | None] | None:
    """The status change an event records (`action`, `from`, `to`), as the delivery log shows
    it; None for an event that changes no status."""
    payload = notice.payload
    if "from_status" in payload and "to_status" in payload:
        return {"action": notice.action, "from": payload["from_status"], "to": payload["to_status"]}
    if notice.event_type in (EventType.TICKET_ROUTED, EventType.TICKET_TRIAGED):
        return {"action": "route", "from": "submitted", "to": notice.status}
    return None


# -- who hears what ----------------------------------------------------------------------------

Condition = Callable[[Notice], bool]


def _always(_: Notice) -> bool:
    return True


def _assigned(notice: Notice) -> bool:
    return notice.assigned


def _unassigned(notice: Notice) -> bool:
    return not notice.assigned


def _action(action: str, assigned: bool | None = None) -> Condition:
    def check(notice: Notice) -> bool:
        if notice.action != action:
            return False
        return assigned is None or notice.assigned is assigned

    return check


def _staff_action(action: str) -> Condition:
    """A transition made by staff or the system; the citizen's own reply already told them."""

    def check(notice: Notice) -> bool:
        return notice.action == action and notice.actor_role != "citizen"

    return check


def _public_comment(notice: Notice) -> bool:
    return notice.public


@dataclass(frozen=True)
class Rule:
    """One row of the table: on `event_type`, when `when`, tell `audience` with `template`.

    `digestible` messages go into the daily digest of officers who chose one.
    """

    event_type: str
    audience: Audience
    template: str
    when: Condition = _always
    digestible: bool = False


E = EventType
A = Audience
RULES: tuple[Rule, ...] = (
    # The citizen: received, routed (and re-routed), answered, resolved, asked to rate, reopened.
    Rule(E.TICKET_SUBMITTED, A.CITIZEN, "citizen_received"),
    Rule(E.TICKET_ROUTED, A.CITIZEN, "citizen_routed", _assigned),
    Rule(E.TICKET_TRANSITIONED, A.CITIZEN, "citizen_transferred", _action("transfer", True)),
    Rule(E.TICKET_COMMENTED, A.CITIZEN, "citizen_answered", _public_comment),
    Rule(E.TICKET_TRANSITIONED, A.CITIZEN, "citizen_resolved", _action("resolve")),
    Rule(E.TICKET_TRANSITIONED, A.SUPPORTERS, "supporter_resolved", _action("resolve")),
    Rule(E.TICKET_TRANSITIONED, A.CITIZEN, "citizen_rejected", _action("reject")),
    Rule(E.TICKET_TRANSITIONED, A.CITIZEN, "citizen_closed", _staff_action("close")),
    Rule(E.CITIZEN_REPLIED, A.CITIZEN, "citizen_closed", _action("confirm")),
    Rule(E.TICKET_TRANSITIONED, A.CITIZEN, "citizen_reopened", _staff_action("reopen")),
    Rule(E.CITIZEN_REPLIED, A.CITIZEN, "citizen_reopened", _action("dispute")),
    # A chat ticket the router is unsure of: which of two OPDs (or neither)?
    Rule(E.OPD_CHOICE_ASKED, A.CITIZEN, "citizen_choose_opd"),
    # The OPD's officers: new ticket, transfer in, citizen reply, reopened, deadline near.
    Rule(E.TICKET_ROUTED, A.OFFICERS, "staff_assigned", _assigned, digestible=True),
    Rule(
        E.TICKET_TRANSITIONED,
        A.OFFICERS,
        "staff_transfer_in",
        _action("transfer", True),
        digestible=True,
    ),
    Rule(E.CITIZEN_REPLIED, A.OFFICERS, "staff_citizen_replied", _assigned, digestible=True),
    Rule(
        E.TICKET_TRANSITIONED,
        A.OFFICERS,
        "staff_reopened",
        _staff_action("reopen"),
        digestible=True,
    ),
    Rule(E.TICKET_DUE_SOON, A.OFFICERS, "staff_due_soon", _assigned, digestible=True),
    # The admin koordinator: what waits in TRIASE, and whatever has no OPD to tell.
    Rule(E.TICKET_ROUTED, A.ADMINS, "staff_triage", _unassigned),
    Rule(E.TICKET_TRIAGED, A.ADMINS, "staff_triage"),
    Rule(E.TICKET_TRANSITIONED, A.ADMINS, "staff_triage", _action("transfer", False)),
    Rule(E.CITIZEN_REPLIED, A.ADMINS, "staff_citizen_replied", _unassigned),
    Rule(E.TICKET_DUE_SOON, A.ADMINS, "staff_due_soon", _unassigned),
    # A missed deadline: the OPD's supervisor and the admin koordinator.
    Rule(E.TICKET_ESCALATED, A.SUPERVISORS, "staff_escalation", _assigned),
    Rule(E.TICKET_ESCALATED, A.ADMINS, "staff_escalation"),
)
del E, A

DIGEST_TEMPLATE = "staff_digest"
TEMPLATES: tuple[str, ...] = (*dict.fromkeys(r.template for r in RULES), DIGEST_TEMPLATE)


def rules_for(notice: Notice, rules: Iterable[Rule] = RULES) -> list[Rule]:
    """The rows of the table that apply to this event."""
    return [r for r in rules if r.event_type == notice.event_type and r.when(notice)]


# -- recipients and keys -----------------------------------------------------------------------


@dataclass(frozen=True)
class Contact:
    """Someone notify can reach: the reporter (`citizen`) or a staff account (`user:<name>`).

    `phone_channel` is the one channel their phone is reached on when they chose it: the chat
    (whatsapp or sms) a ticket was filed in.
    """

    key: str
    kind: str
    email: str | None = None
    phone: str | None = None
    lang: str = "id"
    digest: bool = False
    phone_channel: str | None = None


@dataclass(frozen=True)
class Recipient:
    """An address on one channel; `key` names the person without their contact."""

    key: str
    kind: str
    channel: str
    address: str
    lang: str = "id"


def channels_for(contact: Contact, enabled: frozenset[str]) -> list[Recipient]:
    """Email when there is an address; a phone by WhatsApp, else by SMS when that is enabled."""
    found: list[Recipient] = []
    if contact.email and Channel.EMAIL in enabled:
        found.append(_on(contact, Channel.EMAIL, contact.email))
    if contact.phone:
        order: tuple[Channel, ...] = (Channel.WHATSAPP, Channel.SMS)
        if contact.phone_channel in order:
            order = (Channel(contact.phone_channel),)
        for channel in order:
            if channel in enabled:
                found.append(_on(contact, channel, contact.phone))
                break
    return found


def _on(contact: Contact, channel: Channel, address: str) -> Recipient:
    return Recipient(
        key=contact.key, kind=contact.kind, channel=channel, address=address, lang=contact.lang
    )


def unreachable(audience: Audience, opd: str | None, lang: str) -> Recipient:
    """The log record kept when nobody of a group can be reached, so the gap shows in the log."""
    code = opd if audience in (Audience.OFFICERS, Audience.SUPERVISORS) and opd else TRIASE
    return Recipient(
        key=f"opd:{code}:{audience}",
        kind="opd" if code != TRIASE else "admin",
        channel=Channel.LOG,
        address=f"opd:{code}",
        lang=lang,
    )


def webhook_recipient(name: str) -> Recipient:
    return Recipient(
        key=f"webhook:{name}", kind="system", channel=Channel.WEBHOOK, address=f"webhook:{name}"
    )


def delivery_key(event_id: str, recipient: Recipient) -> str:
    """The unique key of one message: (event, channel, recipient); it holds no contact."""
    return f"{event_id}:{recipient.channel}:{recipient.key}"


def answer_delivery_key(answer_id: str, recipient: Recipient, *, secret: bytes) -> str:
    """The key of a citizen's message of a cluster's one answer: (answer, channel, contact), so
    whichever member's event comes first tells a contact once. The contact is a keyed hash."""
    return f"answer:{answer_id}:{recipient.channel}:{address_hash(recipient.address, secret)}"


def normalised_address(address: str) -> str:
    """An e-mail in lower case, a phone as its digits with the country code (08… = 628…)."""
    if "@" in address:
        return address.strip().lower()
    digits = "".join(ch for ch in address if ch.isdigit())
    return "62" + digits[1:] if digits.startswith("0") else digits


def address_hash(address: str, secret: bytes) -> str:
    """HMAC-SHA256 of the normalised address: without the secret a phone number's hash cannot
    be reversed by trying every number."""
    digest = hmac.new(secret, normalised_address(address).encode(), hashlib.sha256)
    return digest.hexdigest()[:24]


def contact_addresses(contact: Contact) -> frozenset[str]:
    """The normalised addresses a contact is reached at (to match one person across roles)."""
    return frozenset(normalised_address(a) for a in (contact.email, contact.phone) if a)


def not_reporters(
    supporters: Iterable[Contact], reporters: Iterable[frozenset[str]]
) -> list[Contact]:
    """Supporters who are not also a reporter of the answer's tickets: a reporter hears the
    answer on their own ticket, before any support they gave."""
    taken = frozenset().union(*reporters)
    return [s for s in supporters if not contact_addresses(s) & taken]


def digest_event_id(username: str, day: date) -> str:
    """A digest is its own "event": one per officer and day."""
    return f"digest-{day.isoformat()}-{username}"


def digest_item_key(event_id: str, username: str) -> str:
    return f"{event_id}:digest:user:{username}"


MASK_HEAD, MASK_TAIL, MASK_HIDDEN = 5, 2, 6
MASK_MIN_DIGITS = MASK_HIDDEN + MASK_TAIL + 1


def mask(address: str) -> str:
    """`a***@example.com`, `+6281******89`; group and system addresses are not personal.

    A number keeps at most its country and operator prefix (up to 5 characters) and its last
    2 digits, and always has at least 6 masked: `0812345678` is `08******78`.
    """
    if address.startswith(("opd:", "webhook:", "user:")):
        return address
    if "@" in address:
        local, _, domain = address.partition("@")
        return f"{local[:1]}***@{domain}"
    digits = re.sub(r"[^0-9+]", "", address)
    if len(digits) < MASK_MIN_DIGITS:
        return "***"
    head = min(MASK_HEAD, len(digits) - MASK_HIDDEN - MASK_TAIL)
    hidden = len(digits) - head - MASK_TAIL
    return f"{digits[:head]}{'*' * hidden}{digits[-MASK_TAIL:]}"


def choice_buttons(candidates: Iterable[str]) -> list[dict[str, str]]:
    """Reply buttons of routing's choice question: one per candidate, then "Lainnya"; the ids
    are what intake's conversation reads back (`pilih:<OPD>`)."""
    codes = list(candidates)
    buttons = [
        {"id": choice_id(code), "title": f"{n}. {code}"[:BUTTON_TITLE]}
        for n, code in enumerate(codes, 1)
    ]
    return [*buttons, {"id": choice_id(None), "title": f"{len(codes) + 1}. Lainnya"}]


def whatsapp_extras(
    *, last_inbound_at: datetime | None, buttons: list[dict[str, str]] | None = None
) -> dict[str, Any]:
    """What the WhatsApp channel needs beside the text: until when free text may be sent (the
    24-hour window after the citizen's last message; none: only a template), and buttons."""
    until = last_inbound_at + SERVICE_WINDOW if last_inbound_at is not None else None
    return {
        "window_until": until.isoformat() if until else None,
        "buttons": list(buttons or ())[:MAX_BUTTONS],
    }


def webhook_body(notice: Notice, *, confidential: bool) -> dict[str, Any]:
    """What other systems receive: the event without personal data; no note if confidential."""
    data = dict(notice.payload)
    for name in ("note", "body"):  # the stored text (Notifier puts it in notice.note), if any
        if name in data:
            if confidential:
                del data[name]
            else:
                data[name] = notice.note
    return {
        "event_id": notice.event_id,
        "event_type": notice.event_type,
        "tracking_code": notice.tracking_code,
        "occurred_at": notice.occurred_at.isoformat(),
        "data": data,
    }


def digest_status(statuses: Iterable[str]) -> Status:
    """How a digested message stands: sent once any channel sent the digest."""
    found = set(statuses)
    if Status.SENT in found:
        return Status.SENT
    if found and found <= {Status.DEAD}:
        return Status.DEAD
    return Status.RETRYING if Status.RETRYING in found else Status.PENDING


# -- retries and digests -----------------------------------------------------------------------


def retry_delay(attempt: int, *, base_s: float, cap_s: float, jitter: float) -> float:
    """Exponential backoff after the `attempt`-th failure, with "equal jitter" (0 <= jitter < 1):
    half the delay is fixed and half random, so retries spread out but never come too soon."""
    delay = min(cap_s, base_s * 2.0 ** max(attempt - 1, 0))
    return delay / 2 + delay / 2 * jitter


@dataclass(frozen=True)
class Outcome:
    """What to record after a failed attempt."""

    status: Status
    next_attempt_at: datetime | None


def after_failure(
    *,
    attempts: int,
    permanent: bool,
    now: datetime,
    max_attempts: int,
    base_s: float,
    cap_s: float,
    jitter: float,
) -> Outcome:
    """Retry later with backoff, or give up: a permanent failure or the last allowed attempt."""
    if permanent or attempts >= max_attempts:
        return Outcome(Status.DEAD, None)
    delay = retry_delay(attempts, base_s=base_s, cap_s=cap_s, jitter=jitter)
    return Outcome(Status.RETRYING, now + timedelta(seconds=delay))


def digest_day(at: datetime, *, hour: int, tz: ZoneInfo) -> date:
    """The day of the digest a message at `at` goes into: today's if before `hour`, else
    tomorrow's (local time)."""
    local = at.astimezone(tz)
    return local.date() if local.hour < hour else local.date() + timedelta(days=1)


def latest_due_digest_day(now: datetime, *, hour: int, tz: ZoneInfo) -> date:
    """The most recent digest day whose sending hour has come."""
    local = now.astimezone(tz)
    return local.date() if local.hour >= hour else local.date() - timedelta(days=1)
