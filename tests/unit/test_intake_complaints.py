from __future__ import annotations

from datetime import UTC, datetime

from services.intake import complaints
from services.intake.views import PublicationShown
from shared.catalogue import packaged_catalogue
from shared.events import EventType
from shared.tickets import Kind, Location, Reporter, Ticket, TicketStatus

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def _ticket(*, confidential: bool = False, status: TicketStatus | None = None) -> Ticket:
    ticket, _ = complaints.new_ticket(
        tracking_code="LP-ABCD-EFGH",
        reply_token="secret-token",
        now=NOW,
        correlation_id="c1",
        kind=Kind.COMPLAINT,
        description="Lampu jalan mati sudah seminggu, kata Pak Darto (0812-3456-7890)",
        title="PJU mati",
        category=None,
        location=Location(kecamatan="KEC-CIRUAS"),
        reporter=Reporter(name="Siti", email="siti@example.com", phone="+6281234567890"),
        anonymous=False,
        confidential=confidential,
    )
    return ticket.model_copy(update={"status": status}) if status else ticket


def test_tracking_codes_use_only_unambiguous_characters() -> None:
    codes = {complaints.new_tracking_code("LP") for _ in range(500)}
    assert len(codes) == 500
    for code in codes:
        prefix, first, second = code.split("-")
        assert prefix == "LP" and len(first) == len(second) == 4
        assert not set(first + second) & set("01OILU")


def test_tracking_code_is_normalised_as_people_type_it() -> None:
    assert complaints.normalise_tracking_code(" lp abcd efgh ") == "LP-ABCD-EFGH"
    assert complaints.normalise_tracking_code("lpabcdefgh") == "LP-ABCD-EFGH"
    assert complaints.normalise_tracking_code("LP-ABCD-EFGH") == "LP-ABCD-EFGH"


def test_new_ticket_keeps_only_the_reply_token_hash_and_queues_its_event() -> None:
    ticket = _ticket()
    assert ticket.status is TicketStatus.SUBMITTED
    assert "secret-token" not in ticket.model_dump_json()
    assert complaints.reply_token_matches("secret-token", ticket)
    assert not complaints.reply_token_matches("wrong", ticket)
    [event] = ticket.outbox
    assert event["event_type"] == EventType.TICKET_SUBMITTED
    assert event["ticket_id"] == "LP-ABCD-EFGH"


def test_submitted_event_carries_no_personal_data() -> None:
    ticket = _ticket()
    text = str(ticket.outbox)
    for personal in ("Siti", "siti@example.com", "+6281234567890", "Lampu jalan"):
        assert personal not in text


def test_public_view_never_shows_the_reporter_and_redacts_the_text() -> None:
    verified = _ticket(status=TicketStatus.VERIFIED)
    view = complaints.public_view(verified, packaged_catalogue(), is_reporter=False)
    assert view.mine is None  # neither the reporter nor the description
    assert view.content is not None and view.content.timeline
    assert (
        view.content.public_text
        == "Lampu jalan mati sudah seminggu, kata Pak [nama] ([nomor telepon])"
    )


def test_unverified_and_rejected_tickets_show_only_status_opd_and_dates() -> None:
    for status in (TicketStatus.SUBMITTED, TicketStatus.ROUTED, TicketStatus.REJECTED):
        view = complaints.public_view(
            _ticket(status=status), packaged_catalogue(), is_reporter=False
        )
        assert (view.content, view.mine, view.supporters) == (None, None, None), status


def test_confidential_ticket_shows_status_only_to_the_public() -> None:
    confidential = _ticket(confidential=True, status=TicketStatus.IN_PROGRESS)
    view = complaints.public_view(confidential, packaged_catalogue(), is_reporter=False)
    assert (view.status, view.content, view.mine) == (TicketStatus.IN_PROGRESS, None, None)


def test_reporter_sees_the_whole_confidential_ticket() -> None:
    view = complaints.public_view(
        _ticket(confidential=True), packaged_catalogue(), is_reporter=True
    )
    assert view.mine is not None and view.content is not None
    assert view.mine.description == (
        "Lampu jalan mati sudah seminggu, kata Pak Darto (0812-3456-7890)"
    )
    assert view.mine.publication == PublicationShown(
        exposure="confidential",
        text="Lampu jalan mati sudah seminggu, kata Pak [nama] ([nomor telepon])",
    )
    assert view.mine.reporter == Reporter(
        name="Siti", email="siti@example.com", phone="+6281234567890"
    )
