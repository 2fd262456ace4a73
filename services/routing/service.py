"""Routing use cases: route a submitted ticket, sign an officer in, seed dev accounts."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from services.routing import domain, journey, metrics, workflow
from services.routing.classification import router
from services.routing.cluster_service import Clusters
from shared import metrics as shared_metrics
from shared import publication
from shared.auth import Principal, Role
from shared.catalogue import Catalogue
from shared.events import OpdChoiceAsked, TicketRouted, TicketTriaged, utcnow
from shared.lifecycle import actors, sla
from shared.lifecycle.changes import Step, change
from shared.lifecycle.repository import MAX_ATTEMPTS, ChangedMeanwhile, Tickets
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
    for _ in range(MAX_ATTEMPTS):
        ticket = await tickets.get(tracking_code)
        if ticket is None:
            # The outbox writes the ticket before its event exists, so this is an event of
            # another database (or of a purged ticket): nothing to route.
            log.warning("ticket %s of a submitted event is not stored; skipped", tracking_code)
            return False
        if ticket.status is not TicketStatus.SUBMITTED:
            return False
        now = utcnow()
        question = ticket.routing_question
        if question is not None:
            if domain.choice_pending(ticket, now, timeout=choice_timeout):
                return False
            names = {o.code: o.name for o in catalogue.opds}
            result = domain.decision_after_choice(
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
            candidates = domain.choice_candidates(result, ticket)
            if candidates:
                if await _ask_citizen(tickets, ticket, result, candidates, now):
                    return True
                continue
        routed = await _route(
            tickets, ticket, result, catalogue=catalogue, calendar=calendar, now=now
        )
        if routed is not None:
            if clusters is not None and not routed.synthetic:
                await clusters.propose(routed, now)
            return True
    raise RuntimeError(f"ticket {tracking_code} kept changing while routing it")


async def _ask_citizen(
    tickets: Tickets,
    ticket: Ticket,
    result: router.Classification,
    candidates: list[router.Candidate],
    now: datetime,
) -> bool:
    """Keep the unsure decision on the ticket and ask the chat's citizen to choose."""
    question = RoutingQuestion(
        candidates=[ChoiceCandidate(opd=c.opd, confidence=c.confidence) for c in candidates],
        asked_at=now,
        confidence=result.confidence,
        reasons=result.reasons,
        model=result.model,
    )
    made = change(
        ticket,
        producer=PRODUCER,
        fields={"routing_question": question.model_dump(), "updated_at": now},
        events=[OpdChoiceAsked(candidates=[c.opd for c in candidates])],
    )
    updated = await tickets.update(ticket, set_fields=made.set_fields, push=made.push)
    if updated is None:
        return False
    metrics.TICKETS_ROUTED.labels("asked").inc()
    log.info(
        "ticket %s: the citizen is asked to choose among %d", ticket.tracking_code, len(candidates)
    )
    return True


async def _route(
    tickets: Tickets,
    ticket: Ticket,
    result: router.Classification,
    *,
    catalogue: Catalogue,
    calendar: WorkCalendar,
    now: datetime,
) -> Ticket | None:
    """Write the decision: status, OPD, deadline, history entry and event, version-checked;
    the ticket as routed, or None when it changed meanwhile."""
    tracking_code = ticket.tracking_code
    status = domain.status_after_routing(result)
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
    made = change(ticket, producer=PRODUCER, fields=fields, step=step, events=[event])
    updated = await tickets.update(ticket, set_fields=made.set_fields, push=made.push)
    if updated is None:
        return None
    if ticket.synthetic:
        await _close_canary(tickets, updated, catalogue=catalogue, calendar=calendar, now=now)
        return updated
    metrics.TICKETS_ROUTED.labels(status.value).inc()
    journey.observe_routing(ticket, result, now)
    log.info(
        "ticket %s %s to %s (confidence %.2f)",
        tracking_code,
        status.value,
        result.opd,
        result.confidence,
    )
    return updated


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
