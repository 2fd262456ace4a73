"""A complaint as intake sees it, pure: tracking codes, reply tokens, the new ticket, its public
view, duplicate keys and the citizen's follow-ups, rating and choice of OPD as lifecycle changes."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import secrets
import uuid
from datetime import datetime
from typing import Any

from services.intake.views import (
    ComplaintContent,
    OpdNamed,
    PhotoAdded,
    PublicAnswer,
    PublicationShown,
    ReporterDetails,
    TimelineItem,
    TrackedComplaint,
)
from shared import publication
from shared.catalogue import Catalogue
from shared.events import (
    CitizenReplied,
    Envelope,
    OpdChosen,
    TicketRated,
    TicketSubmitted,
)
from shared.lifecycle import actors, sla
from shared.lifecycle.changes import Change as Change
from shared.lifecycle.changes import Step, change
from shared.lifecycle.statuses import FINAL_STATUSES
from shared.lifecycle.table import TABLE, CitizenAction, allows, recorded_as
from shared.search import search_tokens
from shared.tickets import (
    Comment,
    Kind,
    Location,
    Rating,
    Reporter,
    RoutingChoice,
    Ticket,
    TicketStatus,
    outbox_entry,
)
from shared.workdays import WorkCalendar

# No 0/O, 1/I/L or U: a code read aloud or typed on a phone cannot be mistaken.
TRACKING_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
TRACKING_LENGTH = 8
PRODUCER = "intake"
CITIZEN = actors.CITIZEN.name


def new_tracking_code(prefix: str) -> str:
    """`LP-7K4M-Q9XZ`: random, so codes cannot be guessed by counting."""
    body = "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(TRACKING_LENGTH))
    return f"{prefix}-{body[:4]}-{body[4:]}"


def normalise_tracking_code(raw: str) -> str:
    """Accept the code as people type it: any case, spaces or missing dashes."""
    compact = "".join(ch for ch in raw.upper() if ch.isalnum())
    if len(compact) <= TRACKING_LENGTH:
        return compact
    prefix, body = compact[:-TRACKING_LENGTH], compact[-TRACKING_LENGTH:]
    return f"{prefix}-{body[:4]}-{body[4:]}"


def new_reply_token() -> str:
    return secrets.token_urlsafe(24)


def hash_reply_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def reply_token_matches(token: str, ticket: Ticket) -> bool:
    return hmac.compare_digest(hash_reply_token(token), ticket.reply_token_hash)


def new_ticket(
    *,
    tracking_code: str,
    reply_token: str,
    now: datetime,
    correlation_id: str,
    kind: Kind,
    description: str,
    title: str | None,
    category: str | None,
    location: Location,
    reporter: Reporter | None,
    anonymous: bool,
    confidential: bool,
    confidential_requested: bool | None = None,
    synthetic: bool = False,
) -> tuple[Ticket, Envelope]:
    """The ticket as first stored, with its `submitted` event already in the outbox.

    `confidential` is the flag in force (see shared.publication), `confidential_requested`
    what the citizen chose (None: no choice)."""
    event = TicketSubmitted(
        kind=kind.value,
        category=category,
        kecamatan=location.kecamatan,
        confidential=confidential,
        has_contact=bool(reporter and reporter.has_contact()),
        submitted_at=now,
        synthetic=synthetic,
    ).envelope(ticket_id=tracking_code, producer=PRODUCER, correlation_id=correlation_id)
    ticket = Ticket.model_validate(
        {
            "tracking_code": tracking_code,
            "status": TicketStatus.SUBMITTED,
            "kind": kind,
            "title": title,
            "description": description,
            "category": category,
            "location": location,
            "reporter": reporter,
            "anonymous": anonymous,
            "confidential": confidential,
            "confidential_requested": confidential_requested,
            "reply_token_hash": hash_reply_token(reply_token),
            "submitted_at": now,
            "updated_at": now,
            "correlation_id": correlation_id,
            "synthetic": synthetic,
            "history": [
                Step(
                    at=now,
                    actor=CITIZEN,
                    action="submit",
                    from_status=None,
                    to_status=TicketStatus.SUBMITTED,
                    note="Laporan diterima.",
                ).entry()
            ],
            "outbox": [outbox_entry(event)],
            "search_tokens": search_tokens(title, description),
        }
    )
    return ticket, event


def public_view(ticket: Ticket, catalogue: Catalogue, *, is_reporter: bool) -> TrackedComplaint:
    """The tracking view under the publication policy (shared.publication): before
    verification, once rejected, or when confidential or hidden, only status, OPD and dates;
    the reporter with their token sees everything."""
    opd = catalogue.opd(ticket.opd) if ticket.opd else None
    view = TrackedComplaint(
        tracking_code=ticket.tracking_code,
        status=ticket.status,
        opd=OpdNamed(code=opd.code, name=opd.name) if opd else None,
        submitted_at=ticket.submitted_at,
        updated_at=ticket.updated_at,
        due_at=ticket.due_at,
    )
    if not publication.shows_content(ticket) and not is_reporter:
        return view
    content = ComplaintContent(
        kind=ticket.kind,
        category=ticket.category,
        public_text=publication.public_text(ticket),
        timeline=tuple(
            TimelineItem(
                at=h.at,
                status=h.to_status,
                note=h.note if is_reporter else publication.public_note(h.note),
            )
            for h in ticket.history
            if h.public or is_reporter
        ),
        replies=public_replies(ticket, catalogue, redacted=not is_reporter),
        photos=tuple(
            PhotoAdded(
                id=p.id,
                content_type=p.content_type,
                size=p.size,
                url=f"/api/v1/complaints/{ticket.tracking_code}/photos/{p.id}",
            )
            for p in ticket.photos
        ),
    )
    mine = None
    if is_reporter:
        mine = ReporterDetails(
            title=ticket.title,
            description=ticket.description,
            location=ticket.location,
            reporter=ticket.reporter,
            rating=ticket.rating,
            publication=PublicationShown(
                exposure=publication.exposure(ticket).value, text=publication.draft_text(ticket)
            ),
        )
    return dataclasses.replace(view, content=content, mine=mine)


def duplicate_key(
    description: str, reporter: Reporter | None, client: str, *, anonymous: bool = False
) -> str:
    """Same words from the same reporter (their contact, else their address) give the same key.

    Anonymous and named complaints never share a key: an anonymous resend linked to the
    named ticket as its duplicate would show officers who sent it.
    """
    words = " ".join(description.lower().split())
    who = (reporter.email or reporter.phone) if reporter else None
    kind = "anonymous" if anonymous else "named"
    return hashlib.sha256(f"{kind}\n{who or client}\n{words}".encode()).hexdigest()


class FollowUpRefused(Exception):
    """The action is not allowed in the ticket's current state (HTTP 409)."""


class FollowUpInvalid(Exception):
    """The action lacks something it needs (HTTP 422)."""


def _comment(body: str, now: datetime) -> dict[str, Any]:
    return Comment(
        id=uuid.uuid4().hex, at=now, author=CITIZEN, body=body, public=False
    ).model_dump()


def citizen_follow_up(
    ticket: Ticket,
    *,
    action: str,
    message: str | None,
    now: datetime,
    calendar: WorkCalendar,
    resolution_working_days: int,
) -> Change:
    """The reporter's `info`, `confirm` or `dispute`, as the lifecycle's table allows them.

    A dispute reopens the ticket toward a new resolution deadline of
    `resolution_working_days` (the category's, as an admin's reopen: `sla.resolution_days`)."""
    status = ticket.status
    to: TicketStatus
    if action == "info":
        if status in FINAL_STATUSES:
            raise FollowUpRefused("Laporan sudah ditutup. (The ticket is closed.)")
        if not message:
            raise FollowUpInvalid("message")
        to, note = status, "Pelapor menambahkan informasi."
    elif action == "confirm":
        if not allows(CitizenAction.CONFIRM, status):
            raise FollowUpRefused(
                "Hanya laporan yang sudah diselesaikan dapat dikonfirmasi. "
                "(Only a resolved ticket can be confirmed.)"
            )
        to, note = TABLE[CitizenAction.CONFIRM].target, "Pelapor menerima penyelesaian."
    elif action == "dispute":
        if not allows(CitizenAction.DISPUTE, status) or ticket.resolved_at is None:
            raise FollowUpRefused(
                "Hanya penyelesaian yang dapat ditolak. (Only a resolution can be disputed.)"
            )
        if not sla.may_dispute(ticket.resolved_at, now, calendar):
            raise FollowUpRefused(
                f"Batas {sla.CLOSE_AFTER_WORKING_DAYS} hari kerja untuk menolak penyelesaian "
                f"sudah lewat. (The {sla.CLOSE_AFTER_WORKING_DAYS} working days to dispute "
                "have passed.)"
            )
        if not message:
            raise FollowUpInvalid("message")
        to = TABLE[CitizenAction.DISPUTE].target
        note = "Pelapor menolak penyelesaian; laporan dibuka kembali."
    else:
        raise FollowUpInvalid("action")
    # Reopened: the OPD works toward a new resolution deadline, escalated if missed.
    due = (
        sla.resolution_due(now, calendar, days=resolution_working_days)
        if action == "dispute"
        else None
    )
    event = CitizenReplied(
        action=action,
        from_status=status,
        to_status=to,
        opd=ticket.opd,
        due_at=due,
        submitted_at=ticket.submitted_at,
    )
    fields: dict[str, Any] = {"status": to.value, "updated_at": now}
    if action == "dispute":
        fields.update(due_at=due, escalated_for=None, reminded_for=None)
    named = {"confirm": CitizenAction.CONFIRM, "dispute": CitizenAction.DISPUTE}.get(action)
    step = Step(
        at=now,
        actor=CITIZEN,
        action=recorded_as(named) if named else f"citizen_{action}",
        from_status=status,
        to_status=to,
        note=note,
    )
    return change(
        ticket,
        producer=PRODUCER,
        fields=fields,
        step=step,
        events=[event],
        push={"comments": [_comment(message, now)]} if message else None,
    )


def rating(ticket: Ticket, *, score: int, comment: str | None, now: datetime) -> Change:
    if ticket.status not in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
        raise FollowUpRefused(
            "Penilaian dapat diberikan setelah laporan diselesaikan. "
            "(Rate after the ticket is resolved.)"
        )
    if ticket.rating is not None:
        raise FollowUpRefused("Laporan ini sudah dinilai. (Already rated.)")
    event = TicketRated(score=score, opd=ticket.opd, submitted_at=ticket.submitted_at)
    fields = {
        "rating": Rating(score=score, comment=comment, at=now).model_dump(),
        "updated_at": now,
    }
    return change(ticket, producer=PRODUCER, fields=fields, events=[event])


def opd_choice(ticket: Ticket, *, opd: str | None, now: datetime) -> Change:
    """The reporter answers routing's choice question (a chat ticket it was unsure of): one of
    the candidates, or None for "lainnya". Routing then routes the ticket."""
    question = ticket.routing_question
    if ticket.status is not TicketStatus.SUBMITTED or question is None:
        raise FollowUpRefused("Laporan sudah diteruskan. (The ticket was routed already.)")
    if ticket.routing_choice is not None:
        raise FollowUpRefused("Pilihan sudah dicatat. (The choice was made already.)")
    if opd is not None and opd not in {c.opd for c in question.candidates}:
        raise FollowUpInvalid("opd")
    fields = {"routing_choice": RoutingChoice(opd=opd, at=now).model_dump(), "updated_at": now}
    return change(ticket, producer=PRODUCER, fields=fields, events=[OpdChosen(opd=opd)])


def public_replies(
    ticket: Ticket, catalogue: Catalogue, *, redacted: bool = True
) -> tuple[PublicAnswer, ...]:
    """The OPD's public answers: resolution notes and public comments, oldest first; redacted
    for the public (an answer may quote the reporter)."""
    opd = catalogue.opd(ticket.opd) if ticket.opd else None
    by = opd.name if opd else "Admin Layanan Pengaduan"

    def shown(text: str) -> str:
        return publication.redact(text) if redacted and text else text

    replies = [
        PublicAnswer(at=h.at, by=by, message=shown(h.note))
        for h in ticket.history
        if h.action == "resolve" and h.public and h.note
    ]
    replies += [
        PublicAnswer(at=c.at, by=by, message=shown(c.body))
        for c in ticket.comments
        if c.public and c.author != CITIZEN
    ]
    return tuple(sorted(replies, key=lambda r: str(r.at)))
