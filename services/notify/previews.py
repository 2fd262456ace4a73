"""Template previews: every message an event of a type can produce, rendered for a sample
ticket (the admin API's preview)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from services.notify import recipients
from services.notify.digests import DIGEST_EVENT_TYPE
from services.notify.recipients import Notice
from services.notify.rendering import DigestLine, Renderer, TicketFacts
from shared.errors import NotFound
from shared.events import Envelope, EventType, utcnow
from shared.mongo import Document

_DUE = "2025-06-02T09:00:00+00:00"
_NOTE = (
    "Tim kami sudah memeriksa lokasi dan menambal lubang di Jl. Raya Ciruas km 3. "
    "Terima kasih atas laporan Anda."
)
PREVIEW_CODE = "LP-7K4M-Q9XZ"
PREVIEW_FACTS = TicketFacts(
    kind="complaint", summary="Jalan berlubang di depan SDN Ciruas 1, sudah 2 minggu"
)
PREVIEW_SAMPLES: dict[str, tuple[dict[str, Any], ...]] = {
    EventType.TICKET_SUBMITTED: ({"kind": "complaint", "kecamatan": "KEC-CIRUAS"},),
    EventType.TICKET_ROUTED: (
        {"opd": "DPUPR", "status": "routed", "confidence": 0.9, "model": "m", "due_at": _DUE},
    ),
    EventType.TICKET_TRIAGED: (
        {"opd": "TRIASE", "status": "triage", "confidence": 0.3, "model": "m", "due_at": _DUE},
    ),
    EventType.TICKET_TRANSITIONED: (
        {
            "action": "transfer",
            "from_status": "routed",
            "to_status": "routed",
            "opd": "DPUPR",
            "from_opd": "DISPERKIM",
            "note": "Jalan kabupaten menjadi kewenangan DPUPR.",
            "due_at": _DUE,
        },
        {"action": "resolve", "from_status": "in_progress", "to_status": "resolved", "opd": "DPUPR"}
        | {"note": _NOTE},
        {
            "action": "reject",
            "from_status": "routed",
            "to_status": "rejected",
            "opd": "DPUPR",
            "reason": "duplicate",
            "note": "Sama dengan laporan LP-2B3C-4D5E.",
        },
        {"action": "close", "from_status": "resolved", "to_status": "closed", "opd": "DPUPR"}
        | {"actor_role": "system"},
        {"action": "reopen", "from_status": "closed", "to_status": "in_progress", "opd": "DPUPR"}
        | {"actor_role": "admin", "note": "Lubang muncul lagi setelah hujan."},
    ),
    EventType.TICKET_COMMENTED: (
        {"comment_id": "c1", "public": True, "opd": "DPUPR", "body": "Survei dijadwalkan Senin."},
    ),
    EventType.CITIZEN_REPLIED: tuple(
        {"action": a, "from_status": f, "to_status": t, "opd": "DPUPR"}
        for a, f, t in (
            ("info", "in_progress", "in_progress"),
            ("confirm", "resolved", "closed"),
            ("dispute", "resolved", "in_progress"),
        )
    ),
    EventType.TICKET_ESCALATED: (
        {"opd": "DPUPR", "status": "verified", "due_at": _DUE, "stage": "follow_up"},
    ),
    EventType.TICKET_DUE_SOON: ({"opd": "DPUPR", "status": "in_progress", "due_at": _DUE},),
    EventType.OPD_CHOICE_ASKED: ({"candidates": ["DPUPR", "DISPERKIM"]},),
}


def preview(
    *,
    renderer: Renderer,
    event_type: str,
    lang: str,
    channel: str,
    audience: str | None,
    opd_names: Mapping[str, str],
) -> list[Document]:
    """Every message an event of this type can produce, rendered for a sample ticket."""
    if event_type == DIGEST_EVENT_TYPE:
        notice = Notice(
            event_id="preview", event_type=DIGEST_EVENT_TYPE, tracking_code="", occurred_at=utcnow()
        )
        other = "LP-2B3C-4D5E"
        lines = [
            DigestLine(
                PREVIEW_CODE,
                f"Laporan baru {PREVIEW_CODE} untuk DPUPR",
                renderer.links.console(PREVIEW_CODE),
            ),
            DigestLine(
                other,
                f"Pelapor menambahkan informasi: {other}",
                renderer.links.console(other),
            ),
        ]
        context = renderer.context(
            notice, lang=lang, facts=TicketFacts(), opd_names=opd_names, items=lines
        )
        rendered = renderer.render(
            recipients.DIGEST_TEMPLATE, lang=lang, channel=channel, context=context
        )
        return [_preview_item(recipients.DIGEST_TEMPLATE, "officer", None, rendered)]
    samples = PREVIEW_SAMPLES.get(event_type)
    if samples is None:
        raise NotFound(f"Jenis peristiwa tidak dikenal: {event_type}. (Unknown event type.)")
    items: list[Document] = []
    for payload in samples:
        envelope = Envelope(
            event_id="preview",
            event_type=event_type,
            ticket_id=PREVIEW_CODE,
            correlation_id="preview",
            producer="notify",
            payload=payload,
        )
        notice = recipients.notice_from(envelope)
        variant = notice.action
        if channel == recipients.Channel.WEBHOOK:
            body = recipients.webhook_body(notice, confidential=False)
            items.append(
                {
                    "template": "webhook",
                    "audience": "system",
                    "variant": variant,
                    "subject": f"{event_type} {PREVIEW_CODE}",
                    "text": json.dumps(body, ensure_ascii=False, indent=2),
                    "html": None,
                }
            )
            continue
        context = renderer.context(notice, lang=lang, facts=PREVIEW_FACTS, opd_names=opd_names)
        for rule in recipients.rules_for(notice):
            if audience and rule.audience.value != audience:
                continue
            rendered = renderer.render(rule.template, lang=lang, channel=channel, context=context)
            items.append(_preview_item(rule.template, rule.audience.value, variant, rendered))
    return items


def _preview_item(template: str, audience: str, variant: str | None, rendered: Any) -> Document:
    return {
        "template": template,
        "audience": audience,
        "variant": variant,
        "subject": rendered.subject,
        "text": rendered.text,
        "html": rendered.html,
    }
