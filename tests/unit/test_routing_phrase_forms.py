"""Derived one-word phrases match as written, and the permit, flood and food-aid vocabulary."""

from __future__ import annotations

import pytest

from services.routing.classification import router
from services.routing.classification import text as nlp
from services.routing.classification.rules import derived_form, light_form, rule_book
from shared.catalogue import packaged_catalogue

CATALOGUE = packaged_catalogue()


def _phrases(text: str) -> dict[str, set[str]]:
    """Target -> the phrases found for it in `text`, read as the router reads it."""
    analysis = nlp.analyse(text)
    found: dict[str, set[str]] = {}
    for m in rule_book(CATALOGUE).match(list(analysis.stems), analysis.surface):
        found.setdefault(m.phrase.target, set()).add(m.phrase.text)
    return found


def _route(text: str) -> router.Classification:
    return router.classify(
        text=text, category=None, kecamatan=None, catalogue=CATALOGUE, threshold=0.35, model=None
    )


def test_a_particle_is_not_part_of_the_form() -> None:
    assert light_form("perizinannya") == "perizinan"
    assert light_form("jalan") == "jalan"


def test_only_a_derived_one_word_phrase_keeps_its_form() -> None:
    assert derived_form("pengadaan", ("ada",)) == "pengadaan"
    assert derived_form("banjir", ("banjir",)) is None
    assert derived_form("jalan berlubang", ("jalan", "lubang")) is None


@pytest.mark.parametrize(
    ("text", "target", "phrase"),
    [
        ("adanya warga yang berkumpul tiap malam", "INSPEKTORAT", "pengadaan"),
        ("musik diputar dengan keras sampai pagi", "DP3AKB", "kekerasan"),
        ("dari pukul 12.00 hingga 17.00 tiap hari", "DP3AKB", "dipukul"),
        ("rumah kami di gang sempit", "DISPERKIM", "perumahan"),
        ("tempat tinggal kami dekat sungai", "BAPPEDA", "tertinggal"),
    ],
)
def test_a_common_root_does_not_fire_the_phrase_of_its_derived_word(
    text: str, target: str, phrase: str
) -> None:
    assert phrase not in _phrases(text).get(target, set())


@pytest.mark.parametrize(
    ("text", "target", "phrase"),
    [
        ("ada dugaan mark up dalam pengadaan laptop sekolah", "INSPEKTORAT", "pengadaan"),
        ("pengadaannya tidak transparan", "INSPEKTORAT", "pengadaan"),
        ("jalan di perumahan kami rusak", "DISPERKIM", "perumahan"),
        ("guru itu melakukan kekerasan pada murid", "DP3AKB", "kekerasan"),
    ],
)
def test_the_derived_word_itself_still_fires(text: str, target: str, phrase: str) -> None:
    assert phrase in _phrases(text).get(target, set())


def test_a_root_phrase_still_matches_every_derivation() -> None:
    assert "banjir" in _phrases("rumah kami kebanjiran lagi").get("BPBD", set())


def test_an_acronym_that_chat_shorthand_reads_as_a_negation_is_no_evidence() -> None:
    # "bkn" (Badan Kepegawaian Negara) is also how chats write "bukan".
    assert "BKPSDM" not in _phrases("ini bukan urusan saya, bkn salah saya")


@pytest.mark.parametrize(
    "text",
    [
        "SIP bidan saya sudah diajukan dua minggu, belum terbit juga",
        "pertek dari dinas teknis belum keluar, permohonan izin tertahan",
        "mohon bantuan perpanjangan izin praktik, STR sudah aktif",
        "pengajuan di SIMBG untuk persetujuan bangunan gedung belum diproses",
        "KBLI di NIB saya salah, tidak bisa ajukan sertifikat standar",
    ],
)
def test_permit_applicants_following_up_go_to_the_permit_office(text: str) -> None:
    assert _route(text).opd == "DPMPTSP"


def test_a_flood_from_a_blocked_drain_is_public_works() -> None:
    found = _phrases("tiap hujan banjir karena selokan di pinggir jalan tidak berfungsi")
    assert any("…" in p for p in found.get("DPUPR", set()))
    assert _route("tiap hujan banjir karena selokan di pinggir jalan tidak berfungsi").opd == (
        "DPUPR"
    )


def test_a_flood_that_drives_people_from_their_homes_stays_a_disaster() -> None:
    assert _route("banjir bandang, warga mengungsi, butuh perahu karet").opd == "BPBD"


def test_food_aid_to_poor_households_is_social_affairs() -> None:
    assert "DINSOS" in _phrases("keluarga miskin tidak dapat bantuan pangan beras 10 kg")
