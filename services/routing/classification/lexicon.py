"""Programmes, documents, services and institutions that citizens name by acronym.

Real complaints name the thing, not the unit: "PKH saya tidak cair", "blangko KTP habis", "PBG
belum terbit". `data/lexicon.json` lists such terms with their full name, their kind and the
unit that owns them. The classifier sees each entry found as a feature of its kind and unit
(`program:DINSOS`), so one it rarely met in training still counts for the right unit; reasons
quote the full name.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Final

from services.routing.classification import text as nlp

LEXICON_FILE: Final = Path(__file__).resolve().parent.parent / "data" / "lexicon.json"
KINDS: Final = ("program", "dokumen", "layanan", "lembaga")


@dataclass(frozen=True)
class Entry:
    term: str
    name: str
    kind: str
    opd: str  # an OPD code, KECAMATAN or LUAR_KEWENANGAN
    words: tuple[str, ...]  # the term as normalised words


@dataclass(frozen=True, eq=False)
class Lexicon:
    version: str
    entries: tuple[Entry, ...]
    by_first: Mapping[str, tuple[Entry, ...]]  # entries by their first word, longest first

    def find(self, words: Sequence[str]) -> list[Entry]:
        """Entries whose words occur in the text, longest first where they overlap."""
        by_first = self.by_first
        found: list[tuple[int, int, Entry]] = []
        for i, word in enumerate(words):
            for entry in by_first.get(word, ()):
                end = i + len(entry.words)
                if tuple(words[i:end]) == entry.words:
                    found.append((i, end, entry))
        found.sort(key=lambda f: (f[0] - f[1], f[0]))
        taken = [False] * len(words)
        kept: list[tuple[int, Entry]] = []
        for start, end, entry in found:
            if any(taken[start:end]):
                continue
            for k in range(start, end):
                taken[k] = True
            kept.append((start, entry))
        return [entry for _, entry in sorted(kept, key=lambda k: k[0])]


def parse(data: dict[str, object]) -> Lexicon:
    """A lexicon from its JSON form; terms without words after normalisation are refused."""
    entries: list[Entry] = []
    raw_entries = data["entries"]
    assert isinstance(raw_entries, list)
    for raw in raw_entries:
        words = tuple(nlp.words(str(raw["term"])))
        if not words or raw["kind"] not in KINDS:
            raise ValueError(f"lexicon entry {raw!r}: no words, or an unknown kind")
        entries.append(
            Entry(str(raw["term"]), str(raw["name"]), str(raw["kind"]), str(raw["opd"]), words)
        )
    by_first: dict[str, list[Entry]] = {}
    for entry in entries:
        by_first.setdefault(entry.words[0], []).append(entry)
    index = {k: tuple(sorted(v, key=lambda e: -len(e.words))) for k, v in by_first.items()}
    return Lexicon(str(data["version"]), tuple(entries), index)


@cache
def packaged_lexicon() -> Lexicon:
    """The lexicon shipped with the code (services/routing/data/lexicon.json)."""
    return parse(json.loads(LEXICON_FILE.read_text(encoding="utf-8")))
