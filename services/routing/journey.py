"""The journey's stages and the routing decision's method, as metrics see them. Pure: the
ticket before a write and the write's facts in, observations out (docs/operations.md)."""

from __future__ import annotations

from datetime import datetime

from services.routing.classification.router import Classification
from shared import metrics
from shared.catalogue import LUAR_KEWENANGAN, TRIASE
from shared.tickets import Ticket

SUBMITTED_TO_ROUTED = "submitted_to_routed"
ROUTED_TO_FIRST_RESPONSE = "routed_to_first_response"
SUBMITTED_TO_RESOLVED = "submitted_to_resolved"
STAGES = (SUBMITTED_TO_ROUTED, ROUTED_TO_FIRST_RESPONSE, SUBMITTED_TO_RESOLVED)
# The officers' first answer to a routed ticket (the statistics count the same ones).
FIRST_RESPONSES = frozenset({"verify", "resolve", "reject"})
METHODS = ("rules", "classifier", "category", "location", "citizen", "triage", "out_of_authority")


def decision_method(result: Classification) -> str:
    """What decided a routing: one of METHODS (a bounded label)."""
    if result.opd == TRIASE:
        return "triage"
    if result.opd == LUAR_KEWENANGAN:
        return "out_of_authority"
    return result.method if result.method in METHODS else "rules"


def stages_of_transition(ticket: Ticket, action: str, now: datetime) -> list[tuple[str, float]]:
    """The stages a staff transition completes: the first response after routing, the first
    resolution after submission (a reopened ticket resolved again counts once)."""
    done = {entry.action for entry in ticket.history}
    found: list[tuple[str, float]] = []
    if action in FIRST_RESPONSES and not done & FIRST_RESPONSES:
        routed_at = next((e.at for e in ticket.history if e.to_status == "routed"), None)
        if routed_at is not None:
            found.append((ROUTED_TO_FIRST_RESPONSE, (now - routed_at).total_seconds()))
    if action == "resolve" and "resolve" not in done:
        found.append((SUBMITTED_TO_RESOLVED, (now - ticket.submitted_at).total_seconds()))
    return found


def observe(stages: list[tuple[str, float]]) -> None:
    for stage, seconds in stages:
        metrics.JOURNEY.labels(stage).observe(max(0.0, seconds))


def observe_routing(ticket: Ticket, result: Classification, now: datetime) -> None:
    """A routing decision written: its method and confidence, and (unless the citizen was
    asked to choose, a wait on a person) the time from submission."""
    metrics.ROUTING_DECISIONS.labels(result.opd, decision_method(result)).inc()
    metrics.ROUTING_CONFIDENCE.observe(min(1.0, max(0.0, result.confidence)))
    if ticket.routing_question is None:
        observe([(SUBMITTED_TO_ROUTED, (now - ticket.submitted_at).total_seconds())])
