"""What the public may see of a ticket: the one publication policy of every public surface.

Open311 (lists and single requests, JSON and XML), the public tracking JSON and page, photos,
the statistics and the console's preview all ask this module. Pure: no clock, no database, no
network; the word lists are packaged data (`data/redaction.json`).

- A ticket's content (its text, category, timeline, answers, place and photos) is public only
  once an officer has verified it, never when it is rejected, confidential or hidden by an
  officer. Until then, looked up by its tracking code, it shows only its status, OPD and dates,
  as a confidential ticket does. Public lists hold exactly the tickets whose content is public.
- Misconduct matters (INSPEKTORAT) are confidential unless the citizen chose otherwise.
- Public text is always redacted: NIK/KK-like numbers, phone numbers, e-mail addresses,
  vehicle plates and personal names introduced by "saya", "nama saya", "bapak/ibu ...".
- Coordinates are rounded to `COORDINATE_DECIMALS` decimals (about 110 m).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Protocol

PUBLIC_STATUSES = frozenset(
    {"verified", "in_progress", "waiting_citizen", "waiting_third_party", "resolved", "closed"}
)
CONFIDENTIAL_BY_DEFAULT = frozenset({"INSPEKTORAT"})
COORDINATE_DECIMALS = 3
LEXICON_FILE = Path(__file__).parent / "data" / "redaction.json"

EMAIL = "[email]"
PHONE = "[nomor telepon]"
ID_NUMBER = "[NIK/KK]"
NUMBER = "[nomor]"
PLATE = "[pelat nomor]"
NAME = "[nama]"


class Choice(Protocol):
    """An officer's decision on the public text (stored on the ticket as `publication`)."""

    @property
    def text(self) -> str | None: ...

    @property
    def hidden(self) -> bool: ...


class Publishable(Protocol):
    """What the policy reads of a ticket."""

    @property
    def status(self) -> str: ...

    @property
    def confidential(self) -> bool: ...

    @property
    def description(self) -> str: ...

    @property
    def publication(self) -> Choice | None: ...


class Exposure(StrEnum):
    """Whether a ticket's content is public, and if not, why."""

    PUBLIC = "public"
    NOT_VERIFIED = "not_verified"
    REJECTED = "rejected"
    CONFIDENTIAL = "confidential"
    HIDDEN = "hidden"


def confidential_when_submitted(*, requested: bool | None, category_opd: str | None) -> bool:
    """The citizen's choice; without one, confidential when the category is a misconduct one."""
    if requested is not None:
        return requested
    return category_opd in CONFIDENTIAL_BY_DEFAULT


def confidential_when_assigned(*, requested: bool | None, current: bool, opd: str | None) -> bool:
    """Assigned to INSPEKTORAT without a choice of the citizen: confidential from then on."""
    if requested is not None:
        return requested
    return current or opd in CONFIDENTIAL_BY_DEFAULT


def exposure(ticket: Publishable) -> Exposure:
    if ticket.status == "rejected":
        return Exposure.REJECTED
    if ticket.confidential:
        return Exposure.CONFIDENTIAL
    if ticket.publication is not None and ticket.publication.hidden:
        return Exposure.HIDDEN
    if ticket.status not in PUBLIC_STATUSES:
        return Exposure.NOT_VERIFIED
    return Exposure.PUBLIC


def shows_content(ticket: Publishable) -> bool:
    """Whether anyone may see the ticket's content; also whether it is in public lists."""
    return exposure(ticket) is Exposure.PUBLIC


def listed_statuses(wanted: Iterable[str] | None = None) -> list[str]:
    """The statuses a public list may hold, of those wanted (all when None)."""
    chosen = PUBLIC_STATUSES if wanted is None else PUBLIC_STATUSES & set(wanted)
    return sorted(chosen)


def draft_text(ticket: Publishable) -> str:
    """The text the public sees once the content is public: the officer's edit or the
    description, always redacted (the console's preview)."""
    edited = ticket.publication.text if ticket.publication is not None else None
    return redact(edited if edited else ticket.description)


def public_text(ticket: Publishable) -> str | None:
    return draft_text(ticket) if shows_content(ticket) else None


def public_note(note: str | None) -> str | None:
    """A note shown to the public (a timeline note, an answer, an address): redacted."""
    return redact(note) if note else note


def public_point(lat: float | None, lon: float | None) -> tuple[float, float] | None:
    if lat is None or lon is None:
        return None
    return round(lat, COORDINATE_DECIMALS), round(lon, COORDINATE_DECIMALS)


def redact(text: str) -> str:
    return default_redactor().redact(text)


# -- redaction ------------------------------------------------------------------------------------

_SEP = r"[ .\-]"
_EMAIL = re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+")
# 16 digits, with at most one separator between any two: NIK and KK (and their look-alikes).
_ID_NUMBER = re.compile(rf"(?<![\w.\-])\d(?:{_SEP}?\d){{15}}(?![\w])")
_MOBILE = re.compile(rf"(?<![\w+])(?:\+62|62|0)[ .\-]?8\d{{1,2}}(?:{_SEP}?\d){{6,9}}(?![\w])")
_LANDLINE = re.compile(r"(?<![\w(])(?:\(0\d{2,3}\)|0[2-79]\d{1,2})[ .\-]?\d{5,8}(?![\w])")
# Any other run of 10 or more digits (bank accounts, NPWP, BPJS numbers): no spaces inside.
_LONG_NUMBER = re.compile(r"(?<![\w.,])\d(?:[.\-]?\d){9,}(?![\w])")
_MONEY_BEFORE = re.compile(r"(?:rp|idr)\.?\s*$", re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_][\w'\u2019]*\.?")
_GAP = re.compile(r"[ \t]+")


@dataclass(frozen=True)
class Lexicon:
    plate_regions: frozenset[str]
    plate_keywords: tuple[str, ...]
    honorifics: tuple[str, ...]
    honorifics_capitalised: tuple[str, ...]
    titles: frozenset[str]
    not_names: frozenset[str]
    name_stops: frozenset[str]

    @classmethod
    def from_json(cls, text: str) -> Lexicon:
        raw = json.loads(text)
        return cls(
            plate_regions=frozenset(raw["plate_regions"]),
            plate_keywords=tuple(raw["plate_keywords"]),
            honorifics=tuple(raw["honorifics"]),
            honorifics_capitalised=tuple(raw["honorifics_capitalised"]),
            titles=frozenset(raw["titles"]),
            not_names=frozenset(raw["not_names"]),
            name_stops=frozenset(raw["name_stops"]),
        )


def _alternatives(words: Iterable[str]) -> str:
    """A regex alternation of phrases, longest first, spaces matching any blank."""
    ordered = sorted(set(words), key=len, reverse=True)
    return "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in ordered)


class Redactor:
    """Replaces personal data in free text with placeholders: `[nomor telepon]`, `[nama]`…"""

    def __init__(self, lexicon: Lexicon) -> None:
        self._lex = lexicon
        regions = _alternatives(lexicon.plate_regions)
        plate = rf"(?:{regions})\s?\d{{1,4}}\s?[A-Z]{{1,3}}"
        self._plate = re.compile(rf"\b{plate}\b")
        self._plate_after_keyword = re.compile(
            rf"\b(?P<kw>{_alternatives(lexicon.plate_keywords)})\.?\s*:?\s*"
            rf"(?P<plate>[A-Za-z]{{1,2}}\s?\d{{1,4}}\s?[A-Za-z]{{1,3}})\b",
            re.IGNORECASE,
        )
        self._named = re.compile(
            r"\b(?:nama\s+(?:saya|lengkap|pelapor|lengkap\s+saya)\s*(?:adalah|ialah|:)?"
            r"|saya\s+(?:bernama|adalah|ialah)"
            r"|nama\s*:|atas\s+nama|a\.\s?n\.|(?<![\w.])an\.)\s*",
            re.IGNORECASE,
        )
        self._saya = re.compile(r"\b(?:saya|sy|aku)\s+", re.IGNORECASE)
        self._honorific = re.compile(
            rf"(?<![\w\-])(?:{_alternatives(lexicon.honorifics)})\.?\s+", re.IGNORECASE
        )
        self._honorific_capitalised = re.compile(
            rf"(?<![\w\-])(?:{_alternatives(lexicon.honorifics_capitalised)})\s+", re.IGNORECASE
        )

    def redact(self, text: str) -> str:
        text = _EMAIL.sub(EMAIL, text)
        text = self._plate_after_keyword.sub(lambda m: f"{m['kw']} {PLATE}", text)
        text = self._plate.sub(PLATE, text)
        text = _ID_NUMBER.sub(ID_NUMBER, text)
        text = _MOBILE.sub(PHONE, text)
        text = _LANDLINE.sub(PHONE, text)
        text = _LONG_NUMBER.sub(self._long_number, text)
        return self._names(text)

    @staticmethod
    def _long_number(match: re.Match[str]) -> str:
        before = match.string[max(0, match.start() - 6) : match.start()]
        return match.group(0) if _MONEY_BEFORE.search(before) else NUMBER

    # -- names --
    def _names(self, text: str) -> str:
        spans: list[tuple[int, int]] = []
        for found in self._named.finditer(text):
            spans += self._name_at(text, found.end(), _After.INTRODUCTION)
        for found in self._saya.finditer(text):
            spans += self._name_at(text, found.end(), _After.SAYA)
        for found in self._honorific.finditer(text):
            spans += self._name_at(text, self._skip_titles(text, found.end()), _After.HONORIFIC)
        for found in self._honorific_capitalised.finditer(text):
            spans += self._name_at(text, self._skip_titles(text, found.end()), _After.CAPITALISED)
        for start, end in sorted(set(spans), reverse=True):
            if not _overlaps_placeholder(text, start, end):
                text = text[:start] + NAME + text[end:]
        return text

    def _skip_titles(self, text: str, pos: int) -> int:
        """Past words like "Kades", "H." or "RT" that come between "Pak" and a name."""
        while True:
            word = _WORD.match(text, pos)
            if word is None or word.group(0).rstrip(".").lower() not in self._lex.titles:
                return pos
            gap = _GAP.match(text, word.end())
            if gap is None:
                return word.end()
            pos = gap.end()

    def _name_at(self, text: str, pos: int, after: _After) -> list[tuple[int, int]]:
        """The span of the name that starts at `pos` (at most four words), or none.

        After "nama saya" any word is a name until a word like "warga" or a punctuation mark;
        after "saya" only capitalised words are (or a lower-case one that is introduced, as in
        "saya budi, warga ..."); after "pak"/"bu" a capitalised name, or one lower-case word;
        after "kang"/"teh" only a capitalised name.
        """
        words: list[re.Match[str]] = []
        cursor = pos
        while len(words) < 4:
            word = _WORD.match(text, cursor)
            if word is None:
                break
            bare = word.group(0).rstrip(".").lower()
            if bare in self._lex.name_stops or bare in self._lex.not_names:
                break
            connector = bool(words) and bare in _CONNECTORS  # "Ahmad bin Yusuf"
            if (
                not connector
                and not word.group(0)[0].isupper()
                and not self._lower_case_name(text, word, after, first=not words)
            ):
                break
            words.append(word)
            lower_single = (
                after is _After.HONORIFIC and not connector and not word.group(0)[0].isupper()
            )
            sentence_end = word.group(0).endswith(".") and len(bare) > 1
            gap = _GAP.match(text, word.end())
            if lower_single or sentence_end or gap is None:
                break
            cursor = gap.end()
        while words and words[-1].group(0).rstrip(".").lower() in _CONNECTORS:
            words.pop()
        if not words:
            return []
        end = words[-1].end()
        if text[end - 1] == "." and len(words[-1].group(0)) > 2:
            end -= 1  # the full stop after the name stays
        return [(words[0].start(), end)]

    def _lower_case_name(
        self, text: str, word: re.Match[str], after: _After, *, first: bool
    ) -> bool:
        if after is _After.INTRODUCTION:
            return True
        if not first:
            return False
        if after is _After.HONORIFIC:
            return len(word.group(0).rstrip(".")) >= 3
        return after is _After.SAYA and self._introduced(text, word.end())

    def _introduced(self, text: str, pos: int) -> bool:
        """After a lower-case word following "saya": a comma or a word like "warga" or "dari"
        says the word was a name ("saya budi warga ciruas")."""
        rest = text[pos:].lstrip(" \t")
        if rest.startswith(","):
            return True
        following = _WORD.match(rest)
        return following is not None and following.group(0).rstrip(".").lower() in _INTRODUCERS


class _After(StrEnum):
    INTRODUCTION = "introduction"  # "nama saya", "saya bernama", "nama:", "atas nama", "a.n."
    SAYA = "saya"
    HONORIFIC = "honorific"  # "bapak", "ibu", "pak", "bu", "sdr": "pak budi" too
    CAPITALISED = "capitalised"  # "Kang Asep", "Teh Euis": not "kang ojek", "teh manis"


_CONNECTORS = frozenset({"bin", "binti"})

_INTRODUCERS = frozenset(
    {"warga", "dari", "asal", "tinggal", "berdomisili", "beralamat", "umur", "usia", "selaku"}
)


def _overlaps_placeholder(text: str, start: int, end: int) -> bool:
    return "[" in text[start:end] or "]" in text[start:end]


@cache
def default_redactor() -> Redactor:
    return Redactor(Lexicon.from_json(LEXICON_FILE.read_text(encoding="utf-8")))
