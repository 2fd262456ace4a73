"""Routing's typed staff views map to the contract's JSON as the use cases' dicts did: the
ticket (`reporter` only where shown, `cluster` only in one ticket's view), a transition's
answer in and out of the caller's scope, a cluster's member results, and a 409's `ticket`."""

from __future__ import annotations

import dataclasses

import pytest

from services.routing import staff, workflow
from services.routing.schemas import TicketOut, page_body, ticket_body, transition_body
from services.routing.views import MemberResult, StaffTicket, TicketList, Transitioned
from shared.catalogue import packaged_catalogue
from shared.principals import Principal, Role
from shared.tickets import Reporter, TicketStatus
from tests.fakes import CODE, NOW, InMemoryTickets, a_ticket, routing_context

S = TicketStatus
OFFICER = Principal(username="dpupr", role=Role.OFFICER, opd="DPUPR")
CONTRACT = {
    "tracking_code", "status", "version", "kind", "category", "opd", "opd_name", "title",
    "description", "location", "routing", "due_at", "overdue", "submitted_at", "updated_at",
    "anonymous", "confidential", "possible_duplicate_of", "cluster_id", "weight", "assigned_to",
    "history", "comments", "photos", "rating", "source", "publication", "allowed_actions",
}  # fmt: skip


def _view(**fields: object) -> StaffTicket:
    photo = {"id": "p1", "content_type": "image/png", "size": 5, "uploaded_at": NOW}
    ticket = a_ticket(S.ROUTED, CODE, **{"photos": [photo], **fields})
    return staff.staff_view(ticket, OFFICER, packaged_catalogue())


def test_a_named_tickets_body_shows_its_reporter_an_anonymous_ones_does_not() -> None:
    named = ticket_body(_view(reporter=Reporter(name="Siti", phone="+6281234567890")))
    assert set(named) == CONTRACT | {"reporter"}
    assert named["reporter"] == {"name": "Siti", "email": None, "phone": "+6281234567890"}
    anonymous = _view(reporter=Reporter(name="Siti"), anonymous=True)
    assert anonymous.reporter is None and set(ticket_body(anonymous)) == CONTRACT
    assert named["photos"] == [
        {
            "id": "p1",
            "content_type": "image/png",
            "size": 5,
            "uploaded_at": NOW,
            "url": f"/api/v1/complaints/{CODE}/photos/p1",
        }
    ]
    assert named["opd_name"] == "Dinas Pekerjaan Umum dan Penataan Ruang"
    assert named["allowed_actions"] == ["transfer", "verify"]
    TicketOut.model_validate(named)  # the response model takes it as it took the dicts


def test_only_one_tickets_view_names_its_cluster() -> None:
    view = dataclasses.replace(_view(), cluster={"id": "K-1", "primary": CODE, "members": []})
    assert "cluster" not in ticket_body(view)
    assert ticket_body(view, with_cluster=True)["cluster"] == {
        "id": "K-1",
        "primary": CODE,
        "members": [],
    }
    assert ticket_body(_view(), with_cluster=True)["cluster"] is None
    assert page_body(TicketList(items=(view,), next_cursor="c2")) == {
        "items": [ticket_body(view)],
        "next_cursor": "c2",
    }


def test_a_transitions_body_out_of_scope_and_for_a_cluster() -> None:
    gone = Transitioned(tracking_code=CODE, status=S.ROUTED, version=2, opd="DLH", ticket=None)
    assert transition_body(gone) == {
        "tracking_code": CODE,
        "status": S.ROUTED,
        "version": 2,
        "opd": "DLH",
    }
    results = (
        MemberResult(tracking_code="LP-BBBB-BBBB", result="done", status=S.VERIFIED),
        MemberResult(tracking_code="LP-CCCC-CCCC", result="skipped", detail="tidak bisa"),
    )
    view = _view()
    done = dataclasses.replace(gone, ticket=view, cluster_results=results)
    assert transition_body(done) == {
        **ticket_body(view),
        "cluster_results": [
            {"tracking_code": "LP-BBBB-BBBB", "result": "done", "status": S.VERIFIED},
            {"tracking_code": "LP-CCCC-CCCC", "result": "skipped", "detail": "tidak bisa"},
        ],
    }


async def test_a_conflicts_body_carries_the_ticket_as_the_api_shows_it() -> None:
    tickets = InMemoryTickets(a_ticket(S.ROUTED))
    with pytest.raises(staff.TicketConflict) as caught:
        await staff.transition(
            routing_context(tickets), OFFICER, CODE, workflow.Request(workflow.Action.VERIFY),
            version=9,
        )  # fmt: skip
    assert caught.value.extra == {"ticket": ticket_body(caught.value.ticket)}
    assert caught.value.status_code == 409
