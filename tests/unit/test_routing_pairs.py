"""Object-and-state pairs of the rule book, and the Sundanese and Banten Javanese words."""

from __future__ import annotations

from typing import Any

import pytest

from services.routing.classification import router
from services.routing.classification import text as nlp
from services.routing.classification.rules import rule_book
from shared.catalogue import packaged_catalogue

CATALOGUE = packaged_catalogue()


def _targets(text: str, rules: dict[str, Any] | None = None) -> dict[str, str]:
    """Target -> the pair phrase found for it (pairs only)."""
    book = rule_book(CATALOGUE, rules)
    stems = nlp.content_stems(text)
    return {m.phrase.target: m.phrase.text for m in book.match(stems) if "…" in m.phrase.text}


def _route(text: str) -> router.Classification:
    return router.classify(
        text=text, category=None, kecamatan=None, catalogue=CATALOGUE, threshold=0.5, model=None
    )


@pytest.mark.parametrize(
    "text",
    [
        "jalan depan SMA negeri yang rusak dan berlubang",
        "jembatan di kampung kami sudah lama ambruk",
        "saluran air depan rumah warga tersumbat",
        "jln belakang kantor kecamatan ancur",
    ],
)
def test_an_object_and_its_damage_with_the_place_between_them_is_public_works(text: str) -> None:
    assert "DPUPR" in _targets(text)
    assert _route(text).opd == "DPUPR"


def test_the_place_between_an_object_and_its_state_no_longer_outweighs_the_matter() -> None:
    result = _route("jalan depan SMA negeri yang rusak dan berlubang")
    assert any("jalan … rusak" in reason for reason in result.reasons)


@pytest.mark.parametrize(
    "text",
    [
        "lampu penerangan jalan depan masjid rusak",
        "jalan provinsi di depan pasar rusak",
        "jalan menuju pasar induk yang baru dibangun tahun lalu ramai pembeli, kiosnya rusak",
    ],
)
def test_a_cue_near_the_pair_or_a_state_too_far_means_another_matter(text: str) -> None:
    assert "DPUPR" not in _targets(text)


def test_a_pair_does_not_count_twice_beside_a_phrase_that_already_holds_it() -> None:
    book = rule_book(CATALOGUE)
    matches = book.match(nlp.content_stems("jalan rusak"))
    assert [m.phrase.text for m in matches] == ["jalan rusak"]


def test_pairs_come_from_the_rules_and_need_a_known_unit() -> None:
    rules: dict[str, Any] = {
        "pairs": {
            "DLH": [{"objects": ["sungai"], "states": ["hitam"], "weight": 2.0, "window": 3}],
            "NOT-A-UNIT": [{"objects": ["sungai"], "states": ["bau"], "weight": 2.0, "window": 3}],
        }
    }
    assert _targets("sungai di kampung kami hitam pekat", rules) == {"DLH": "sungai … hitam"}
    assert _targets("sungai di kampung kami bau", rules) == {}
    assert _targets("sungai di dekat kampung sebelah pasar ikan hitam", rules) == {}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sasak ruksak", "jembatan rusak"),
        ("solokan mampet, caah ka imah", "selokan tersumbat banjir ka rumah"),
        ("nyuhunkeun bantosan pamarentah", "mohon bantuan pemerintah"),
        ("lampu pareum, poek pisan", "lampu mati gelap banget"),
        ("dalan rusak, tulung dibenerna", "jalan rusak tolong diperbaiki"),
        ("hileud jeung beurit ngarusak pepelakan", "ulat dan tikus ngarusak tanaman"),
    ],
)
def test_sundanese_and_banten_javanese_words_are_read_as_indonesian(
    text: str, expected: str
) -> None:
    assert nlp.normalise(text) == expected
