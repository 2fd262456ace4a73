"""Message templates (jinja2, Bahasa Indonesia and English), escaped for each channel.

A message template `templates/<lang>/<name>.txt` defines the blocks `subject`, `intro`,
`details` and `short`. Email wraps them in the layouts `_email.txt` and `_email.html` (the
latter autoescaped); WhatsApp and SMS send `short`. Values from events and tickets are escaped
as each channel needs: HTML entities in HTML; WhatsApp's formatting marks replaced by look-alikes
so a note cannot turn into bold or strike-through; SMS limited to the GSM 7-bit alphabet.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template
from markupsafe import Markup, escape

from services.notify.recipients import Channel, Notice
from shared.catalogue import LUAR_KEWENANGAN, TRIASE

TEMPLATE_DIR = Path(__file__).parent / "templates"
LANGUAGES = ("id", "en")


class Verbatim(str):
    """A value written as is on every channel (links we build ourselves)."""

    __slots__ = ()


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u200b-\u200f\u2028-\u202e]")
_WHATSAPP_MARKS = str.maketrans({"*": "\u2217", "_": "\uff3f", "~": "\u223c", "`": "\u02cb"})
# The GSM 03.38 basic alphabet (plus the extension table): what every handset shows.
_GSM = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà^{}\\[~]|€"
)
_ASCII_LOOKALIKES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2026": "...",
        "\u00a0": " ",
        "\u00b7": "-",
        "\t": " ",
    }
)


def plain(value: Any) -> str:
    """A value as plain text: None is empty, control characters go."""
    return "" if value is None else _CONTROL.sub("", str(value))


def for_html(value: Any) -> Any:
    """Control characters go; markup already made safe (paragraphs) stays as it is."""
    return value if isinstance(value, Markup) else plain(value)


def for_whatsapp(value: Any) -> str:
    if isinstance(value, Verbatim):
        return str(value)
    return plain(value).translate(_WHATSAPP_MARKS)


def for_sms(text: str) -> str:
    """Text an SMS can carry in GSM 7-bit: accents dropped, the rest replaced by `?`."""
    text = text.translate(_ASCII_LOOKALIKES)
    out: list[str] = []
    for char in text:
        if char in _GSM:
            out.append(char)
            continue
        base = "".join(
            c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)
        )
        out.append(base if base and all(c in _GSM for c in base) else "?")
    return "".join(out)


def one_line(text: str) -> str:
    """Email subjects: no line breaks (no header injection), single spaces."""
    return " ".join(text.split())


def paragraphs(text: str | None) -> Markup:
    """Plain text as HTML paragraphs, escaped; single line breaks become `<br>`."""
    if not text:
        return Markup("")
    parts = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    return Markup("\n").join(
        Markup("<p>{}</p>").format(Markup("<br>\n").join(escape(line) for line in p.splitlines()))
        for p in parts
    )


# -- labels ------------------------------------------------------------------------------------

LABELS: dict[str, dict[str, dict[str, str]]] = {
    "id": {
        "status": {
            "submitted": "Diterima",
            "triage": "Ditelaah admin koordinator",
            "routed": "Diteruskan ke OPD",
            "verified": "Diverifikasi OPD",
            "in_progress": "Sedang ditindaklanjuti",
            "resolved": "Selesai ditindaklanjuti",
            "closed": "Ditutup",
            "rejected": "Ditolak",
            "waiting_citizen": "Menunggu pelapor",
            "waiting_third_party": "Menunggu pihak ketiga",
        },
        "kind": {
            "complaint": "pengaduan",
            "suggestion": "aspirasi",
            "information": "permintaan informasi",
        },
        "reason": {
            "invalid": "laporan tidak memenuhi syarat",
            "spam": "laporan terindikasi spam",
            "duplicate": "laporan sama dengan laporan lain",
            "out_of_authority": "di luar kewenangan pemerintah kabupaten",
        },
        "reply": {
            "info": "menambahkan informasi",
            "confirm": "menerima hasil tindak lanjut",
            "dispute": "menyanggah hasil tindak lanjut",
        },
        "stage": {
            "routing": "penelaahan dan penerusan (3 hari kerja)",
            "follow_up": "tindak lanjut awal OPD (5 hari kerja)",
            "resolution": "penyelesaian",
        },
        "opd": {TRIASE: "Admin Koordinator", LUAR_KEWENANGAN: "Di luar kewenangan daerah"},
    },
    "en": {
        "status": {
            "submitted": "Received",
            "triage": "Under review by the admin koordinator",
            "routed": "Assigned to an OPD",
            "verified": "Verified by the OPD",
            "in_progress": "In progress",
            "resolved": "Resolved",
            "closed": "Closed",
            "rejected": "Rejected",
            "waiting_citizen": "Waiting for the reporter",
            "waiting_third_party": "Waiting for a third party",
        },
        "kind": {
            "complaint": "complaint",
            "suggestion": "suggestion",
            "information": "information request",
        },
        "reason": {
            "invalid": "the report does not meet the requirements",
            "spam": "the report looks like spam",
            "duplicate": "the same matter was already reported",
            "out_of_authority": "outside the regency government's authority",
        },
        "reply": {
            "info": "added information",
            "confirm": "accepted the resolution",
            "dispute": "disputed the resolution",
        },
        "stage": {
            "routing": "review and routing (3 working days)",
            "follow_up": "the OPD's first follow-up (5 working days)",
            "resolution": "resolution",
        },
        "opd": {TRIASE: "Admin Koordinator", LUAR_KEWENANGAN: "Outside the regency's authority"},
    },
}

_MONTHS = {
    "id": [
        *("Januari", "Februari", "Maret", "April", "Mei", "Juni"),
        *("Juli", "Agustus", "September", "Oktober", "November", "Desember"),
    ],
    "en": [
        *("January", "February", "March", "April", "May", "June"),
        *("July", "August", "September", "October", "November", "December"),
    ],
}
_DAYS = {
    "id": ["Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu"],
    "en": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
}
_ZONE_NAMES = {"Asia/Jakarta": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}


def format_when(at: datetime, lang: str, tz: ZoneInfo) -> str:
    """`Senin, 3 Juni 2024 pukul 16.00 WIB` / `Monday, 3 June 2024, 16:00 WIB`."""
    local = at.astimezone(tz)
    zone = _ZONE_NAMES.get(str(tz.key), local.strftime("%Z"))
    weekday, month = _DAYS[lang][local.weekday()], _MONTHS[lang][local.month - 1]
    day = f"{weekday}, {local.day} {month} {local.year}"
    if lang == "id":
        return f"{day} pukul {local:%H.%M} {zone}"
    return f"{day}, {local:%H:%M} {zone}"


# -- rendering ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TicketFacts:
    """What messages may say of the ticket itself (never the reporter's identity)."""

    kind: str | None = None
    summary: str | None = None  # title or an excerpt; None for confidential tickets
    confidential: bool = False
    chat: bool = False  # filed in a WhatsApp or SMS chat: replies go back to it


@dataclass(frozen=True)
class DigestLine:
    tracking_code: str
    line: str  # the subject the message would have had
    url: str


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str | None = None


@dataclass(frozen=True)
class Links:
    public_base_url: str
    console_base_url: str

    def tracking(self, code: str) -> Verbatim:
        return Verbatim(f"{self.public_base_url.rstrip('/')}/lacak?kode={code}")

    def console(self, code: str | None = None) -> Verbatim:
        base = f"{self.console_base_url.rstrip('/')}/konsol"
        return Verbatim(f"{base}/tiket/{code}" if code else base)


class Renderer:
    """Renders message templates for a language and channel; templates load once, lazily."""

    def __init__(
        self,
        *,
        links: Links,
        organisation: str,
        tz: ZoneInfo,
        directory: Path = TEMPLATE_DIR,
    ) -> None:
        self.links = links
        self._organisation = organisation
        self._tz = tz
        loader = FileSystemLoader(directory)
        options: dict[str, Any] = {
            "loader": loader,
            "undefined": StrictUndefined,
            "trim_blocks": True,
            "lstrip_blocks": True,
            "keep_trailing_newline": False,
        }
        # Plain-text environments: nothing HTML-escaped; each escapes values for its channel.
        self._text = Environment(autoescape=False, finalize=plain, **options)  # noqa: S701
        self._whatsapp = Environment(autoescape=False, finalize=for_whatsapp, **options)  # noqa: S701
        self._html = Environment(autoescape=True, finalize=for_html, **options)
        self._html.filters["paragraphs"] = paragraphs

    def context(
        self,
        notice: Notice,
        *,
        lang: str,
        facts: TicketFacts,
        opd_names: Mapping[str, str],
        items: Sequence[DigestLine] = (),
    ) -> dict[str, Any]:
        """Everything a template may use; missing facts are None (templates test for them)."""
        labels = LABELS[lang]

        def label(group: str, value: str | None) -> str | None:
            return labels[group].get(value, value) if value else None

        def opd_name(code: str | None) -> str | None:
            if not code:
                return None
            return labels["opd"].get(code) or opd_names.get(code) or code

        offered = [str(c) for c in notice.payload.get("candidates") or ()]

        return {
            "lang": lang,
            "org": self._organisation,
            "code": notice.tracking_code,
            "event_type": notice.event_type,
            "kind_label": label("kind", facts.kind) or label("kind", "complaint"),
            "summary": facts.summary,
            "confidential": facts.confidential,
            "status": notice.status,
            "status_label": label("status", notice.status),
            "opd_code": notice.opd,
            "opd_name": opd_name(notice.opd),
            "from_opd_name": opd_name(notice.from_opd),
            "due": format_when(notice.due_at, lang, self._tz) if notice.due_at else None,
            "note": notice.note,
            "action": notice.action,
            "reason_label": label("reason", notice.reason),
            "reply_label": label("reply", notice.action),
            "stage_label": label("stage", notice.stage),
            "tracking_url": self.links.tracking(notice.tracking_code),
            "console_url": self.links.console(notice.tracking_code),
            "console_home": self.links.console(),
            "items": list(items),
            "count": len(items),
            "chat": facts.chat,
            # routing's choice question: the candidates by number, then "other"
            "candidates": [
                {"n": n, "code": code, "name": opd_name(code)} for n, code in enumerate(offered, 1)
            ],
            "other_n": len(offered) + 1,
        }

    def render(
        self, template: str, *, lang: str, channel: str, context: dict[str, Any]
    ) -> Rendered:
        """The message of `template` for `channel` in `lang`."""
        if lang not in LANGUAGES:
            lang = LANGUAGES[0]
        context = {**context, "lang": lang}
        name = f"{lang}/{template}.txt"
        subject = one_line(self._block(self._text.get_template(name), "subject", context))
        if channel == Channel.WHATSAPP:
            short = self._block(self._whatsapp.get_template(name), "short", context)
            return Rendered(subject=subject, text=short.strip())
        if channel == Channel.SMS:
            short = self._block(self._text.get_template(name), "short", context)
            return Rendered(subject=subject, text=for_sms(short.strip()))
        if channel == Channel.LOG:
            return Rendered(subject=subject, text=subject)
        kind = self._text.get_template(name)
        parts = {
            **context,
            "subject": subject,
            "intro": self._block(kind, "intro", context).strip(),
            "details": self._block(kind, "details", context).strip(),
            "for_citizen": template.startswith("citizen_"),
            "link": context["tracking_url"]
            if template.startswith("citizen_")
            else context["console_url"],
        }
        if template == "staff_digest":
            parts["link"] = context["console_home"]
        text = self._text.get_template(f"{lang}/_email.txt").render(parts)
        html = self._html.get_template(f"{lang}/_email.html").render(parts)
        return Rendered(subject=subject, text=text.strip() + "\n", html=html)

    @staticmethod
    def _block(template: Template, block: str, context: dict[str, Any]) -> str:
        render = template.blocks.get(block)
        if render is None:
            return ""
        return "".join(render(template.new_context(context)))
