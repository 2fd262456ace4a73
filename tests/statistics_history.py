"""A generated history of tickets for the statistics tests: the events the services would
publish, and, kept apart while generating, what each ticket really went through.

The expected figures are computed from that record with plain sorting and counting, not
with the projection's code, so the tests compare two independent computations.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.events import (
    CitizenReplied,
    Envelope,
    EventPayload,
    TicketCommented,
    TicketDueSoon,
    TicketEscalated,
    TicketRated,
    TicketRouted,
    TicketSubmitted,
    TicketTransitioned,
    TicketTriaged,
)
from shared.statistics import figures
from shared.statistics.figures import Figures, Selection
from shared.workdays import JAKARTA, WorkCalendar

CALENDAR = WorkCalendar()
START = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)
SPAN = timedelta(days=165)  # submissions over five and a half months
AFTER = timedelta(days=7)  # the history ends a week after the last submission
CATEGORIES = {
    "jalan-rusak": "DPUPR",
    "drainase": "DPUPR",
    "sampah": "DLH",
    "penerangan-jalan-umum": "DISHUB",
    "bansos-pkh": "DINSOS",
    "ktp-el": "DISDUKCAPIL",
    "pungli-penyimpangan": "INSPEKTORAT",
    None: "DPMD",
}
OPDS = sorted({*CATEGORIES.values(), "DISKOMINFOSATIK", "BPBD"})
KECAMATAN = [None, "KEC-CIRUAS", "KEC-KRAGILAN", "KEC-ANYAR", "KEC-PONTANG", "KEC-BAROS"]
PAUSED = {"waiting_citizen", "waiting_third_party"}
OPEN = {"submitted", "triage", "routed", "verified", "in_progress", *PAUSED}


@dataclass
class Truth:
    """What happened to one ticket, recorded while its events were made."""

    code: str
    submitted_at: datetime
    category: str | None
    kecamatan: str | None
    confidential: bool
    status: str = "submitted"
    opd: str = "TRIASE"
    routed_via: str | None = None
    transferred: bool = False
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    on_time: bool | None = None
    reopened: bool = False
    overdue: bool = False
    rating: int | None = None

    @property
    def month(self) -> str:
        return self.submitted_at.astimezone(JAKARTA).strftime("%Y-%m")


@dataclass
class History:
    events: list[Envelope] = field(default_factory=list)
    truths: list[Truth] = field(default_factory=list)


class _Ticket:
    """One ticket's life: a clock, the deadline in force, and the events so far."""

    def __init__(
        self, rng: random.Random, code: str, history: History, start: datetime, now: datetime
    ) -> None:
        self.rng, self.code, self.history, self.now = rng, code, history, now
        category = rng.choice(list(CATEGORIES))
        self.truth = Truth(
            code=code,
            submitted_at=start
            + timedelta(minutes=rng.randrange(0, int(SPAN.total_seconds() // 60))),
            category=category,
            kecamatan=rng.choice(KECAMATAN),
            confidential=category == "pungli-penyimpangan" or rng.random() < 0.08,
        )
        self.at = self.truth.submitted_at
        self.due: datetime | None = None
        self.escalated_for: datetime | None = None
        self.slow = rng.random() < 0.2  # some OPDs take far longer, past their deadlines

    # -- the clock and the deadline scheduler --
    def later(self, working_days: float) -> datetime | None:
        """The time after a wait; None when it would be after `now` (the history ends there)."""
        hours = max(0.2, working_days * 24 * self.rng.uniform(0.6, 1.5) * (3 if self.slow else 1))
        moment = self.at + timedelta(hours=hours)
        return moment if moment < self.now else None

    def advance(self, moment: datetime | None) -> bool:
        """Move the clock; the scheduler escalates a deadline passed meanwhile (once)."""
        until = moment or self.now
        if (
            self.due is not None
            and self.truth.status in OPEN
            and self.due + timedelta(minutes=1) < until
            and self.escalated_for != self.due
        ):
            self.emit(
                TicketEscalated(
                    opd=None if self.truth.opd == "TRIASE" else self.truth.opd,
                    status=self.truth.status,
                    due_at=self.due,
                ),
                at=self.due + timedelta(minutes=1),
            )
            self.escalated_for = self.due
            self.truth.overdue = True
        if moment is None:
            return False
        self.at = moment
        return True

    def emit(self, payload: EventPayload, *, at: datetime | None = None) -> None:
        moment = at or self.at
        payload = payload.model_copy(update={"submitted_at": self.truth.submitted_at})
        envelope = payload.envelope(ticket_id=self.code, producer="test", correlation_id="c")
        self.history.events.append(envelope.model_copy(update={"occurred_at": moment}))

    def set_due(self, working_days: int | None) -> None:
        self.due = (
            None if working_days is None else CALENDAR.add_working_days(self.at, working_days)
        )
        self.truth.overdue = False

    def transition(self, action: str, to: str, *, opd: str | None, due_days: int | None) -> None:
        if action == "resolve" and self.truth.resolved_at is None:
            self.truth.resolved_at = self.at
            self.truth.on_time = self.due is None or self.at <= self.due
        from_status = self.truth.status
        if action != "start":
            self.set_due(due_days)
        self.emit(
            TicketTransitioned(
                action=action,
                from_status=from_status,
                to_status=to,
                opd=opd,
                actor_role="system" if action == "close" else "officer",
                due_at=self.due,
            )
        )
        self.truth.status = to
        self.truth.opd = opd or "TRIASE"
        if action in ("verify", "resolve", "reject") and self.truth.first_response_at is None:
            self.truth.first_response_at = self.at
        if action == "reopen" and self.truth.resolved_at is not None:
            self.truth.reopened = True

    # -- the lifecycle --
    def live(self) -> None:
        truth, rng = self.truth, self.rng
        self.emit(
            TicketSubmitted(
                kind="complaint",
                category=truth.category,
                kecamatan=truth.kecamatan,
                confidential=truth.confidential,
            )
        )
        if not self.advance(self.later(0.05)):
            return
        opd = CATEGORIES[truth.category]
        if rng.random() < 0.75:
            self.set_due(5)
            self.emit(
                TicketRouted(opd=opd, status="routed", confidence=0.9, model="m", due_at=self.due)
            )
            truth.status, truth.opd, truth.routed_via = "routed", opd, "auto"
        else:
            self.set_due(3)
            self.emit(
                TicketTriaged(
                    opd="TRIASE", status="triage", confidence=0.3, model="m", due_at=self.due
                )
            )
            truth.status, truth.opd = "triage", "TRIASE"
            if not self.advance(self.later(rng.uniform(0.5, 5))):
                return
            if rng.random() < 0.12:
                self.transition("reject", "rejected", opd=None, due_days=None)
                return
            self.transition("transfer", "routed", opd=opd, due_days=5)
            truth.routed_via = "triage"
        self.handle_at_opd()

    def handle_at_opd(self) -> None:
        truth, rng = self.truth, self.rng
        if rng.random() < 0.1:
            if not self.advance(self.later(rng.uniform(0.5, 3))):
                return
            self.transition("transfer", "routed", opd=rng.choice(OPDS), due_days=5)
            truth.transferred = True
        if rng.random() < 0.15:
            if not self.advance(self.later(rng.uniform(0.2, 2))):
                return
            self.emit(TicketCommented(comment_id=f"c-{self.code}", public=True, body="Kami cek."))
            truth.first_response_at = truth.first_response_at or self.at
        if rng.random() < 0.1:  # an internal note is no response
            self.emit(TicketCommented(comment_id=f"i-{self.code}", public=False))
        if not self.advance(self.later(rng.uniform(0.3, 9))):
            return
        if rng.random() < 0.06:
            self.transition("reject", "rejected", opd=truth.opd, due_days=None)
            return
        self.transition("verify", "verified", opd=truth.opd, due_days=14)
        if rng.random() < 0.5:
            if not self.advance(self.later(rng.uniform(0.2, 2))):
                return
            self.transition("start", "in_progress", opd=truth.opd, due_days=None)
        if rng.random() < 0.2 and not self.wait():
            return
        self.resolve_and_after()

    def wait(self) -> bool:
        """Wait for the reporter or another party: the deadline pauses (no escalation), and
        resumes moved on by the working days waited, or the answer comes from the wait.
        False when the history ends while waiting."""
        truth, rng = self.truth, self.rng
        if not self.advance(self.later(rng.uniform(0.2, 2))):
            return False
        action, to = rng.choice(
            [("wait_citizen", "waiting_citizen"), ("wait_third_party", "waiting_third_party")]
        )
        kept, since = self.due, self.at
        self.emit(
            TicketTransitioned(
                action=action, from_status=truth.status, to_status=to, opd=truth.opd, due_at=None
            )
        )
        truth.status, self.due = to, None
        if not self.advance(self.later(rng.uniform(0.5, 6))):
            return False
        if rng.random() < 0.6:
            waited = CALENDAR.working_days_between(since, self.at)
            self.due = None if kept is None else CALENDAR.add_working_days(kept, waited)
            self.emit(
                TicketTransitioned(
                    action="resume",
                    from_status=to,
                    to_status="in_progress",
                    opd=truth.opd,
                    due_at=self.due,
                )
            )
            truth.status = "in_progress"
        return True

    def resolve_and_after(self, rounds: int = 0) -> None:
        truth, rng = self.truth, self.rng
        if not self.advance(self.later(rng.uniform(1, 22))):
            return
        self.transition("resolve", "resolved", opd=truth.opd, due_days=None)
        if truth.rating is None and rng.random() < 0.45:  # once per ticket
            truth.rating = rng.randint(1, 5)
            self.emit(
                TicketRated(score=truth.rating, opd=truth.opd), at=self.at + timedelta(minutes=30)
            )
        if not self.advance(self.later(rng.uniform(0.5, 9))):
            return
        choice = rng.random()
        if choice < 0.3:
            self.emit(CitizenReplied(action="confirm", from_status="resolved", to_status="closed"))
            truth.status = "closed"
        elif choice < 0.42 and rounds == 0:
            self.set_due(14)
            self.emit(
                CitizenReplied(
                    action="dispute",
                    from_status="resolved",
                    to_status="in_progress",
                    due_at=self.due,
                )
            )
            truth.status, truth.reopened = "in_progress", True
            self.resolve_and_after(rounds + 1)
        elif choice < 0.47 and rounds == 0:
            self.transition("reopen", "in_progress", opd=truth.opd, due_days=14)
            self.resolve_and_after(rounds + 1)
        else:
            closing = CALENDAR.add_working_days(self.at, 10)
            if self.advance(closing if closing < self.now else None):
                self.transition("close", "closed", opd=truth.opd, due_days=None)

    def finish(self) -> None:
        self.advance(None)  # the scheduler runs until now
        # a reminder means nothing to the statistics, but it is on the topic
        if self.due is not None and self.truth.status in OPEN and self.due > self.now:
            self.emit(
                TicketDueSoon(opd=self.truth.opd, status=self.truth.status, due_at=self.due),
                at=self.now,
            )


def generate(tickets: int, *, seed: int = 12, start: datetime = START) -> History:
    """`tickets` tickets submitted over five and a half months from `start`, each with its
    events in time order, the history ending a week after the last submission."""
    rng = random.Random(seed)
    history = History()
    now = start + SPAN + AFTER
    for number in range(tickets):
        ticket = _Ticket(rng, f"LP-T{number:03d}-{seed:04d}", history, start, now)
        ticket.live()
        ticket.finish()
        history.truths.append(ticket.truth)
    return history


# -- the figures expected, computed from the record --------------------------------------------


def _nearest_rank(values: list[int], p: float) -> int | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(p / 100 * len(ordered))) - 1]


def expected(truths: Iterable[Truth]) -> Figures:
    chosen = list(truths)
    first = [
        CALENDAR.working_days_between(t.submitted_at, t.first_response_at)
        for t in chosen
        if t.first_response_at
    ]
    resolution = [
        CALENDAR.working_days_between(t.submitted_at, t.resolved_at)
        for t in chosen
        if t.resolved_at
    ]
    answered = [t for t in chosen if t.resolved_at]
    rated = [t.rating for t in chosen if t.rating is not None]
    return Figures(
        received=len(chosen),
        routed_auto=sum(t.routed_via == "auto" for t in chosen),
        routed_triage=sum(t.routed_via == "triage" for t in chosen),
        resolved=sum(t.status in ("resolved", "closed") for t in chosen),
        rejected=sum(t.status == "rejected" for t in chosen),
        open=sum(t.status in OPEN for t in chosen),
        open_overdue=sum(t.status in OPEN and t.overdue for t in chosen),
        paused=sum(t.status in PAUSED for t in chosen),
        first_response_days_median=_nearest_rank(first, 50),
        first_response_days_p90=_nearest_rank(first, 90),
        resolution_days_median=_nearest_rank(resolution, 50),
        resolution_days_p90=_nearest_rank(resolution, 90),
        answered=len(answered),
        within_deadline=round(sum(bool(t.on_time) for t in answered) / len(answered), 4)
        if answered
        else None,
        reopen_rate=round(sum(t.reopened for t in answered) / len(answered), 4)
        if answered
        else None,
        satisfaction_mean=round(sum(rated) / len(rated), 2) if rated else None,
        ratings=len(rated),
    )


def expected_by(
    truths: Iterable[Truth], key: Callable[[Truth], tuple[Any, ...]]
) -> dict[tuple[Any, ...], Figures]:
    groups: dict[tuple[Any, ...], list[Truth]] = {}
    for truth in truths:
        groups.setdefault(key(truth), []).append(truth)
    return {k: expected(v) for k, v in groups.items()}


def differences(history: History, summaries: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Where the projected figures (the summaries) differ from the recomputation: every table
    of every month of the history, as {table: (projected, expected)}; empty when equal."""
    months = tuple(sorted({t.month for t in history.truths}))
    found = figures.statistics(summaries, Selection(months=months))
    by_month = expected_by(history.truths, lambda t: (t.month,))
    pairs = {
        "totals": (found.totals, expected(history.truths)),
        "by_month": (found.by_month, {m: by_month[(m,)] for m in months}),
        "by_opd_month": (
            found.by_opd_month,
            expected_by(history.truths, lambda t: (t.month, t.opd)),
        ),
        "by_category_kecamatan_month": (
            found.by_category_kecamatan_month,
            expected_by(history.truths, lambda t: (t.month, t.category, t.kecamatan)),
        ),
    }
    return {name: pair for name, pair in pairs.items() if pair[0] != pair[1]}


def partition_of(code: str, partitions: int = 6) -> int:
    """Events are keyed by ticket: one ticket's events share a partition and keep their order."""
    return sum(code.encode()) % partitions


def partitions(events: Iterable[Envelope], count: int = 6) -> list[list[Envelope]]:
    """The events as the topic holds them: per partition, each ticket's in time order."""
    parts: list[list[Envelope]] = [[] for _ in range(count)]
    for envelope in sorted(events, key=lambda e: e.occurred_at):
        parts[partition_of(envelope.ticket_id, count)].append(envelope)
    return parts
