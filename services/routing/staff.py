"""Use cases of officers, supervisors, admins and auditors: see, list, move and comment tickets.

Scope is enforced here and in queries.scope: outside it a ticket does not exist (404).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import uuid
from dataclasses import dataclass
from typing import Any

from services.routing import journey, workflow
from services.routing.classification import router
from services.routing.cluster_service import Clusters
from services.routing.learning import ModelStore
from services.routing.queries import TicketFilter
from services.routing.schemas import ticket_body
from services.routing.settings import RoutingSettings
from services.routing.stores import Accounts, ChatTranscripts, TicketLists
from services.routing.views import (
    Classified,
    MemberResult,
    PublicationPreview,
    StaffPhoto,
    StaffTicket,
    TicketList,
    TranscriptEntry,
    Transitioned,
)
from shared import publication
from shared.auth import Principal, Role
from shared.catalogue import LUAR_KEWENANGAN, Catalogue, CatalogueStore
from shared.errors import Conflict, Forbidden, InvalidField, NotFound, conflict_when_changing
from shared.events import ClusterAnswer, EventType, TicketCommented, utcnow
from shared.lifecycle.changes import Change, Step, change
from shared.lifecycle.repository import Tickets
from shared.statistics.store import StatisticsReader
from shared.tickets import Comment, Publication, RoutingAlternative, Ticket, TicketStatus

log = logging.getLogger(__name__)

NOT_FOUND = "Laporan tidak ditemukan. (Ticket not found.)"


@dataclass(frozen=True)
class RoutingContext:
    settings: RoutingSettings
    tickets: Tickets  # repository.TicketRepository; the in-memory fake in unit tests
    queries: TicketLists  # queries.TicketQueries; the in-memory fake in unit tests
    # repository.AccountRepository; the accounts use cases need all of `stores.Accounts`
    # (assignment only its `get`); the in-memory fake in unit tests.
    accounts: Accounts
    catalogue: CatalogueStore
    models: ModelStore
    statistics: StatisticsReader
    clusters: Clusters | None = None


def staff_view(ticket: Ticket, principal: Principal, catalogue: Catalogue) -> StaffTicket:
    """A ticket as staff see it; the reporter is left out of anonymous tickets for everyone."""
    now = utcnow()
    opd = catalogue.opd(ticket.opd) if ticket.opd else None
    return StaffTicket(
        tracking_code=ticket.tracking_code,
        status=ticket.status,
        version=ticket.version,
        kind=ticket.kind,
        category=ticket.category,
        opd=ticket.opd,
        opd_name=opd.name if opd else None,
        title=ticket.title,
        description=ticket.description,
        location=ticket.location,
        routing=ticket.routing,
        due_at=ticket.due_at,
        overdue=workflow.is_overdue(ticket, now),
        submitted_at=ticket.submitted_at,
        updated_at=ticket.updated_at,
        anonymous=ticket.anonymous,
        confidential=ticket.confidential,
        possible_duplicate_of=ticket.possible_duplicate_of,
        cluster_id=ticket.cluster_id,
        weight=ticket.weight,
        assigned_to=ticket.assigned_to,
        history=tuple(ticket.history),
        comments=tuple(ticket.comments),
        photos=tuple(
            StaffPhoto(
                id=p.id,
                content_type=p.content_type,
                size=p.size,
                uploaded_at=p.uploaded_at,
                url=f"/api/v1/complaints/{ticket.tracking_code}/photos/{p.id}",
            )
            for p in ticket.photos
        ),
        rating=ticket.rating,
        source=ticket.source,
        publication=publication_view(ticket),
        allowed_actions=tuple(a.value for a in workflow.allowed_actions(principal, ticket)),
        reporter=ticket.reporter if not ticket.anonymous else None,
    )


class TicketConflict(Conflict):
    """409 with the ticket as it is now: the body's `ticket`, and `ticket` the typed view for
    the console, which shows it to decide again."""

    def __init__(self, detail: str, ticket: StaffTicket) -> None:
        super().__init__(detail, extra={"ticket": ticket_body(ticket)})
        self.ticket = ticket


def changed_meanwhile(ticket: Ticket, principal: Principal, catalogue: Catalogue) -> Conflict:
    """409 with the ticket as it is now: someone else changed it first."""
    return TicketConflict(
        "Laporan sudah diubah orang lain. (The ticket changed meanwhile.)",
        staff_view(ticket, principal, catalogue),
    )


async def visible_ticket(ctx: RoutingContext, principal: Principal, code: str) -> Ticket:
    ticket = await ctx.tickets.get(code.strip().upper())
    if ticket is None or not workflow.can_see(principal, ticket):
        raise NotFound(NOT_FOUND)
    return ticket


async def get_ticket(ctx: RoutingContext, principal: Principal, code: str) -> StaffTicket:
    """One ticket in the caller's scope, with its cluster."""
    ticket = await visible_ticket(ctx, principal, code)
    view = staff_view(ticket, principal, await ctx.catalogue.get())
    cluster = await ctx.clusters.view_of(ticket) if ctx.clusters else None
    return dataclasses.replace(view, cluster=cluster)


async def transcript(
    ctx: RoutingContext, principal: Principal, code: str, transcripts: ChatTranscripts
) -> tuple[TranscriptEntry, ...]:
    """The chat a ticket was filed in, as the citizen saw it (none for other tickets)."""
    ticket = await visible_ticket(ctx, principal, code)
    if ticket.conversation_id is None:
        return ()
    return tuple(
        TranscriptEntry(
            at=e["at"],
            sender=e["from"],
            channel=e.get("channel"),
            text=e.get("text") or "",
            status=e.get("status"),
        )
        for e in await transcripts.for_ticket(ticket.tracking_code)
    )


async def list_tickets(
    ctx: RoutingContext,
    principal: Principal,
    f: TicketFilter,
    *,
    sort: str,
    limit: int,
    cursor: str | None,
) -> TicketList:
    try:
        tickets, next_cursor = await ctx.queries.page(
            principal, f, now=utcnow(), sort=sort, limit=limit, cursor=cursor
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidField(("query", "cursor"), "Kursor tidak sah. (Invalid cursor.)") from exc
    catalogue = await ctx.catalogue.get()
    return TicketList(
        items=tuple(staff_view(t, principal, catalogue) for t in tickets), next_cursor=next_cursor
    )


async def transition(
    ctx: RoutingContext,
    principal: Principal,
    code: str,
    request: workflow.Request,
    *,
    version: int | None,
    cluster: bool = False,
    answer: ClusterAnswer | None = None,
) -> Transitioned:
    """Apply one transition; a stale `version` (or a lost race) is 409 with the current ticket.

    With `cluster`, on the primary of a confirmed cluster, the same transition then applies to
    every open member (each with its own history and event); a transfer of the primary always
    moves the whole cluster, and a member transferred on its own leaves its cluster. Each
    event of such a fan-out carries the same `answer`, so notify tells each contact once."""
    ticket = await visible_ticket(ctx, principal, code)
    catalogue = await ctx.catalogue.get()
    if version is not None and version != ticket.version:
        raise changed_meanwhile(ticket, principal, catalogue)
    fan_out = None
    if ctx.clusters is not None and request.cluster_primary is None:
        fan_out = await ctx.clusters.fan_out_targets(ticket)
        if cluster and fan_out is None:
            raise Conflict(
                "Laporan ini bukan laporan utama kelompok yang dikonfirmasi. "
                "(This ticket is not the primary of a confirmed cluster.)"
            )
        if fan_out is not None and (cluster or request.action is workflow.Action.TRANSFER):
            answer = await _answer_for(ctx, ticket, request.action, fan_out[1])
    try:
        change = workflow.transition(
            ticket,
            request,
            principal=principal,
            now=utcnow(),
            catalogue=catalogue,
            calendar=ctx.settings.calendar(),
        )
    except workflow.RoleNotAllowed as exc:
        raise Forbidden(
            "Peran Anda tidak boleh melakukan tindakan ini. (Your role may not do this.)"
        ) from exc
    except workflow.NotAllowed as exc:
        raise TicketConflict(str(exc), staff_view(ticket, principal, catalogue)) from exc
    except workflow.Missing as exc:
        field = str(exc.args[0])
        raise InvalidField(
            ("body", field),
            f"{field} wajib diisi dengan benar untuk tindakan "
            f"ini. ({field} is required for this action.)",
        ) from exc
    if answer is not None:
        change = _with_answer(change, answer)
    updated = await ctx.tickets.update(ticket, set_fields=change.set_fields, push=change.push)
    if updated is None:
        current = await visible_ticket(ctx, principal, code)
        raise changed_meanwhile(current, principal, catalogue)
    journey.observe(journey.stages_of_transition(ticket, request.action.value, utcnow()))
    await _learn_from(ctx, principal, ticket, request)
    results = await _apply_to_cluster(
        ctx,
        principal,
        ticket,
        request,
        fan_out,
        cluster=cluster,
        moved_to=updated.opd,
        answer=answer,
    )
    # The ticket may have left the caller's scope (a transfer): show what they may still see.
    seen = workflow.can_see(principal, updated)
    return Transitioned(
        tracking_code=updated.tracking_code,
        status=updated.status,
        version=updated.version,
        opd=updated.opd,
        ticket=staff_view(updated, principal, catalogue) if seen else None,
        cluster_results=results,
    )


async def _apply_to_cluster(
    ctx: RoutingContext,
    principal: Principal,
    ticket: Ticket,
    request: workflow.Request,
    fan_out: Any,
    *,
    cluster: bool,
    moved_to: str | None,
    answer: ClusterAnswer | None,
) -> tuple[MemberResult, ...] | None:
    """The primary's transition for each member, reported item by item (None: not a cluster
    transition)."""
    clusters = ctx.clusters
    if clusters is None or request.cluster_primary is not None:
        return None
    transfer = request.action is workflow.Action.TRANSFER
    if fan_out is None:
        if transfer:
            await clusters.split_if_member(ticket, actor=principal.username, now=utcnow())
        return None
    if not (cluster or transfer):
        return None
    group, members = fan_out
    results: list[MemberResult] = []
    member_request = dataclasses.replace(request, cluster_primary=ticket.tracking_code)
    for member in members:
        try:
            done = await transition(
                ctx, principal, member, member_request, version=None, answer=answer
            )
        except (Conflict, Forbidden, NotFound, InvalidField) as exc:
            results.append(MemberResult(tracking_code=member, result="skipped", detail=exc.detail))
            continue
        results.append(MemberResult(tracking_code=member, result="done", status=done.status))
    if transfer and moved_to:
        await clusters.moved(group, moved_to, actor=principal.username, now=utcnow())
    return tuple(results)


async def _answer_for(
    ctx: RoutingContext, primary: Ticket, action: workflow.Action, members: list[str]
) -> ClusterAnswer:
    """The answer's id and the tickets it goes to: the primary, then each member the action
    fits now (a member already resolved, say, is skipped and hears nothing of it)."""
    sources = workflow.TABLE[action].sources
    going = [primary.tracking_code]
    for code in members:
        member = await ctx.tickets.get(code)
        if member is not None and member.status in sources:
            going.append(code)
    return ClusterAnswer(id=_answer_id(), primary=primary.tracking_code, members=going)


def _answer_id() -> str:
    return f"JW-{uuid.uuid4().hex[:16].upper()}"


def _with_answer(change: workflow.Change, answer: ClusterAnswer) -> workflow.Change:
    """The transition's event marked as part of the cluster's one answer."""
    marked = answer.model_dump(mode="json")
    outbox = [
        {**entry, "payload": {**entry["payload"], "cluster_answer": marked}}
        if entry.get("event_type") == EventType.TICKET_TRANSITIONED
        else entry
        for entry in change.push.get("outbox", [])
    ]
    return dataclasses.replace(change, push={**change.push, "outbox": outbox})


async def _learn_from(
    ctx: RoutingContext, principal: Principal, ticket: Ticket, request: workflow.Request
) -> None:
    """A transfer or a triage decision says where the ticket belonged: a labelled example."""
    source = "triage" if ticket.status is TicketStatus.TRIAGE else "transfer"
    if request.action is workflow.Action.TRANSFER and request.to_opd:
        label = request.to_opd
    elif (
        request.action is workflow.Action.REJECT
        and request.reason == workflow.RejectReason.OUT_OF_AUTHORITY
    ):
        label = LUAR_KEWENANGAN
    else:
        return
    await ctx.models.add_correction(ticket, label, source=source, actor=principal.username)


async def comment(
    ctx: RoutingContext,
    principal: Principal,
    code: str,
    *,
    body: str,
    public: bool,
    cluster: bool = False,
    answer: ClusterAnswer | None = None,
) -> Comment:
    """Comment on a ticket; with `cluster` (public comments on a confirmed cluster's primary)
    the same comment goes to every member, each contact hearing it once (`answer`)."""
    if principal.role is Role.AUDITOR:
        raise Forbidden("Auditor tidak mengubah laporan. (Auditors change nothing.)")
    ticket = await visible_ticket(ctx, principal, code)
    if cluster:
        fan_out = await ctx.clusters.fan_out_targets(ticket) if ctx.clusters else None
        if fan_out is None or not public:
            raise Conflict(
                "Hanya komentar publik pada laporan utama kelompok yang dikonfirmasi. "
                "(Only a public comment on a confirmed cluster's primary.)"
            )
        everyone = [ticket.tracking_code, *fan_out[1]]
        together = ClusterAnswer(id=_answer_id(), primary=ticket.tracking_code, members=everyone)
        first = await comment(ctx, principal, code, body=body, public=public, answer=together)
        for member in fan_out[1]:
            with contextlib.suppress(NotFound, Conflict):
                await comment(ctx, principal, member, body=body, public=public, answer=together)
        return first
    now = utcnow()
    note = Comment(id=uuid.uuid4().hex, at=now, author=principal.username, body=body, public=public)
    event = TicketCommented(
        comment_id=note.id,
        public=public,
        author_role=principal.role.value,
        opd=ticket.opd,
        body=body if public else None,
        submitted_at=ticket.submitted_at,
        cluster_answer=answer,
    )

    def add(current: Ticket) -> Change:
        if not workflow.can_see(principal, current):  # it left the caller's scope meanwhile
            raise NotFound(NOT_FOUND)
        return change(
            current,
            producer=workflow.PRODUCER,
            fields={"updated_at": now},
            events=[event],
            push={"comments": [note.model_dump()]},
        )

    with conflict_when_changing():
        updated = await ctx.tickets.apply(ticket.tracking_code, add, current=ticket)
    if updated is None:
        raise NotFound(NOT_FOUND)
    return note


def publication_view(ticket: Ticket) -> PublicationPreview:
    """What the public sees of the ticket (shared.publication), for the officers' preview."""
    chosen = ticket.publication or Publication()
    return PublicationPreview(
        exposure=publication.exposure(ticket).value,
        text=publication.draft_text(ticket),
        edited=chosen.text is not None,
        hidden=chosen.hidden,
        reason=chosen.reason,
        by=chosen.by,
        at=chosen.at,
    )


def publication_note(before: Publication, after: Publication) -> str:
    """The history's record of a publication decision (the reason follows it)."""
    if after.hidden and not before.hidden:
        return "Isi laporan disembunyikan dari umum."
    if before.hidden and not after.hidden:
        return "Isi laporan ditampilkan lagi untuk umum."
    if after.text is None:
        return "Teks untuk umum kembali ke uraian yang disamarkan otomatis."
    return "Teks untuk umum disunting."


async def set_publication(
    ctx: RoutingContext,
    principal: Principal,
    code: str,
    *,
    text: str | None,
    hidden: bool,
    reason: str,
    version: int | None,
) -> StaffTicket:
    """An officer edits or hides the public text; the reason is kept in the internal history."""
    if principal.role is Role.AUDITOR:
        raise Forbidden("Auditor tidak mengubah laporan. (Auditors change nothing.)")
    ticket = await visible_ticket(ctx, principal, code)
    catalogue = await ctx.catalogue.get()
    if version is not None and version != ticket.version:
        raise changed_meanwhile(ticket, principal, catalogue)
    now = utcnow()
    automatic = publication.redact(ticket.description)
    edited = text if text and publication.redact(text) != automatic else None
    before = ticket.publication or Publication()
    after = Publication(text=edited, hidden=hidden, reason=reason, by=principal.username, at=now)
    step = Step(
        at=now,
        actor=principal.username,
        action="publication",
        from_status=ticket.status,
        to_status=ticket.status,
        public=False,
        internal_note=f"{publication_note(before, after)} Alasan: {reason}",
    )
    made = change(
        ticket,
        producer=workflow.PRODUCER,
        fields={"publication": after.model_dump(), "updated_at": now},
        step=step,
    )
    updated = await ctx.tickets.update(ticket, set_fields=made.set_fields, push=made.push)
    if updated is None:
        current = await visible_ticket(ctx, principal, code)
        raise changed_meanwhile(current, principal, catalogue)
    log.info(
        "publication of %s set by %s: hidden=%s edited=%s",
        updated.tracking_code,
        principal.username,
        hidden,
        edited is not None,
    )
    return staff_view(updated, principal, catalogue)


async def counts(ctx: RoutingContext, principal: Principal) -> dict[str, int]:
    return await ctx.queries.counts(principal, utcnow())


async def dry_run(
    ctx: RoutingContext,
    *,
    text: str,
    category: str | None,
    kecamatan: str | None,
    desa: str | None = None,
) -> Classified:
    """The router's answer without a ticket: the same code path and model as live routing."""
    result = router.classify(
        text=text,
        category=category,
        kecamatan=kecamatan,
        desa=desa,
        catalogue=await ctx.catalogue.get(),
        threshold=ctx.settings.confidence_threshold,
        model=await ctx.models.active_model(),
    )
    return Classified(
        opd=result.opd,
        confidence=result.confidence,
        reasons=tuple(result.reasons),
        alternatives=tuple(
            RoutingAlternative(opd=a.opd, confidence=a.confidence) for a in result.alternatives
        ),
        referral=result.referral,
        model=result.model,
    )
