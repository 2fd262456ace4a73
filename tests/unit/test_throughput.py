"""Officers' throughput rules: who may assign, and canned answers' placeholders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.routing import forecast, throughput
from shared.auth import Principal, Role
from shared.catalogue import packaged_catalogue
from shared.tickets import Ticket
from shared.workdays import WorkCalendar
from tests.fakes import HEAD, OFFICER

NOW = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)


def _ticket(assigned_to: str | None = None, opd: str = "DPUPR") -> Ticket:
    return Ticket.model_validate(
        {
            "tracking_code": "LP-ABCD-EFGH",
            "status": "verified",
            "kind": "complaint",
            "description": "Jembatan ambrol",
            "reply_token_hash": "x",
            "submitted_at": NOW,
            "updated_at": NOW,
            "correlation_id": "c",
            "opd": opd,
            "due_at": datetime(2026, 12, 15, 17, 30, tzinfo=UTC),  # 16-12 in Jakarta
            "assigned_to": assigned_to,
        }
    )


@pytest.mark.parametrize(
    ("who", "assigned", "to", "may"),
    [
        (OFFICER, None, "dpupr", True),  # takes a free ticket
        (OFFICER, "dpupr", None, True),  # gives back their own
        (OFFICER, "dpupr.budi", "dpupr", False),  # cannot take a colleague's
        (OFFICER, None, "dpupr.budi", False),  # cannot hand out tickets
        (HEAD, "dpupr.budi", "dpupr", True),  # the supervisor reassigns
        (Principal(username="dlh-kepala", role=Role.SUPERVISOR, opd="DLH"), None, "x", False),
        (Principal(username="admin", role=Role.ADMIN), "a", "b", True),
        (Principal(username="auditor", role=Role.AUDITOR), None, None, False),
    ],
)
def test_who_may_assign(who: Principal, assigned: str | None, to: str | None, may: bool) -> None:
    assert throughput.may_assign(who, _ticket(assigned), to) is may


def test_canned_answer_placeholders_are_filled_and_other_braces_kept() -> None:
    body = "Laporan {kode} ditangani {opd}, paling lambat {tenggat}. {lainnya}"
    text = throughput.fill(body, _ticket(), packaged_catalogue())
    assert text == (
        "Laporan LP-ABCD-EFGH ditangani Dinas Pekerjaan Umum dan Penataan Ruang, paling lambat "
        "16-12-2026. {lainnya}"
    )
    no_due = _ticket().model_copy(update={"due_at": None})
    assert throughput.fill("{tenggat}", no_due, packaged_catalogue()) == "-"


def test_forecast_takes_the_open_tickets_as_a_queue_at_the_opds_pace() -> None:
    calendar = WorkCalendar(national=False)
    now = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)  # a Monday
    due = [
        ("LATE", now + timedelta(days=1)),  # first in line, due tomorrow
        ("SOON", now + timedelta(days=2)),
        ("FAR", now + timedelta(days=30)),
    ]
    # One a day: the first is done tomorrow, the second on Wednesday, both on time.
    assert forecast.at_risk(due, per_day=1.0, now=now, calendar=calendar) == []
    # One every two days: the first on Wednesday (late), the second on Friday (late).
    slow = forecast.at_risk(due, per_day=0.5, now=now, calendar=calendar)
    assert [(r.tracking_code, r.expected_at) for r in slow] == [
        ("LATE", now + timedelta(days=2)),
        ("SOON", now + timedelta(days=4)),
    ]
    # An overdue ticket is not forecast (it is escalated), but it still takes its turn first.
    behind = forecast.at_risk(
        [*due, ("OVERDUE", now - timedelta(days=1))], per_day=1.0, now=now, calendar=calendar
    )
    assert [r.tracking_code for r in behind] == ["LATE", "SOON"]
    stalled = forecast.at_risk(due, per_day=0.0, now=now, calendar=calendar)
    assert [r.tracking_code for r in stalled] == ["LATE", "SOON", "FAR"]
    assert all(r.expected_at is None for r in stalled)
    assert forecast.pace(5) == 0.5
