"""Notify use cases: deliver an event's messages once each; list a ticket's deliveries."""

from __future__ import annotations

from collections.abc import Mapping

from services.notify import domain, metrics
from services.notify.channels import Channel
from services.notify.repository import DeliveryRepository, TicketContacts
from shared.events import Envelope, utcnow
from shared.mongo import Document


def _subject(envelope: Envelope) -> str:
    return f"[{envelope.ticket_id}] {envelope.event_type}"


async def deliver_event(
    *,
    envelope: Envelope,
    deliveries: DeliveryRepository,
    contacts: TicketContacts,
    channels: Mapping[str, Channel],
) -> int:
    """Send each (recipient, channel) message of the event unless already sent; returns sends."""
    email = await contacts.citizen_email(envelope.ticket_id)
    sent = 0
    for recipient in domain.recipients_for(envelope, citizen_email=email):
        key = domain.delivery_key(envelope, recipient)
        now = utcnow()
        record = await deliveries.claim(
            {
                "_id": key,
                "event_id": envelope.event_id,
                "event_type": envelope.event_type,
                "tracking_code": envelope.ticket_id,
                "recipient_kind": recipient.kind,
                "recipient": recipient.address,
                "channel": recipient.channel,
                "status": "pending",
                "attempts": 0,
                "created_at": now,
                "updated_at": now,
            }
        )
        if record["status"] == "sent":
            continue
        await channels[recipient.channel].send(
            delivery_key=key,
            address=recipient.address,
            subject=_subject(envelope),
            body=f"{envelope.event_type} {envelope.ticket_id}",
        )
        await deliveries.mark(key, status="sent", at=utcnow())
        metrics.NOTIFICATIONS.labels(recipient.channel, "sent").inc()
        sent += 1
    return sent


def public_record(record: Document) -> Document:
    """A delivery as the admin API shows it: contact masked."""
    return {
        "event_id": record["event_id"],
        "event_type": record["event_type"],
        "tracking_code": record["tracking_code"],
        "channel": record["channel"],
        "recipient": domain.mask(record["recipient"]),
        "recipient_kind": record.get("recipient_kind"),
        "status": record["status"],
        "attempts": record.get("attempts", 0),
        "created_at": record["created_at"],
        "updated_at": record.get("updated_at"),
        "sent_at": record.get("sent_at"),
    }
