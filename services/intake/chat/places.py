"""Kecamatan and desa named in a chat, matched forgivingly against the catalogue.

Citizens type `kragilan`, `kec. ciruas`, `Lebakwangi`, `pulo ampel`, `ciruass` or `desa bugel`;
an answer to "which kecamatan?" is matched with a small edit distance (more for longer names),
spaces ignored. A free complaint text is read more carefully: a kecamatan counts when a marker
(`kec`, `kecamatan`) comes before it, or when its name appears as it is and is not an everyday
word too (`anyar`, `petir`: words.json's `ambiguous_kecamatan`); a desa only after `desa`/`ds`.
Pure: built from the catalogue's regions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from services.intake.chat.lexicon import Lexicon, fold
from shared.catalogue import Region


def distance(a: str, b: str) -> int:
    """Edit distance with transpositions (optimal string alignment)."""
    if a == b:
        return 0
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                value = min(value, previous2[j - 2] + 1)
            current.append(value)
        previous2, previous = previous, current
    return previous[-1]


def tolerance(name: str) -> int:
    """Typos allowed for a name of this length: none for short names, then one, then two."""
    return 0 if len(name) <= 4 else 1 if len(name) <= 7 else 2


def _squash(text: str) -> str:
    return fold(text).replace(" ", "")


@dataclass(frozen=True)
class Place:
    kecamatan: str | None = None  # region code, KEC-...
    desa: str | None = None  # the catalogue's spelling
    desa_hint: str | None = None  # a desa named before its kecamatan is known


class Gazetteer:
    """The catalogue's kecamatan and desa, for matching what citizens write."""

    def __init__(self, regions: Sequence[Region], lexicon: Lexicon) -> None:
        self._regions = {r.code: r for r in regions}
        self._lexicon = lexicon
        self._kecamatan = {r.code: _squash(r.name) for r in regions}
        self._desa: dict[str, dict[str, str]] = {
            r.code: {_squash(d): d for d in r.desa} for r in regions
        }
        where: dict[str, set[str]] = {}
        for code, names in self._desa.items():
            for squashed in names:
                where.setdefault(squashed, set()).add(code)
        self._desa_kecamatan = where

    def name(self, code: str) -> str:
        region = self._regions.get(code)
        return region.name if region else code

    def has_desa(self, code: str) -> bool:
        return bool(self._desa.get(code))

    def _best(self, wanted: str, names: dict[str, str]) -> str | None:
        """The key of the closest name within its tolerance; None if none or a tie."""
        if not wanted:
            return None
        scored = sorted((distance(wanted, squashed), key) for key, squashed in names.items())
        if not scored:
            return None
        best_distance, best_key = scored[0]
        if best_distance > tolerance(names[best_key]):
            return None
        if len(scored) > 1 and scored[1][0] == best_distance and best_distance > 0:
            return None  # two names equally close: do not guess
        return best_key

    def _strip_markers(self, words: list[str], markers: frozenset[str]) -> list[str]:
        return [w for w in words if w not in markers]

    def kecamatan(self, answer: str) -> Place:
        """An answer to "which kecamatan?": the kecamatan (and desa, if named too) or nothing."""
        found = self.in_text(answer)
        if found.kecamatan:
            return found
        words = fold(answer).split()
        words = self._strip_markers(words, self._lexicon.kecamatan_markers | {"di", "daerah"})
        if not words:
            return Place()
        whole = self._best("".join(words), self._kecamatan)
        if whole:
            return Place(kecamatan=whole, desa_hint=found.desa_hint)
        for size in (3, 2, 1):
            for start in range(len(words) - size + 1):
                piece = "".join(words[start : start + size])
                code = self._best(piece, self._kecamatan) if len(piece) > 4 else None
                if code:
                    return Place(kecamatan=code, desa_hint=found.desa_hint)
        desa = self._unique_desa("".join(words))
        if desa:
            return desa
        return Place(desa_hint=found.desa_hint)

    def _unique_desa(self, squashed: str) -> Place | None:
        """A desa whose name belongs to one kecamatan only, matched exactly."""
        codes = self._desa_kecamatan.get(squashed, set())
        if len(codes) == 1:
            code = next(iter(codes))
            return Place(kecamatan=code, desa=self._desa[code][squashed])
        return None

    def desa(self, answer: str, kecamatan: str) -> str | None:
        """An answer to "which desa?" in a known kecamatan: the catalogue's spelling, or None."""
        words = self._strip_markers(fold(answer).split(), self._lexicon.desa_markers)
        names = self._desa.get(kecamatan, {})
        if not words or not names:
            return None
        key = self._best("".join(words), {k: k for k in names})
        return names[key] if key else None

    def in_text(self, text: str) -> Place:
        """What a complaint text says of its place, read carefully (see the module's notes)."""
        words = fold(text).split()
        kecamatan: str | None = None
        after_desa: list[list[str]] = []  # the words after each `desa`/`ds` (`jalan desa ...`)
        for i, word in enumerate(words):
            if word in self._lexicon.kecamatan_markers and kecamatan is None:
                for size in (2, 1):
                    piece = "".join(words[i + 1 : i + 1 + size])
                    code = self._best(piece, self._kecamatan) if piece else None
                    if code:
                        kecamatan = code
                        break
            elif word in self._lexicon.desa_markers and i + 1 < len(words):
                after_desa.append(words[i + 1 : i + 4])
        if kecamatan is None:
            plain = {
                squashed: code
                for code, squashed in self._kecamatan.items()
                if squashed not in self._lexicon.ambiguous_kecamatan
            }
            for size in (2, 1):
                for start in range(len(words) - size + 1):
                    code = plain.get("".join(words[start : start + size]))
                    if code and kecamatan is None:
                        kecamatan = code
        for following in after_desa:
            desa, found_in = self._desa_of(following, kecamatan)
            if desa is not None:
                return Place(kecamatan=found_in, desa=desa)
        hint = after_desa[-1][0] if after_desa else None
        return Place(kecamatan=kecamatan, desa_hint=hint)

    def _desa_of(self, words: list[str], kecamatan: str | None) -> tuple[str | None, str | None]:
        """The desa after a marker: in the known kecamatan, else a desa name of one kecamatan."""
        for size in (3, 2, 1):
            piece = " ".join(words[:size])
            if kecamatan is not None:
                found = self.desa(piece, kecamatan)
                if found:
                    return found, kecamatan
                continue
            unique = self._unique_desa(piece.replace(" ", ""))
            if unique is not None:
                return unique.desa, unique.kecamatan
        return None, kecamatan

    def suggest_kecamatan(self, answer: str, limit: int = 3) -> list[str]:
        wanted = _squash(answer)
        ranked = sorted((distance(wanted, s), code) for code, s in self._kecamatan.items())
        return [self.name(code) for d, code in ranked[:limit] if d <= max(3, len(wanted) // 2)]

    def suggest_desa(self, answer: str, kecamatan: str, limit: int = 3) -> list[str]:
        wanted = _squash(answer)
        names = self._desa.get(kecamatan, {})
        ranked = sorted((distance(wanted, s), s) for s in names)
        return [names[s] for d, s in ranked[:limit] if d <= max(3, len(wanted) // 2)]
