"""Notify's use cases for the admin API: a ticket's delivery log. The long-running parts live
by meaning: dispatch.py (sending, retries, dead letters), notifier.py (events and chat replies to
deliveries), digests.py (the daily digests) and previews.py (template previews)."""

from __future__ import annotations

from collections.abc import Sequence

from services.notify import recipients
from services.notify.recipients import Status
from services.notify.stores import TicketDeliveries, TicketDigests
from services.notify.views import DeliveryEntry, StatusChange
from shared.mongo import Document


def public_record(record: Document) -> DeliveryEntry:
    """A delivery as the admin API shows it: which message, contact masked, content left out."""
    return DeliveryEntry(
        event_id=record["event_id"],
        event_type=record["event_type"],
        message=record.get("template"),
        transition=StatusChange.stored(record.get("transition")),
        tracking_code=record["tracking_code"],
        channel=record["channel"],
        recipient=recipients.mask(record["recipient"]),
        recipient_kind=record.get("recipient_kind"),
        status=record["status"],
        attempts=record.get("attempts", 0),
        last_error=record.get("last_error"),
        created_at=record["created_at"],
        updated_at=record.get("updated_at"),
        sent_at=record.get("sent_at"),
        next_attempt_at=record.get("next_attempt_at"),
    )


def _digest_entry(item: Document, statuses: Sequence[str]) -> DeliveryEntry:
    status = recipients.digest_status(statuses) if item.get("digest_id") else Status.PENDING
    return DeliveryEntry(
        event_id=item["event_id"],
        event_type=item["event_type"],
        message=item.get("template"),
        transition=StatusChange.stored(item.get("transition")),
        tracking_code=item["tracking_code"],
        channel="digest",
        recipient=f"user:{item['username']}",
        recipient_kind="officer",
        status=status.value,
        attempts=0,
        last_error=None,
        created_at=item["created_at"],
        updated_at=None,
        sent_at=None,
        next_attempt_at=None,
    )


async def delivery_log(
    *, tracking_code: str, deliveries: TicketDeliveries, digests: TicketDigests
) -> list[DeliveryEntry]:
    """Every message of a ticket, including those waiting for (or sent in) a digest."""
    entries = [public_record(r) for r in await deliveries.for_ticket(tracking_code)]
    items = await digests.for_ticket(tracking_code)
    statuses = await deliveries.statuses_of_events(
        sorted({i["digest_id"] for i in items if i.get("digest_id")})
    )
    entries += [_digest_entry(i, statuses.get(i.get("digest_id") or "", [])) for i in items]
    return sorted(entries, key=lambda e: e.created_at)
