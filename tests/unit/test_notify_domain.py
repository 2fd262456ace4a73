from __future__ import annotations

import pytest

from services.notify import domain
from shared.events import Envelope, EventType


def _event(event_type: EventType, **payload: object) -> Envelope:
    return Envelope(
        event_type=event_type,
        ticket_id="LP-ABCD-EFGH",
        correlation_id="c",
        producer="test",
        payload=dict(payload),
    )


@pytest.mark.parametrize(
    ("address", "masked"),
    [
        ("warga@example.com", "w***@example.com"),
        ("+628123456789", "+62812****789"),
        ("opd:DPUPR", "opd:DPUPR"),
        ("123", "***"),
    ],
)
def test_contacts_are_masked(address: str, masked: str) -> None:
    assert domain.mask(address) == masked


def test_routed_ticket_reaches_the_opd_and_the_citizen() -> None:
    found = domain.recipients_for(
        _event(EventType.TICKET_ROUTED, opd="DLH"), citizen_email="a@example.com"
    )
    assert [(r.kind, r.address) for r in found] == [
        ("opd", "opd:DLH"),
        ("citizen", "a@example.com"),
    ]


def test_triaged_ticket_reaches_the_admin_queue() -> None:
    found = domain.recipients_for(
        _event(EventType.TICKET_TRIAGED, opd="TRIASE"), citizen_email=None
    )
    assert found == [domain.ADMIN_QUEUE]


def test_delivery_key_is_unique_per_event_recipient_and_channel() -> None:
    event = _event(EventType.TICKET_ROUTED, opd="DLH")
    a, b = domain.recipients_for(event, citizen_email="a@example.com")
    assert domain.delivery_key(event, a) != domain.delivery_key(event, b)
    assert domain.delivery_key(event, a) == domain.delivery_key(event, a)
