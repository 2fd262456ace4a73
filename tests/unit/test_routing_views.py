"""Routing's typed staff views map to the contract's JSON as the use cases' dicts did: the
ticket (`reporter` only where shown, `cluster` only in one ticket's view), a transition's
answer in and out of the caller's scope, a cluster's member results, a 409's `ticket`, a bulk
action's report, the breach forecast and an account."""

from __future__ import annotations

import dataclasses

import pytest

from services.routing import staff, workflow
from services.routing.accounts import public_account
from services.routing.forecast import AtRisk
from services.routing.schemas import (
    AccountOut,
    TicketOut,
    bulk_body,
    forecast_body,
    page_body,
    ticket_body,
    transcript_body,
    transition_body,
)
from services.routing.views import (
    AccountView,
    BreachForecast,
    BulkDone,
    BulkResult,
    ClusterView,
    MemberResult,
    StaffTicket,
    TicketList,
    TranscriptEntry,
    Transitioned,
)
from shared.catalogue import packaged_catalogue
from shared.tickets import Reporter, TicketStatus
from tests.fakes import CODE, NOW, OFFICER, InMemoryTickets, a_ticket, routing_context

S = TicketStatus
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
    cluster = ClusterView(
        id="K-1",
        primary=CODE,
        members=(CODE, "LP-BBBB-BBBB"),
        status="confirmed",
        proposed=("LP-CCCC-CCCC",),
        opd="DPUPR",
        created_at=NOW,
        updated_at=NOW,
    )
    view = dataclasses.replace(_view(), cluster=cluster)
    assert "cluster" not in ticket_body(view)
    assert ticket_body(view, with_cluster=True)["cluster"] == {
        "id": "K-1",
        "primary": CODE,
        "members": [CODE, "LP-BBBB-BBBB"],
        "status": "confirmed",
        "proposed": ["LP-CCCC-CCCC"],
        "opd": "DPUPR",
        "created_at": NOW,
        "updated_at": NOW,
    }
    TicketOut.model_validate(ticket_body(view, with_cluster=True))
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


def test_a_bulk_reports_body_names_each_tickets_result_as_before() -> None:
    done = BulkDone(
        action="verify",
        results=(
            BulkResult(tracking_code=CODE, result="done", status=S.VERIFIED, version=2),
            BulkResult(tracking_code="LP-BBBB-BBBB", result="conflict", detail="diubah", version=3),
            BulkResult(tracking_code="LP-CCCC-CCCC", result="not_found", detail="tidak ada"),
        ),
        counts={"done": 1, "conflict": 1, "not_found": 1},
    )
    assert bulk_body(done) == {
        "action": "verify",
        "results": [
            {"tracking_code": CODE, "result": "done", "status": S.VERIFIED, "version": 2},
            {"tracking_code": "LP-BBBB-BBBB", "result": "conflict", "detail": "diubah",
             "version": 3},
            {"tracking_code": "LP-CCCC-CCCC", "result": "not_found", "detail": "tidak ada",
             "version": None},
        ],
        "counts": {"done": 1, "conflict": 1, "not_found": 1},
    }  # fmt: skip


def test_the_forecasts_body_lists_the_tickets_at_risk() -> None:
    risky = AtRisk(tracking_code=CODE, due_at=NOW, expected_at=None)
    body = forecast_body(BreachForecast("DPUPR", 2, 10, 0.2, (risky,)))
    assert body == {
        "opd": "DPUPR",
        "resolved_recently": 2,
        "window_working_days": 10,
        "pace_per_working_day": 0.2,
        "at_risk": ({"tracking_code": CODE, "due_at": NOW, "expected_at": None},),
    }


def test_an_account_shows_its_profile_never_its_secrets() -> None:
    stored = {
        "_id": "dpupr",
        "role": "officer",
        "opd": "DPUPR",
        "password_hash": "$argon2id$...",
        "token_version": 4,
    }
    view = public_account(stored)
    assert view == AccountView(
        username="dpupr",
        role="officer",
        opd="DPUPR",
        full_name=None,
        email=None,
        whatsapp=None,
        notify_mode="immediate",
        active=True,
    )
    assert AccountOut.model_validate(view).model_dump(mode="json") == {
        "username": "dpupr",
        "role": "officer",
        "opd": "DPUPR",
        "full_name": None,
        "email": None,
        "whatsapp": None,
        "notify_mode": "immediate",
        "active": True,
    }


def test_a_transcripts_body_names_who_wrote_each_message_from() -> None:
    entries = (
        TranscriptEntry(at=NOW, sender="citizen", channel="whatsapp", text="jalan rusak"),
        TranscriptEntry(at=NOW, sender="notify", channel="whatsapp", text="Laporan", status="sent"),
    )
    assert transcript_body(entries) == {
        "items": [
            {
                "at": NOW,
                "from": "citizen",
                "channel": "whatsapp",
                "text": "jalan rusak",
                "status": None,
            },
            {
                "at": NOW,
                "from": "notify",
                "channel": "whatsapp",
                "text": "Laporan",
                "status": "sent",
            },
        ]
    }
