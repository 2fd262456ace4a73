"""Pure intake rules: tracking codes, reply tokens, the new ticket and its public view."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

from shared.catalogue import Catalogue
from shared.events import Envelope, TicketSubmitted
from shared.outbox import outbox_entry
from shared.tickets import Kind, Location, Reporter, Ticket, TicketStatus, history_entry

# No 0/O, 1/I/L or U: a code read aloud or typed on a phone cannot be mistaken.
TRACKING_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
TRACKING_LENGTH = 8
PRODUCER = "intake"


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
) -> tuple[Ticket, Envelope]:
    """The ticket as first stored, with its `submitted` event already in the outbox."""
    event = TicketSubmitted(
        kind=kind.value,
        category=category,
        kecamatan=location.kecamatan,
        confidential=confidential,
        has_contact=bool(reporter and reporter.has_contact()),
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
            "reply_token_hash": hash_reply_token(reply_token),
            "submitted_at": now,
            "updated_at": now,
            "correlation_id": correlation_id,
            "history": [
                history_entry(
                    at=now,
                    actor="warga",
                    action="submit",
                    from_status=None,
                    to_status=TicketStatus.SUBMITTED,
                    note="Laporan diterima.",
                )
            ],
            "outbox": [outbox_entry(event)],
        }
    )
    return ticket, event


def public_view(ticket: Ticket, catalogue: Catalogue, *, is_reporter: bool) -> dict[str, object]:
    """The public tracking view; confidential tickets show status only, unless to the reporter."""
    opd = catalogue.opd(ticket.opd) if ticket.opd else None
    view: dict[str, object] = {
        "tracking_code": ticket.tracking_code,
        "status": ticket.status,
        "opd": {"code": opd.code, "name": opd.name} if opd else None,
        "submitted_at": ticket.submitted_at,
        "updated_at": ticket.updated_at,
        "due_at": ticket.due_at,
    }
    if ticket.confidential and not is_reporter:
        return view
    view.update(
        kind=ticket.kind,
        category=ticket.category,
        timeline=[
            {"at": h.at, "status": h.to_status, "note": h.note}
            for h in ticket.history
            if h.public or is_reporter
        ],
        replies=[],
    )
    if is_reporter:
        view.update(
            title=ticket.title,
            description=ticket.description,
            location=ticket.location.model_dump(),
            reporter=ticket.reporter.model_dump() if ticket.reporter else None,
        )
    return view
