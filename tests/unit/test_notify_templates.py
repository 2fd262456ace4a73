"""Every message template in both languages on every channel, and escaping per channel."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from services.notify import previews, recipients
from services.notify.recipients import Notice
from services.notify.rendering import (
    LANGUAGES,
    DigestLine,
    Links,
    Renderer,
    TicketFacts,
    for_sms,
    format_when,
)

JAKARTA = ZoneInfo("Asia/Jakarta")
CHANNELS = ("email", "whatsapp", "sms", "log")
CODE = "LP-7K4M-Q9XZ"
# What an officer, an OPD name or a complaint may contain that a channel must not interpret.
NASTY = '<script>alert("x")</script> & *tebal* _miring_ ~coret~ `kode` café “kutip”\x07'
LINKS = Links("https://lapor.serangkab.go.id", "https://konsol.serangkab.go.id/a_b")


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer(links=LINKS, organisation="Pemerintah Kabupaten Serang", tz=JAKARTA)


def _notice(**fields: Any) -> Notice:
    base: dict[str, Any] = {
        "event_id": "e1",
        "event_type": "ticket.transitioned",
        "tracking_code": CODE,
        "occurred_at": datetime(2025, 6, 1, tzinfo=UTC),
        "opd": "DLH",
        "from_opd": "DPUPR",
        "status": "resolved",
        "action": "dispute",
        "reason": "duplicate",
        "note": NASTY,
        "due_at": datetime(2025, 6, 2, 9, 0, tzinfo=UTC),
        "stage": "follow_up",
    }
    return Notice(**(base | fields))


def _context(renderer: Renderer, lang: str, template: str, **fields: Any) -> dict[str, Any]:
    items = [DigestLine(CODE, f"Laporan baru {CODE} {NASTY}", str(LINKS.console(CODE)))]
    return renderer.context(
        _notice(**fields),
        lang=lang,
        facts=TicketFacts(kind="complaint", summary=f"Jalan rusak {NASTY}"),
        opd_names={"DLH": f"Dinas Lingkungan Hidup {NASTY}", "DPUPR": "Dinas PUPR"},
        items=items if template == recipients.DIGEST_TEMPLATE else (),
    )


CASES = [(t, lang, ch) for t in recipients.TEMPLATES for lang in LANGUAGES for ch in CHANNELS]


@pytest.mark.parametrize(("template", "lang", "channel"), CASES)
def test_every_template_renders_in_both_languages_on_every_channel(
    renderer: Renderer, template: str, lang: str, channel: str
) -> None:
    out = renderer.render(
        template, lang=lang, channel=channel, context=_context(renderer, lang, template)
    )
    assert out.subject and "\n" not in out.subject
    assert out.text.strip()
    for text in (out.subject, out.text, out.html or ""):
        assert "{{" not in text and "{%" not in text and "None" not in text
        assert "\x07" not in text
    if template != recipients.DIGEST_TEMPLATE:
        assert CODE in out.subject
        assert CODE in out.text or channel == "log"
    if channel == "email":
        assert out.html is not None and out.html.startswith("<!doctype html>")
        link = LINKS.tracking(CODE) if template.startswith("citizen_") else LINKS.console(CODE)
        if template != recipients.DIGEST_TEMPLATE:
            assert str(link) in out.text and str(link) in out.html
    else:
        assert out.html is None


def test_the_two_languages_differ(renderer: Renderer) -> None:
    for template in recipients.TEMPLATES:
        id_, en = (
            renderer.render(
                template, lang=lang, channel="email", context=_context(renderer, lang, template)
            )
            for lang in ("id", "en")
        )
        assert id_.subject != en.subject and id_.text != en.text


def test_html_escapes_what_officers_and_citizens_wrote(renderer: Renderer) -> None:
    out = renderer.render(
        "citizen_resolved",
        lang="id",
        channel="email",
        context=_context(renderer, "id", "citizen_resolved"),
    )
    assert out.html is not None
    assert "<script>" not in out.html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; *tebal*" in out.html
    assert "Dinas Lingkungan Hidup &lt;script&gt;" in out.html
    assert '<script>alert("x")</script> & *tebal*' in out.text  # plain text stays as written


def test_whatsapp_neutralises_formatting_marks_in_values_but_not_in_links(
    renderer: Renderer,
) -> None:
    out = renderer.render(
        "citizen_answered",
        lang="id",
        channel="whatsapp",
        context=_context(renderer, "id", "citizen_answered"),
    )
    assert "*tebal*" not in out.text and "_miring_" not in out.text and "~coret~" not in out.text
    # look-alikes: asterisk operator, fullwidth low line, tilde operator
    assert "\u2217tebal\u2217" in out.text and "\uff3fmiring\uff3f" in out.text
    assert "\u223ccoret\u223c" in out.text
    assert "`" not in out.text
    staff = renderer.render(
        "staff_assigned",
        lang="id",
        channel="whatsapp",
        context=_context(renderer, "id", "staff_assigned"),
    )
    assert str(LINKS.console(CODE)) in staff.text  # the underscore of the link survives


def test_sms_is_limited_to_the_gsm_alphabet(renderer: Renderer) -> None:
    out = renderer.render(
        "citizen_answered",
        lang="en",
        channel="sms",
        context=_context(renderer, "en", "citizen_answered"),
    )
    assert '"kutip"' in out.text and "café" in out.text  # é is in the GSM alphabet
    assert all(ord(c) < 0x250 or c in "ΔΦΓΛΩΠΨΣΘΞ€" for c in out.text)
    assert for_sms("Jl. Raya — “Ciruas” 😀 crêpe `x`") == 'Jl. Raya - "Ciruas" ? crepe ?x?'


def test_resolution_message_carries_the_answer_and_the_ten_day_window(renderer: Renderer) -> None:
    ctx = _context(renderer, "id", "citizen_resolved", note="Lubang sudah ditambal.")
    out = renderer.render("citizen_resolved", lang="id", channel="email", context=ctx)
    assert "Lubang sudah ditambal." in out.text and "10 hari kerja" in out.text
    assert "Dinas Lingkungan Hidup" in out.text and "Selesai ditindaklanjuti" in out.text


def test_deadlines_are_written_in_local_time_per_language() -> None:
    due = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)
    assert format_when(due, "id", JAKARTA) == "Senin, 2 Juni 2025 pukul 16.00 WIB"
    assert format_when(due, "en", JAKARTA) == "Monday, 2 June 2025, 16:00 WIB"


def test_an_unknown_language_falls_back_to_indonesian(renderer: Renderer) -> None:
    ctx = _context(renderer, "id", "citizen_received")
    fr = renderer.render("citizen_received", lang="fr", channel="sms", context=ctx)
    id_ = renderer.render("citizen_received", lang="id", channel="sms", context=ctx)
    assert fr == id_


@pytest.mark.parametrize("event_type", [*previews.PREVIEW_SAMPLES, "digest"])
@pytest.mark.parametrize("channel", ["email", "whatsapp", "sms", "webhook"])
def test_every_event_type_has_a_preview(renderer: Renderer, event_type: str, channel: str) -> None:
    for lang in LANGUAGES:
        items = previews.preview(
            renderer=renderer,
            event_type=event_type,
            lang=lang,
            channel=channel if event_type != "digest" or channel != "webhook" else "email",
            audience=None,
            opd_names={"DPUPR": "Dinas Pekerjaan Umum dan Penataan Ruang"},
        )
        assert items
        assert all(i["subject"] and i["text"] for i in items)


def test_previews_cover_every_template(renderer: Renderer) -> None:
    seen = set()
    for event_type in [*previews.PREVIEW_SAMPLES, "digest"]:
        for item in previews.preview(
            renderer=renderer,
            event_type=event_type,
            lang="id",
            channel="email",
            audience=None,
            opd_names={},
        ):
            seen.add(item["template"])
    assert seen == set(recipients.TEMPLATES)


def test_template_files_exist_for_every_template_in_both_languages() -> None:
    from services.notify.rendering import TEMPLATE_DIR

    for lang in LANGUAGES:
        names = {p.stem for p in (TEMPLATE_DIR / lang).glob("*.txt") if not p.stem.startswith("_")}
        assert names == set(recipients.TEMPLATES)
        for name in names:
            text = (TEMPLATE_DIR / lang / f"{name}.txt").read_text(encoding="utf-8")
            assert set(re.findall(r"block (\w+)", text)) == {"subject", "intro", "details", "short"}
