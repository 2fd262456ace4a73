from __future__ import annotations

import pytest

from services.routing.classification import text as nlp


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


# What is not the matter of a complaint.


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Masked personal data, as exports and the redaction write it, is not a word.
        ("saya [NIK] minta tolong", ["saya", "minta", "tolong"]),
        ("hubungi [NOMOR TELEPON DISENSOR] ya", ["hubungi", "ya"]),
        # An identification field names a document only to identify the citizen.
        ("NIK : 3204123456789012 bpnt tidak cair", ["bpnt", "tidak", "cair"]),
        ("no. KK: 3204 1234 5678 9012 tidak terdaftar", ["tidak", "terdaftar"]),
        ("KTP : ( [NIK] ) bantuan belum", ["bantuan", "belum"]),
        # ... but a document that is the matter stays.
        ("ktp saya belum jadi", ["ktp", "saya", "belum", "jadi"]),
        ("KK saya hilang", ["kartu", "keluarga", "saya", "hilang"]),
        # Links and e-mail addresses go.
        ("lihat https://maps.app.goo.gl/abc?x=1 ya", ["lihat", "ya"]),
        ("kirim ke warga@contoh.id saja", ["kirim", "ke", "saja"]),
        # A title glued to its description is split at the change of case.
        ("Banjir PanyadapSungai meluap", ["banjir", "panyadap", "sungai", "meluap"]),
    ],
)
def test_cleaning_removes_what_is_not_the_matter(text: str, expected: list[str]) -> None:
    assert nlp.words(text) == expected


def test_an_analysis_keeps_words_content_words_and_stems_aligned() -> None:
    analysis = nlp.analyse("Jln berlobang parah bgt sdh 2 bln gk dibenerin!!!")
    assert analysis.words[:2] == ("jalan", "berlobang")
    assert len(analysis.surface) == len(analysis.stems)
    assert "lobang" in analysis.stems and "jalan_lobang" in analysis.features


def test_the_maintained_stemmer_is_available_for_comparison() -> None:
    assert nlp.sastrawi_stem("pemakaman") == "makam"
    assert nlp.analyse("kebakaran", stemmer=nlp.sastrawi_stem).stems == ("bakar",)


def test_the_word_lists_are_data() -> None:
    assert nlp.SLANG["jln"] == "jalan" and nlp.SLANG["runtah"] == "sampah"
    assert "tidak" in nlp.NEGATIONS and "tidak" not in nlp.STOPWORDS
    assert nlp.DATA_FILE.name == "text.json"
