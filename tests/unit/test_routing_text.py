from __future__ import annotations

import pytest

from services.routing import nlp


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("jln rusak", "jalan rusak"),
        ("sdh 2 bln", "sudah 2 bulan"),
        ("udh lapor tp gk ditanggapi", "sudah lapor tapi tidak ditanggapi"),
        ("nggak ada yg dateng", "tidak ada yang dateng"),
        ("blm cair krn dtks", "belum cair karena dtks"),
        ("pju mati dgn kabel putus", "penerangan jalan umum mati dengan kabel putus"),
        ("KK saya hilang", "kartu keluarga saya hilang"),
        ("runtah loba pisan", "sampah banyak banget"),
    ],
)
def test_abbreviations_and_slang_are_expanded(text: str, expected: str) -> None:
    assert nlp.normalise(text) == expected


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("bangettt", "banget"),
        ("mohooon", "mohon"),
        ("tolongg", "tolong"),
        ("saaaat", "saat"),
        ("maaf", "maaf"),
        ("saat", "saat"),
        ("pppk", "pppk"),
        ("pbb", "pbb"),
        ("oss", "oss"),
    ],
)
def test_repeated_letters_collapse_but_legitimate_doubles_stay(word: str, expected: str) -> None:
    assert nlp.normalise(word) == expected


def test_case_punctuation_emoji_and_accents_are_dropped() -> None:
    assert nlp.normalise("SAMPAH!!! numpuk😡😡 di Pasar... café") == (
        "sampah menumpuk di pasar cafe"
    )


def test_reduplication_and_glued_units_are_split() -> None:
    assert nlp.words("anak2 beli gas 3kg 20rb") == ["anak", "beli", "gas", "3", "kg", "20", "rb"]


@pytest.mark.parametrize(
    ("word", "stem"),
    [
        ("pelayanan", "layan"),
        ("diperbaiki", "baik"),
        ("perbaikan", "baik"),
        ("berlubang", "lubang"),
        ("menumpuk", "tumpuk"),
        ("pembuangan", "buang"),
        ("penerangan", "terang"),
        ("pengaduan", "adu"),
        ("kerusakan", "rusak"),
        ("kemacetan", "macet"),
        ("menyapu", "sapu"),
        ("mengambil", "ambil"),
        ("pemakaman", "makam"),
        ("tagihan", "tagih"),
        ("laporkan", "lapor"),
        ("jalannya", "jalan"),
        ("sekolahnya", "sekolah"),
        ("pencemaran", "cemar"),
        ("kekeringan", "kering"),
    ],
)
def test_affixes_are_stripped(word: str, stem: str) -> None:
    assert nlp.stem(word) == stem


@pytest.mark.parametrize(
    "word",
    ["jalan", "taman", "ikan", "dinas", "desa", "sekolah", "terminal", "ternak", "kepala", "mati"],
)
def test_roots_that_look_affixed_are_kept(word: str) -> None:
    assert nlp.stem(word) == word


@pytest.mark.parametrize("code", ["ktp", "pdam", "ak1", "p2l", "sp2d", "dbd"])
def test_short_words_and_codes_are_not_stemmed(code: str) -> None:
    assert nlp.stem(code) == code


def test_stopwords_go_but_negations_stay() -> None:
    assert nlp.content_stems("sampahnya sudah tidak diangkut dari kemarin") == [
        "sampah",
        "tidak",
        "angkut",
    ]


def test_features_are_stems_then_bigrams() -> None:
    assert nlp.features("Jln yg berlubang") == ["jalan", "lubang", "jalan_lubang"]
