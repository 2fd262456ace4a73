"""What staff read (services/routing/staff.py `get_ticket`, `transcript`) and whose canned
answers they may read or change (throughput.py `canned_opd`), on the in-memory stores of
tests/fakes.py: scope as 404, the reporter left out of anonymous tickets, a ticket's cluster,
and a chat's transcript for chat tickets only."""

from __future__ import annotations

import pytest

from services.routing import staff, throughput
from services.routing.views import TranscriptEntry
from shared.errors import Forbidden, InvalidField, NotFound
from shared.principals import Principal, Role
from shared.tickets import TicketStatus
from tests.fakes import (
    ADMIN,
    AUDITOR,
    CODE,
    HEAD,
    NOW,
    OFFICER,
    InMemoryClusters,
    InMemoryTickets,
    InMemoryTranscripts,
    a_ticket,
    routing_context,
)

S = TicketStatus
DLH_OFFICER = Principal(username="dlh", role=Role.OFFICER, opd="DLH")
REPORTER = {"name": "Siti Aminah", "phone": "081234567890"}


async def test_the_opds_staff_read_the_ticket_and_its_reporter_however_the_code_is_typed() -> None:
    tickets = InMemoryTickets(a_ticket(S.VERIFIED, reporter=REPORTER))
    view = await staff.get_ticket(routing_context(tickets), OFFICER, f"  {CODE.lower()} ")
    assert view.tracking_code == CODE and view.status == S.VERIFIED
    assert view.reporter is not None and view.reporter.name == "Siti Aminah"
    assert view.cluster is None
    assert "start" in view.allowed_actions


async def test_an_anonymous_tickets_reporter_is_shown_to_nobody_not_even_an_admin() -> None:
    tickets = InMemoryTickets(a_ticket(S.VERIFIED, reporter=REPORTER, anonymous=True))
    view = await staff.get_ticket(routing_context(tickets), ADMIN, CODE)
    assert view.reporter is None


async def test_outside_the_callers_opd_a_ticket_does_not_exist() -> None:
    tickets = InMemoryTickets(a_ticket(S.VERIFIED))
    ctx = routing_context(tickets)
    with pytest.raises(NotFound):
        await staff.get_ticket(ctx, DLH_OFFICER, CODE)
    with pytest.raises(NotFound):
        await staff.get_ticket(ctx, OFFICER, "LP-NONE-0000")
    auditor_view = await staff.get_ticket(ctx, AUDITOR, CODE)  # auditors read every OPD's
    assert auditor_view.allowed_actions == ()  # and change nothing


async def test_a_clustered_ticket_shows_its_cluster() -> None:
    other = "LP-BBBB-BBBB"
    tickets = InMemoryTickets(a_ticket(S.IN_PROGRESS), a_ticket(S.IN_PROGRESS, other))
    ctx = routing_context(tickets, clusters=InMemoryClusters())
    assert ctx.clusters is not None
    await ctx.clusters.create(ADMIN, primary=CODE, members=[other], now=NOW)
    cluster = (await staff.get_ticket(ctx, OFFICER, other)).cluster
    assert cluster is not None
    assert (cluster.primary, cluster.members, cluster.status) == (CODE, (CODE, other), "confirmed")
    assert (await staff.get_ticket(ctx, OFFICER, CODE)).cluster == cluster


async def test_the_transcript_is_a_chat_tickets_own_and_in_scope_only() -> None:
    chat = [
        {"at": NOW, "from": "citizen", "channel": "whatsapp", "text": "jalan rusak"},
        {"at": NOW, "from": "chat", "channel": "whatsapp", "text": None},
        {"at": NOW, "from": "notify", "channel": "whatsapp", "text": "Diproses", "status": "sent"},
    ]
    transcripts = InMemoryTranscripts(**{CODE: chat, "LP-BBBB-BBBB": chat})
    tickets = InMemoryTickets(
        a_ticket(S.ROUTED, conversation_id="wa-1"), a_ticket(S.ROUTED, "LP-BBBB-BBBB")
    )
    ctx = routing_context(tickets)
    assert await staff.transcript(ctx, OFFICER, CODE, transcripts) == (
        TranscriptEntry(at=NOW, sender="citizen", channel="whatsapp", text="jalan rusak"),
        TranscriptEntry(at=NOW, sender="chat", channel="whatsapp", text=""),
        TranscriptEntry(
            at=NOW, sender="notify", channel="whatsapp", text="Diproses", status="sent"
        ),
    )
    # Filed on the web form: no conversation to show, whatever is stored under its code.
    assert await staff.transcript(ctx, OFFICER, "LP-BBBB-BBBB", transcripts) == ()
    with pytest.raises(NotFound):
        await staff.transcript(ctx, DLH_OFFICER, CODE, transcripts)


@pytest.mark.parametrize(
    ("who", "opd", "change", "expected"),
    [
        (OFFICER, None, False, "DPUPR"),  # their own OPD's
        (OFFICER, "dpupr", False, "DPUPR"),
        (HEAD, None, True, "DPUPR"),  # the supervisor manages them
        (ADMIN, "dlh", True, "DLH"),
        (AUDITOR, "dlh", False, "DLH"),
    ],
)
def test_whose_canned_answers_a_caller_reads_or_changes(
    who: Principal, opd: str | None, change: bool, expected: str
) -> None:
    assert throughput.canned_opd(who, opd, change=change) == expected


@pytest.mark.parametrize(
    ("who", "opd", "change", "refused"),
    [
        (OFFICER, None, True, Forbidden),  # officers use them, supervisors change them
        (OFFICER, "dlh", False, NotFound),  # another OPD's do not exist for them
        (AUDITOR, "dlh", True, Forbidden),
        (ADMIN, None, False, InvalidField),  # an admin names the OPD
    ],
)
def test_canned_answers_outside_a_callers_reach_are_refused(
    who: Principal, opd: str | None, change: bool, refused: type[Exception]
) -> None:
    with pytest.raises(refused):
        throughput.canned_opd(who, opd, change=change)
