"""How citizens answer in a chat: the word lists of `data/words.json`, and reading a message
against them. Pure: the file is read once."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA = Path(__file__).parent / "data" / "words.json"
_NOT_WORD = re.compile(r"[^a-z0-9?]+")
_REPEATS = re.compile(r"([a-z])\1{2,}")


def fold(text: str) -> str:
    """Lower case, accents off, punctuation to spaces, `kirimmm` to `kirim`, single spaces."""
    plain = "".join(
        c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c)
    )
    plain = _REPEATS.sub(r"\1", plain)
    return " ".join(_NOT_WORD.sub(" ", plain).split())


def _phrases(values: Iterable[str]) -> frozenset[str]:
    return frozenset(fold(v) for v in values if fold(v))


@dataclass(frozen=True)
class Lexicon:
    yes: frozenset[str]
    no: frozenset[str]
    skip: frozenset[str]
    anonymous: frozenset[str]
    send: frozenset[str]
    edit: frozenset[str]
    edit_targets: dict[str, frozenset[str]]
    cancel: frozenset[str]
    help: frozenset[str]
    new: frozenset[str]
    check: frozenset[str]
    greetings: frozenset[str]
    thanks: frozenset[str]
    dispute: tuple[str, ...]
    kecamatan_markers: frozenset[str]
    desa_markers: frozenset[str]
    ambiguous_kecamatan: frozenset[str]

    def is_(self, group: frozenset[str], text: str) -> bool:
        """Whether the whole message is one of the group's phrases, greetings aside
        (`iya min`, `makasih pak`)."""
        folded = fold(text)
        if folded in group:
            return True
        content = " ".join(w for w in folded.split() if w not in self.greetings)
        return bool(content) and content in group

    def disputes(self, text: str) -> bool:
        """Whether the message says the matter is not settled (`belum selesai`, ...)."""
        folded = f" {fold(text)} "
        return any(f" {phrase} " in folded for phrase in self.dispute)

    def edit_target(self, text: str) -> str | None:
        folded = fold(text)
        words = set(folded.split())
        for target, names in self.edit_targets.items():
            if folded in names or words & names:
                return target
        return None

    def content_words(self, text: str) -> list[str]:
        """The message's words without greetings and courtesies."""
        return [w for w in fold(text).split() if w not in self.greetings]


@cache
def packaged_lexicon() -> Lexicon:
    data = json.loads(DATA.read_text(encoding="utf-8"))
    markers = data["markers"]
    return Lexicon(
        yes=_phrases(data["yes"]),
        no=_phrases(data["no"]),
        skip=_phrases(data["skip"]),
        anonymous=_phrases(data["anonymous"]),
        send=_phrases(data["send"]),
        edit=_phrases(data["edit"]),
        edit_targets={k: _phrases(v) for k, v in data["edit_targets"].items()},
        cancel=_phrases(data["cancel"]),
        help=_phrases(data["help"]) | {"?"},
        new=_phrases(data["new"]),
        check=_phrases(data["check"]),
        greetings=_phrases(data["greetings"]),
        thanks=_phrases(data["thanks"]),
        dispute=tuple(sorted(_phrases(data["dispute"]), key=len, reverse=True)),
        kecamatan_markers=_phrases(markers["kecamatan"]),
        desa_markers=_phrases(markers["desa"]),
        ambiguous_kecamatan=_phrases(data["ambiguous_kecamatan"]),
    )
