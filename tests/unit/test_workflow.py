"""The transition table and the role x action x scope matrix, every cell."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.routing import workflow
from services.routing.workflow import Action
from shared.auth import Principal, Role
from shared.catalogue import packaged_catalogue
from shared.tickets import Ticket, TicketStatus
from shared.workdays import WorkCalendar

S = TicketStatus
NOW = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)  # a Thursday
CATALOGUE = packaged_catalogue()
CALENDAR = WorkCalendar()

# ARCHITECTURE.md's table: action -> (allowed sources, target).
EXPECTED = {
    Action.TRANSFER: ({S.TRIAGE, S.ROUTED, S.VERIFIED}, S.ROUTED),
    Action.VERIFY: ({S.ROUTED}, S.VERIFIED),
    Action.START: ({S.VERIFIED}, S.IN_PROGRESS),
    Action.RESOLVE: (
        {S.VERIFIED, S.IN_PROGRESS, S.WAITING_CITIZEN, S.WAITING_THIRD_PARTY},
        S.RESOLVED,
    ),
    Action.REJECT: ({S.TRIAGE, S.ROUTED, S.VERIFIED}, S.REJECTED),
    Action.CLOSE: ({S.RESOLVED}, S.CLOSED),
    Action.REOPEN: ({S.RESOLVED, S.CLOSED}, S.IN_PROGRESS),
    # Issue 14: waiting pauses the deadline.
    Action.WAIT_CITIZEN: ({S.VERIFIED, S.IN_PROGRESS, S.WAITING_THIRD_PARTY}, S.WAITING_CITIZEN),
    Action.WAIT_THIRD_PARTY: (
        {S.VERIFIED, S.IN_PROGRESS, S.WAITING_CITIZEN},
        S.WAITING_THIRD_PARTY,
    ),
    Action.RESUME: ({S.WAITING_CITIZEN, S.WAITING_THIRD_PARTY}, S.IN_PROGRESS),
}
FULL = {"note": "Sudah ditangani tim lapangan.", "to_opd": "DLH", "reason": "spam"}
ADMIN = Principal(username="admin", role=Role.ADMIN)
AUDITOR = Principal(username="auditor", role=Role.AUDITOR)


def _ticket(status: TicketStatus, opd: str | None = "DPUPR") -> Ticket:
    return Ticket.model_validate(
        {
            "tracking_code": "LP-ABCD-EFGH",
            "status": status,
            "kind": "complaint",
            "description": "Jalan rusak parah di depan sekolah",
            "reply_token_hash": "x",
            "submitted_at": NOW,
            "updated_at": NOW,
            "correlation_id": "c",
            "opd": None if status is S.TRIAGE else opd,
        }
    )


def _do(ticket: Ticket, action: Action, who: Principal, **fields: str) -> workflow.Change:
    return workflow.transition(
        ticket,
        workflow.Request(action=action, **fields),
        principal=who,
        now=NOW,
        catalogue=CATALOGUE,
        calendar=CALENDAR,
    )


@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("status", list(S))
def test_transition_table_every_cell(action: Action, status: TicketStatus) -> None:
    sources, target = EXPECTED[action]
    ticket = _ticket(status)
    fields = dict(FULL)
    if action is Action.TRANSFER and ticket.opd == "DLH":
        fields["to_opd"] = "DPUPR"
    if status in sources:
        change = _do(ticket, action, ADMIN, **fields)
        assert change.set_fields["status"] == target
        assert change.push["history"][0]["to"] == target
        assert change.push["outbox"][0]["event_type"] == "ticket.transitioned"
    else:
        with pytest.raises(workflow.NotAllowed):
            _do(ticket, action, ADMIN, **fields)


def _principal(role: Role, own: bool) -> Principal:
    if role in (Role.ADMIN, Role.AUDITOR):
        return Principal(username=role.value, role=role)
    return Principal(username="x", role=role, opd="DPUPR" if own else "DLH")


# Who may act on a ticket of their own OPD (admins on any; auditors never).
OPD_ROLES = {
    Action.TRANSFER: {Role.OFFICER, Role.SUPERVISOR},
    Action.VERIFY: {Role.OFFICER, Role.SUPERVISOR},
    Action.START: {Role.OFFICER, Role.SUPERVISOR},
    Action.RESOLVE: {Role.OFFICER, Role.SUPERVISOR},
    Action.REJECT: {Role.SUPERVISOR},
    Action.CLOSE: set(),
    Action.REOPEN: set(),
    Action.WAIT_CITIZEN: {Role.OFFICER, Role.SUPERVISOR},
    Action.WAIT_THIRD_PARTY: {Role.OFFICER, Role.SUPERVISOR},
    Action.RESUME: {Role.OFFICER, Role.SUPERVISOR},
}


@pytest.mark.parametrize("own", [True, False], ids=["own-opd", "other-opd"])
@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("role", list(Role))
def test_role_action_scope_matrix(role: Role, action: Action, own: bool) -> None:
    status = next(iter(sorted(EXPECTED[action][0])))
    ticket = _ticket(status if status is not S.TRIAGE else S.ROUTED)
    if ticket.status not in EXPECTED[action][0]:
        ticket = _ticket(sorted(EXPECTED[action][0] - {S.TRIAGE})[0])
    who = _principal(role, own)
    sees = role in (Role.ADMIN, Role.AUDITOR) or own
    assert workflow.can_see(who, ticket) is sees
    may = role is Role.ADMIN or (sees and role in OPD_ROLES[action])
    assert (action in workflow.allowed_actions(who, ticket)) is may
    if may:
        _do(ticket, action, who, **FULL)
    else:
        with pytest.raises(workflow.RoleNotAllowed):
            _do(ticket, action, who, **FULL)


def test_triage_tickets_are_the_admins_alone() -> None:
    ticket = _ticket(S.TRIAGE)
    for role in (Role.OFFICER, Role.SUPERVISOR):
        assert not workflow.can_see(Principal(username="x", role=role, opd="DPUPR"), ticket)
    assert workflow.allowed_actions(ADMIN, ticket) == [Action.TRANSFER, Action.REJECT]
    assert workflow.allowed_actions(AUDITOR, ticket) == []


@pytest.mark.parametrize(
    ("action", "missing"),
    [
        (Action.TRANSFER, "to_opd"),
        (Action.TRANSFER, "note"),
        (Action.RESOLVE, "note"),
        (Action.REJECT, "reason"),
        (Action.REJECT, "note"),
        (Action.REOPEN, "note"),
    ],
)
def test_required_fields(action: Action, missing: str) -> None:
    status = sorted(EXPECTED[action][0] - {S.TRIAGE})[0]
    fields = {k: v for k, v in FULL.items() if k != missing}
    with pytest.raises(workflow.Missing) as raised:
        _do(_ticket(status), action, ADMIN, **fields)
    assert raised.value.args[0] == missing


def test_unknown_reason_or_opd_is_refused() -> None:
    with pytest.raises(workflow.Missing):
        _do(_ticket(S.ROUTED), Action.REJECT, ADMIN, reason="boring", note="x")
    with pytest.raises(workflow.Missing):
        _do(_ticket(S.ROUTED), Action.TRANSFER, ADMIN, to_opd="NOPE", note="x")


def test_transfer_moves_the_ticket_and_sets_the_follow_up_deadline() -> None:
    change = _do(_ticket(S.VERIFIED), Action.TRANSFER, ADMIN, to_opd="DLH", note="salah OPD")
    assert change.set_fields["opd"] == "DLH"
    assert change.event is not None and change.event.from_opd == "DPUPR"
    assert change.set_fields["due_at"] == CALENDAR.add_working_days(NOW, 5)


def test_resolution_note_is_public_and_records_the_time() -> None:
    change = _do(_ticket(S.IN_PROGRESS), Action.RESOLVE, ADMIN, note="Jalan sudah ditambal.")
    assert change.set_fields["resolved_at"] == NOW and change.set_fields["due_at"] is None
    assert change.push["history"][0]["public"] is True
    assert change.event is not None and change.event.note == "Jalan sudah ditambal."


def test_verify_keeps_its_note_internal_and_sets_the_resolution_deadline() -> None:
    change = _do(_ticket(S.ROUTED), Action.VERIFY, ADMIN, note="cek lokasi dulu")
    entry = change.push["history"][0]
    assert entry["public"] is True and entry["note"] is None
    assert entry["internal_note"] == "cek lokasi dulu"
    assert change.set_fields["due_at"] == CALENDAR.add_working_days(NOW, 14)


def test_start_keeps_the_resolution_deadline() -> None:
    ticket = _ticket(S.VERIFIED).model_copy(update={"due_at": datetime(2026, 12, 16, tzinfo=UTC)})
    change = _do(ticket, Action.START, ADMIN)
    assert "due_at" not in change.set_fields
    assert change.event is not None and change.event.due_at == ticket.due_at


def test_a_category_can_set_its_own_resolution_deadline() -> None:
    catalogue = CATALOGUE.model_copy(
        update={
            "categories": tuple(
                c.model_copy(update={"resolution_working_days": 3})
                if c.code == "jalan-rusak"
                else c
                for c in CATALOGUE.categories
            )
        }
    )
    ticket = _ticket(S.ROUTED).model_copy(update={"category": "jalan-rusak"})
    change = workflow.transition(
        ticket,
        workflow.Request(action=Action.VERIFY),
        principal=ADMIN,
        now=NOW,
        catalogue=catalogue,
        calendar=CALENDAR,
    )
    assert change.set_fields["due_at"] == CALENDAR.add_working_days(NOW, 3)


def test_a_transfer_to_inspektorat_makes_the_ticket_confidential_unless_the_citizen_chose() -> None:
    ticket = _ticket(S.ROUTED)
    to_inspektorat = {"to_opd": "INSPEKTORAT", "note": "Pungli oleh petugas."}
    assert _do(ticket, Action.TRANSFER, ADMIN, **to_inspektorat).set_fields["confidential"]
    chose_public = ticket.model_copy(update={"confidential_requested": False})
    change = _do(chose_public, Action.TRANSFER, ADMIN, **to_inspektorat)
    assert change.set_fields["confidential"] is False
    assert _do(ticket, Action.TRANSFER, ADMIN, **FULL).set_fields["confidential"] is False
