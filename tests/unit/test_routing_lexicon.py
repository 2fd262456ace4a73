"""The lexicon of programmes, documents, services and institutions citizens name."""

from __future__ import annotations

import pytest

from services.routing.classification import text as nlp
from services.routing.classification.examples import KECAMATAN
from services.routing.classification.lexicon import KINDS, packaged_lexicon, parse
from shared.catalogue import LUAR_KEWENANGAN, packaged_catalogue


def _found(text: str) -> list[tuple[str, str]]:
    return [(e.term, e.opd) for e in packaged_lexicon().find(nlp.words(text))]


@pytest.mark.parametrize(
    ("text", "term", "opd"),
    [
        ("PKH sy blm cair", "pkh", "DINSOS"),
        ("kks ibu saya hilang", "kks", "DINSOS"),
        ("dtks kami belum diupdate", "dtks", "DINSOS"),
        ("KIP anak saya di SD", "kip", "DINDIKBUD"),
        ("blangko ktp habis", "blangko", "DISDUKCAPIL"),
        ("PBG belum terbit", "pbg", "DPMPTSP"),
        ("SPPT PBB belum datang", "sppt", "BAPENDA"),
        ("bimbingan calon pengantin", "calon pengantin", "DP3AKB"),
        ("pju di gang mati", "pju", "DISHUB"),
    ],
)
def test_acronyms_citizens_use_are_known_with_their_unit(text: str, term: str, opd: str) -> None:
    assert (term, opd) in _found(text)


def test_the_longest_term_wins_where_terms_overlap() -> None:
    assert _found("kis pbi saya nonaktif") == [("kis pbi", "DINSOS")]
    assert _found("blt dana desa belum cair") == [("blt dd", "DPMD")]


def test_terms_are_matched_after_normalisation() -> None:
    # "kk" is read as "kartu keluarga", so the term is written that way.
    assert _found("kk saya salah nama") == [("kartu keluarga", "DISDUKCAPIL")]


def test_every_entry_names_a_known_unit_and_kind() -> None:
    units = {o.code for o in packaged_catalogue().opds} | {KECAMATAN, LUAR_KEWENANGAN}
    lexicon = packaged_lexicon()
    assert len(lexicon.entries) >= 200
    for entry in lexicon.entries:
        assert entry.opd in units, entry
        assert entry.kind in KINDS and entry.name
    read_as = [e.words for e in lexicon.entries]
    assert len(read_as) == len(set(read_as)), "two terms read the same after normalisation"


def test_an_entry_without_words_is_refused() -> None:
    with pytest.raises(ValueError, match="no words"):
        parse(
            {
                "version": "x",
                "entries": [{"term": "!!", "name": "-", "kind": "program", "opd": "DINSOS"}],
            }
        )
