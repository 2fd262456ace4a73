"""Routing use cases: route a submitted ticket, sign an officer in, seed dev accounts."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from services.routing import decisions, journey, metrics, workflow
from services.routing.classification import router
from services.routing.cluster_service import Clusters
from shared import metrics as shared_metrics
from shared import publication
from shared.auth import Principal, Role
from shared.catalogue import Catalogue
from shared.events import OpdChoiceAsked, TicketRouted, TicketTriaged, utcnow
from shared.lifecycle import actors, sla
from shared.lifecycle.changes import Change, Step, change
from shared.lifecycle.repository import ChangedMeanwhile, Tickets
from shared.lifecycle.table import SystemAction, check, recorded_as
from shared.tickets import ChoiceCandidate, RoutingQuestion, Ticket, TicketStatus
from shared.workdays import WorkCalendar

log = logging.getLogger(__name__)
PRODUCER = "routing"


DEFAULT_CHOICE_TIMEOUT = timedelta(minutes=60)


async def route_submitted_ticket(
    *,
    tracking_code: str,
    tickets: Tickets,
    catalogue: Catalogue,
    threshold: float,
    calendar: WorkCalendar,
    model: router.TextModel | None = None,
    choice_timeout: timedelta = DEFAULT_CHOICE_TIMEOUT,
    clusters: Clusters | None = None,
) -> bool:
    """Route a `submitted` ticket once; returns False when there was nothing to do (a replay).

    `model` is the text classifier; without one the router uses rules, category and location.
    A chat ticket the router is unsure of stays `submitted` while its citizen is asked to
    choose (`ticket.opd_choice_asked`); it is routed when they answered, or to triage after
    `choice_timeout`.
    A ticket routed to an OPD is compared with that OPD's recent ones (`clusters`): a match
    is proposed as a cluster of related tickets.
    """
    decided: list[Decision | None] = []  # the last attempt's decision (empty: no ticket)

    def decide(ticket: Ticket) -> Change | None:
        decided[:] = [
            _decide(
                ticket,
                catalogue=catalogue,
                threshold=threshold,
                calendar=calendar,
                model=model,
                choice_timeout=choice_timeout,
                now=utcnow(),
            )
        ]
        return decided[0].change if decided[0] else None

    try:
        updated = await tickets.apply(tracking_code, decide)
    except ChangedMeanwhile as exc:
        raise RuntimeError(f"ticket {tracking_code} kept changing while routing it") from exc
    if updated is None:
        if not decided:
            # The outbox writes the ticket before its event exists, so this is an event of
            # another database (or of a purged ticket): nothing to route.
            log.warning("ticket %s of a submitted event is not stored; skipped", tracking_code)
        return False
    decision = decided[0]
    assert decision is not None  # a change was written
    if decision.candidates:
        metrics.TICKETS_ROUTED.labels("asked").inc()
        log.info(
            "ticket %s: the citizen is asked to choose among %d",
            tracking_code,
            len(decision.candidates),
        )
        return True
    await _routed(tickets, updated, decision, catalogue=catalogue, calendar=calendar)
    if clusters is not None and not updated.synthetic:
        await clusters.propose(updated, decision.at)
    return True


@dataclass(frozen=True)
class Decision:
    """What routing decided for a ticket as read: ask the citizen to choose among
    `candidates`, or route it by `result`; `change` writes it."""

    ticket: Ticket
    result: router.Classification
    change: Change
    at: datetime
    candidates: list[router.Candidate] = field(default_factory=list)


def _decide(
    ticket: Ticket,
    *,
    catalogue: Catalogue,
    threshold: float,
    calendar: WorkCalendar,
    model: router.TextModel | None,
    choice_timeout: timedelta,
    now: datetime,
) -> Decision | None:
    """The decision for a `submitted` ticket; None when there is nothing to do (routed
    already, or the citizen may still answer the question asked)."""
    if ticket.status is not TicketStatus.SUBMITTED:
        return None
    question = ticket.routing_question
    if question is not None:
        if decisions.choice_pending(ticket, now, timeout=choice_timeout):
            return None
        names = {o.code: o.name for o in catalogue.opds}
        result = decisions.decision_after_choice(
            question, ticket.routing_choice, names=names, timeout=choice_timeout
        )
    else:
        result = router.classify(
            text=router.complaint_text(ticket.title, ticket.description),
            category=ticket.category,
            kecamatan=ticket.location.kecamatan,
            desa=ticket.location.desa,
            catalogue=catalogue,
            threshold=threshold,
            model=model,
        )
        candidates = decisions.choice_candidates(result, ticket)
        if candidates:
            made = _question(ticket, result, candidates, now)
            return Decision(ticket, result, made, now, candidates)
    made = _routing(ticket, result, catalogue=catalogue, calendar=calendar, now=now)
    return Decision(ticket, result, made, now)


def _question(
    ticket: Ticket,
    result: router.Classification,
    candidates: list[router.Candidate],
    now: datetime,
) -> Change:
    """Keep the unsure decision on the ticket and ask the chat's citizen to choose."""
    question = RoutingQuestion(
        candidates=[ChoiceCandidate(opd=c.opd, confidence=c.confidence) for c in candidates],
        asked_at=now,
        confidence=result.confidence,
        reasons=result.reasons,
        model=result.model,
    )
    return change(
        ticket,
        producer=PRODUCER,
        fields={"routing_question": question.model_dump(), "updated_at": now},
        events=[OpdChoiceAsked(candidates=[c.opd for c in candidates])],
    )


def _routing(
    ticket: Ticket,
    result: router.Classification,
    *,
    catalogue: Catalogue,
    calendar: WorkCalendar,
    now: datetime,
) -> Change:
    """The routing step: status, OPD, deadline, history entry and event."""
    status = decisions.status_after_routing(result)
    routing = SystemAction.ROUTE if status is TicketStatus.ROUTED else SystemAction.TRIAGE
    rule = check(routing, actors.ROUTER, status=ticket.status, opd=ticket.opd)
    due_at = sla.due_after_routing(
        status, submitted_at=ticket.submitted_at, routed_at=now, calendar=calendar
    )
    payload_type = TicketRouted if status is TicketStatus.ROUTED else TicketTriaged
    event = payload_type(
        opd=result.opd,
        status=status.value,
        confidence=result.confidence,
        model=result.model,
        due_at=due_at,
        submitted_at=ticket.submitted_at,
    )
    opd = catalogue.opd(result.opd)
    note = (
        f"Diteruskan ke {opd.name}."
        if opd is not None
        else "Menunggu penelaahan admin koordinator."
    )
    opd_code = result.opd if status is TicketStatus.ROUTED else None
    fields = {
        "status": rule.target.value,
        "opd": opd_code,
        "confidential": publication.confidential_when_assigned(
            requested=ticket.confidential_requested,
            current=ticket.confidential,
            opd=opd_code,
        ),
        "routing": {
            "opd": result.opd,
            "confidence": result.confidence,
            "reasons": result.reasons,
            "model": result.model,
            "alternatives": [
                {"opd": a.opd, "confidence": a.confidence} for a in result.alternatives
            ],
        },
        "due_at": due_at,
        "updated_at": now,
    }
    step = Step(
        at=now,
        actor=actors.ROUTER.name,
        action=recorded_as(routing),
        from_status=ticket.status,
        to_status=rule.target,
        note=note,
    )
    return change(ticket, producer=PRODUCER, fields=fields, step=step, events=[event])


async def _routed(
    tickets: Tickets,
    updated: Ticket,
    decision: Decision,
    *,
    catalogue: Catalogue,
    calendar: WorkCalendar,
) -> None:
    """After the routing step is written: the canary's complaint is closed, a real one is
    counted and logged."""
    ticket, result, now = decision.ticket, decision.result, decision.at
    if ticket.synthetic:
        await _close_canary(tickets, updated, catalogue=catalogue, calendar=calendar, now=now)
        return
    metrics.TICKETS_ROUTED.labels(updated.status.value).inc()
    journey.observe_routing(ticket, result, now)
    log.info(
        "ticket %s %s to %s (confidence %.2f)",
        ticket.tracking_code,
        updated.status.value,
        result.opd,
        result.confidence,
    )


CANARY_ACTOR = Principal(username="sistem:canary", role=Role.ADMIN)
CANARY_NOTE = "Laporan uji otomatis (canary): ditutup otomatis."


async def _close_canary(
    tickets: Tickets,
    ticket: Ticket,
    *,
    catalogue: Catalogue,
    calendar: WorkCalendar,
    now: datetime,
) -> None:
    """The canary's synthetic complaint: measured from submission to routed, then rejected
    as invalid through the transition table (a final status; docs/operations.md, "Canary")."""
    shared_metrics.CANARY_SECONDS.observe(max(0.0, (now - ticket.submitted_at).total_seconds()))
    request = workflow.Request(
        action=workflow.Action.REJECT, note=CANARY_NOTE, reason=workflow.RejectReason.INVALID
    )

    def reject(current: Ticket) -> workflow.Change:
        return workflow.transition(
            current,
            request,
            principal=CANARY_ACTOR,
            now=now,
            catalogue=catalogue,
            calendar=calendar,
        )

    try:
        closed = await tickets.apply(ticket.tracking_code, reject, current=ticket)
    except (workflow.NotAllowed, ChangedMeanwhile):
        return  # routed to triage or already closed (or kept changing): nothing more to do
    if closed is not None:
        log.info(
            "canary %s routed in %.1fs and closed",
            ticket.tracking_code,
            (now - ticket.submitted_at).total_seconds(),
        )
