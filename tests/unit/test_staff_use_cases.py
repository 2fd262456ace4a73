"""Routing's staff actions (services/routing/staff.py `transition`) on the in-memory stores of
tests/fakes.py: the table's rules per role and scope, stale versions and lost races as 409
with the current ticket, what a transfer teaches the model, and a cluster's one answer."""

from __future__ import annotations

import pytest

from services.routing import staff, throughput, workflow
from services.routing.throughput import BulkItem
from services.routing.views import Transitioned
from shared.errors import Forbidden, InvalidField, NotFound
from shared.events import EventType
from shared.principals import Principal, Role
from shared.tickets import TicketStatus
from tests.fakes import (
    ADMIN,
    AUDITOR,
    CODE,
    NOW,
    OFFICER,
    InMemoryClusters,
    InMemoryTickets,
    RecordedCorrections,
    a_ticket,
    routing_context,
)

S = TicketStatus
A = workflow.Action
OTHER_OFFICER = Principal(username="dlh", role=Role.OFFICER, opd="DLH")


async def _act(
    tickets: InMemoryTickets,
    request: workflow.Request,
    *,
    by: Principal = OFFICER,
    version: int | None = None,
) -> Transitioned:
    return await staff.transition(routing_context(tickets), by, CODE, request, version=version)


async def test_the_opds_officer_verifies_a_routed_ticket() -> None:
    tickets = InMemoryTickets(a_ticket(S.ROUTED))
    done = await _act(tickets, workflow.Request(A.VERIFY), version=1)
    assert (done.status, done.version) == (S.VERIFIED, 2)
    assert done.ticket is not None and done.ticket.version == 2 and done.cluster_results is None
    assert "start" in done.ticket.allowed_actions  # what the officer may do next
    stored = tickets.stored(CODE)
    [entry] = stored["history"]
    assert (entry["action"], entry["actor"], entry["from"], entry["to"]) == (
        "verify",
        "dpupr",
        "routed",
        "verified",
    )
    [event] = stored["outbox"]
    assert event["event_type"] == EventType.TICKET_TRANSITIONED and event["producer"] == "routing"


async def test_a_stale_version_is_a_conflict_with_the_ticket_as_it_is() -> None:
    tickets = InMemoryTickets(a_ticket(S.ROUTED))
    with pytest.raises(staff.TicketConflict) as caught:
        await _act(tickets, workflow.Request(A.VERIFY), version=7)
    assert caught.value.ticket.version == 1 == caught.value.extra["ticket"]["version"]
    assert tickets.writes == 0


async def test_a_race_lost_after_the_read_is_a_conflict_not_a_silent_retry() -> None:
    tickets = InMemoryTickets(a_ticket(S.ROUTED))
    tickets.interfere(CODE, 1)  # someone else wrote between the read and this write
    with pytest.raises(staff.TicketConflict) as caught:
        await _act(tickets, workflow.Request(A.VERIFY))
    # The current one, to decide again: typed for the console, in the body for the API.
    assert caught.value.ticket.version == 2 == caught.value.extra["ticket"]["version"]
    assert tickets.writes == 0


async def test_other_opds_do_not_see_the_ticket_and_auditors_change_nothing() -> None:
    tickets = InMemoryTickets(a_ticket(S.ROUTED))
    with pytest.raises(NotFound):  # never 403: that would reveal the ticket exists
        await _act(tickets, workflow.Request(A.VERIFY), by=OTHER_OFFICER)
    with pytest.raises(Forbidden):
        await _act(tickets, workflow.Request(A.VERIFY), by=AUDITOR)
    assert tickets.writes == 0


async def test_what_the_table_does_not_allow_or_lacks_what_it_needs_is_refused() -> None:
    tickets = InMemoryTickets(a_ticket(S.ROUTED))
    with pytest.raises(staff.TicketConflict) as caught:
        await _act(tickets, workflow.Request(A.START))  # verified first
    assert caught.value.ticket.status is S.ROUTED == caught.value.extra["ticket"]["status"]
    resolving = InMemoryTickets(a_ticket(S.IN_PROGRESS))
    with pytest.raises(InvalidField):
        await _act(resolving, workflow.Request(A.RESOLVE))  # the public answer is needed
    assert tickets.writes == resolving.writes == 0


async def test_a_transfer_leaves_the_officers_scope_and_teaches_the_model() -> None:
    tickets = InMemoryTickets(a_ticket(S.ROUTED))
    corrections = RecordedCorrections()
    ctx = routing_context(tickets, models=corrections)
    request = workflow.Request(A.TRANSFER, note="Ini soal sampah", to_opd="DLH")
    done = await staff.transition(ctx, OFFICER, CODE, request, version=None)
    # Out of the officer's scope now: only what they may still see of it.
    assert done == Transitioned(
        tracking_code=CODE, status=S.ROUTED, version=2, opd="DLH", ticket=None
    )
    assert corrections.examples == [(CODE, "DLH", "transfer", "dpupr")]


async def test_a_transition_on_a_clusters_primary_answers_every_open_member_once() -> None:
    codes = [CODE, "LP-BBBB-BBBB", "LP-CCCC-CCCC"]
    tickets = InMemoryTickets(
        a_ticket(S.IN_PROGRESS, codes[0]),
        a_ticket(S.IN_PROGRESS, codes[1]),
        a_ticket(S.ROUTED, codes[2]),  # not verified yet: resolve does not fit, skipped
    )
    ctx = routing_context(tickets, clusters=InMemoryClusters())
    assert ctx.clusters is not None
    await ctx.clusters.create(ADMIN, primary=codes[0], members=codes[1:], now=NOW)
    request = workflow.Request(A.RESOLVE, note="Jalan sudah ditambal")
    done = await staff.transition(ctx, OFFICER, CODE, request, version=None, cluster=True)
    assert done.status is S.RESOLVED and done.cluster_results is not None
    assert [(r.tracking_code, r.result, r.status) for r in done.cluster_results] == [
        (codes[1], "done", S.RESOLVED),
        (codes[2], "skipped", None),
    ]
    assert "resolve" in str(done.cluster_results[1].detail)  # why: not from `routed`
    answers = [tickets.stored(c)["outbox"][-1]["payload"]["cluster_answer"] for c in codes[:2]]
    assert answers[0] == answers[1] and answers[0]["members"] == codes[:2]
    assert tickets.stored(codes[2])["status"] == "routed" and not tickets.stored(codes[2]).get(
        "outbox"
    )


async def test_comments_are_kept_internal_or_public_and_auditors_add_none() -> None:
    tickets = InMemoryTickets(a_ticket(S.IN_PROGRESS))
    ctx = routing_context(tickets)
    internal = await staff.comment(ctx, OFFICER, CODE, body="Cek lokasi besok", public=False)
    public = await staff.comment(ctx, OFFICER, CODE, body="Tim sudah dijadwalkan", public=True)
    stored = tickets.stored(CODE)
    assert [(c["id"], c["public"]) for c in stored["comments"]] == [
        (internal.id, False),
        (public.id, True),
    ]
    payloads = [e["payload"] for e in stored["outbox"]]
    assert [p["body"] for p in payloads] == [None, "Tim sudah dijadwalkan"]  # internal: no text
    with pytest.raises(Forbidden):
        await staff.comment(ctx, AUDITOR, CODE, body="x", public=False)
    tickets.interfere(CODE, 2)  # a comment is added to the fresh ticket, not refused
    await staff.comment(ctx, OFFICER, CODE, body="Lagi", public=False)
    assert len(tickets.stored(CODE)["comments"]) == 3


async def test_hiding_the_public_text_is_recorded_internally_with_its_reason() -> None:
    tickets = InMemoryTickets(a_ticket(S.VERIFIED))
    view = await staff.set_publication(
        routing_context(tickets),
        OFFICER,
        CODE,
        text=None,
        hidden=True,
        reason="memuat data pribadi",
        version=1,
    )
    assert view.publication.hidden is True and view.publication.by == "dpupr"
    assert view.version == 2 and view.history[-1].action == "publication"
    [entry] = tickets.stored(CODE)["history"]
    assert entry["public"] is False and "memuat data pribadi" in entry["internal_note"]


async def test_a_bulk_action_reports_each_ticket_on_its_own() -> None:
    codes = [CODE, "LP-BBBB-BBBB", "LP-CCCC-CCCC", "LP-DDDD-DDDD"]
    tickets = InMemoryTickets(
        a_ticket(S.ROUTED, codes[0]),
        a_ticket(S.ROUTED, codes[1]),  # the caller saw an older version
        a_ticket(S.IN_PROGRESS, codes[2]),  # verified long ago
        a_ticket(S.ROUTED, codes[3], opd="DLH"),  # not the caller's
    )
    items = [BulkItem(codes[0], 1), BulkItem(codes[1], 0), BulkItem(codes[2]), BulkItem(codes[3])]
    done = await throughput.bulk(
        routing_context(tickets), OFFICER, action="verify", items=items, selection=None
    )
    assert [(r.tracking_code, r.result, r.status, r.version) for r in done.results] == [
        (codes[0], "done", S.VERIFIED, 2),
        (codes[1], "conflict", None, 1),  # the version it is at now, to try again
        (codes[2], "not_allowed", None, 1),
        (codes[3], "not_found", None, None),
    ]
    assert done.counts == {"done": 1, "conflict": 1, "not_allowed": 1, "not_found": 1}
    assert [tickets.stored(c)["status"] for c in codes] == [
        "verified",
        "routed",
        "in_progress",
        "routed",
    ]
