"""Labelled complaint texts: the training corpus shipped with the code, and seeded splits.

`data/examples.jsonl` holds the first examples written for the router; `data/corpus/*.jsonl`
the larger corpus written in the voices citizens use (formal letters, WhatsApp shorthand,
social-media posts, regional words, questions, several problems in one message). One JSON
object a line: `{"text", "opd", "category", "kecamatan"}`. Every kecamatan office is one class,
`KECAMATAN`: the ticket's location picks which office.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Final

DATA: Final = Path(__file__).resolve().parent.parent / "data"
EXAMPLES_FILE: Final = DATA / "examples.jsonl"
CORPUS_DIR: Final = DATA / "corpus"
KECAMATAN: Final = "KECAMATAN"  # one class for every kecamatan office; the location picks which


@dataclass(frozen=True)
class Example:
    """One labelled complaint: what the citizen wrote and chose, and where it belongs."""

    text: str
    opd: str
    category: str | None = None
    kecamatan: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        return {
            "text": self.text,
            "opd": self.opd,
            "category": self.category,
            "kecamatan": self.kecamatan,
        }


def label_of(opd: str) -> str:
    """The class a code is learnt as: every `KEC-...` office is the one class `KECAMATAN`."""
    return KECAMATAN if opd.startswith("KEC-") else opd


def parse_examples(lines: Iterable[str]) -> list[Example]:
    """Examples from JSON lines (`{"text", "opd", "category", "kecamatan"}`); blanks skipped."""
    out: list[Example] = []
    for line in lines:
        if not line.strip():
            continue
        raw = json.loads(line)
        out.append(
            Example(
                text=str(raw["text"]),
                opd=str(raw["opd"]),
                category=raw.get("category"),
                kecamatan=raw.get("kecamatan"),
            )
        )
    return out


def _read(path: Path) -> list[Example]:
    return parse_examples(path.read_text(encoding="utf-8").splitlines())


@cache
def original_examples() -> tuple[Example, ...]:
    """The first labelled examples (data/examples.jsonl): the naive Bayes baseline's data."""
    return tuple(_read(EXAMPLES_FILE))


@cache
def packaged_examples() -> tuple[Example, ...]:
    """Every labelled example shipped with the code: examples.jsonl and the corpus."""
    corpus = [e for path in sorted(CORPUS_DIR.glob("*.jsonl")) for e in _read(path)]
    return (*original_examples(), *corpus)


def stratified_split(
    examples: Sequence[Example], *, seed: int, fraction: float = 0.7
) -> tuple[list[Example], list[Example]]:
    """A seeded split into (train, held back), `fraction` of each class to train on.

    Deterministic for the same examples in any order; every class keeps at least one example
    for training.
    """
    by_class: dict[str, list[Example]] = defaultdict(list)
    for example in examples:
        by_class[label_of(example.opd)].append(example)
    rng = random.Random(seed)
    train: list[Example] = []
    held_back: list[Example] = []
    for label in sorted(by_class):
        items = sorted(by_class[label], key=lambda e: (e.text, e.opd, e.category or ""))
        rng.shuffle(items)
        cut = max(1, round(len(items) * fraction))
        train.extend(items[:cut])
        held_back.extend(items[cut:])
    return train, held_back
