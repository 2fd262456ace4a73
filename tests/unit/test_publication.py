"""The publication policy: redaction over a table of realistic texts, and when content shows."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from shared import publication
from shared.publication import Exposure, redact

# (what a citizen or an officer wrote, what the public may read; None: the same)
REDACTION_TABLE: list[tuple[str, str | None]] = [
    # names introduced by "saya", "nama saya", "bapak/ibu ..."
    (
        "Saya Budi Santoso warga Kp. Cilaku RT 02/RW 05, jalan di depan rumah rusak parah.",
        "Saya [nama] warga Kp. Cilaku RT 02/RW 05, jalan di depan rumah rusak parah.",
    ),
    (
        "nama saya siti aminah dari desa kragilan, mau lapor lampu pju mati sdh 2 minggu",
        "nama saya [nama] dari desa kragilan, mau lapor lampu pju mati sdh 2 minggu",
    ),
    (
        "Nama saya adalah Ujang Suryana, umur 45 tahun.",
        "Nama saya adalah [nama], umur 45 tahun.",
    ),
    (
        "saya budi warga ciruas, tlg jalan depan rumah sy diperbaiki",
        "saya [nama] warga ciruas, tlg jalan depan rumah sy diperbaiki",
    ),
    (
        "SAYA JAJANG SUPRIATNA WARGA DESA PONTANG MOHON BANTUAN RUTILAHU",
        "SAYA [nama] WARGA DESA PONTANG MOHON BANTUAN RUTILAHU",
    ),
    ("Sy Rina. Bantuan PKH sy blm cair", "Sy [nama]. Bantuan PKH sy blm cair"),
    ("Saya Ahmad bin Yusuf warga Baros", "Saya [nama] warga Baros"),
    (
        "Kepada Yth. Bapak Bupati Serang. Saya mau melaporkan pungli oleh Pak Kades Sukardi.",
        "Kepada Yth. Bapak Bupati Serang. Saya mau melaporkan pungli oleh Pak Kades [nama].",
    ),
    (
        "anak saya sakit, pak dokter Hendra tidak ada di puskesmas",
        "anak saya sakit, pak dokter [nama] tidak ada di puskesmas",
    ),
    ("bu ani jualan gorengan di trotoar", "bu [nama] jualan gorengan di trotoar"),
    (
        "Ibu Hj. Aminah, bendahara desa, minta uang 200 rb",
        "Ibu Hj. [nama], bendahara desa, minta uang 200 rb",
    ),
    ("Kang Asep sudah tahu masalah ini", "Kang [nama] sudah tahu masalah ini"),
    (
        "KK nomor 3604.0112.3456.0001 atas nama Ahmad Fauzi belum jadi",
        "KK nomor [NIK/KK] atas nama [nama] belum jadi",
    ),
    ("KTP-el a.n. siti belum dicetak", "KTP-el a.n. [nama] belum dicetak"),
    ("Nama: Dedi Mulyadi\nAlamat: Kp. Sukamaju", "Nama: [nama]\nAlamat: Kp. Sukamaju"),
    # NIK/KK-like numbers, phones, e-mail
    (
        "NIK 3604012345670001, hp 0812-3456-7890. Mohon segera.",
        "NIK [NIK/KK], hp [nomor telepon]. Mohon segera.",
    ),
    ("NIK: 3604 0112 3456 0001 tidak terdaftar DTKS", "NIK: [NIK/KK] tidak terdaftar DTKS"),
    ("hubungi wa 6281234567890 ya", "hubungi wa [nomor telepon] ya"),
    ("+62 812 3456 7890 wa aktif", "[nomor telepon] wa aktif"),
    ("no hp saya 081234567890", "no hp saya [nomor telepon]"),
    ("telp kantor (0254) 280123 tidak diangkat", "telp kantor [nomor telepon] tidak diangkat"),
    ("hubungi 0254-200123 jam kerja", "hubungi [nomor telepon] jam kerja"),
    ("email saya warga.serang@gmail.com tolong dibalas", "email saya [email] tolong dibalas"),
    ("kirim ke budi_s+lapor@mail.co.id", "kirim ke [email]"),
    ("no rekening 1234567890 bank bjb", "no rekening [nomor] bank bjb"),
    ("NPWP 12.345.678.9-012.345", "NPWP [nomor]"),
    ("kartu BPJS 0001234567890 ditolak RSUD", "kartu BPJS [nomor] ditolak RSUD"),
    # vehicle plates
    (
        "mobil pick up A 1234 XY parkir sembarangan di trotoar tiap hari",
        "mobil pick up [pelat nomor] parkir sembarangan di trotoar tiap hari",
    ),
    ("truk nopol b 9876 tra buang sampah di kali", "truk nopol [pelat nomor] buang sampah di kali"),
    ("motor dgn plat A 5678 ZA kabur", "motor dgn plat [pelat nomor] kabur"),
    ("Bus B7012TGA ngetem di bahu jalan", "Bus [pelat nomor] ngetem di bahu jalan"),
    # what must stay as it is
    (
        "Kepada Yth. Bapak Bupati Serang, jalan Raya Ciruas KM 12 rusak.",
        "Kepada Yth. Bapak Bupati Serang, jalan Raya Ciruas KM 12 rusak.",
    ),
    ("diminta Rp 1.500.000 utk bikin KK", "diminta Rp 1.500.000 utk bikin KK"),
    ("dana desa Rp15.000.000.000 tidak jelas", "dana desa Rp15.000.000.000 tidak jelas"),
    ("tanggal 12 05 2025 jam 10 pagi banjir lagi", "tanggal 12 05 2025 jam 10 pagi banjir lagi"),
    ("RT 004 RW 002 Desa Kibin, gang 3", "RT 004 RW 002 Desa Kibin, gang 3"),
    ("Bu bidan desa tidak datang. Ibu hamil susah periksa", None),
    ("Ibu-ibu PKK dan bapak-bapak sudah kerja bakti", None),
    ("saya mau lapor, saya sudah 3 kali datang ke kantor desa", None),
    ("Pak RT tidak mau tanda tangan, bapak saya sakit", None),
    ("kang ojek mangkal di depan sekolah, teh manis dijual mahal", None),
    ("Saya Warga Desa Tirtayasa Sangat Kecewa", None),
    ("Lampu PJU di Jl. Raya Serang No. 5 mati sejak 3 hari", None),
    ("jalan sepanjang 2.5 km rusak, lubang 30 cm", None),
]


@pytest.mark.parametrize(("text", "expected"), REDACTION_TABLE)
def test_public_text_is_redacted(text: str, expected: str | None) -> None:
    assert redact(text) == (text if expected is None else expected)


def test_redaction_is_idempotent() -> None:
    for text, _ in REDACTION_TABLE:
        once = redact(text)
        assert redact(once) == once


@dataclass(frozen=True)
class Choice:
    text: str | None = None
    hidden: bool = False


@dataclass(frozen=True)
class Ticket:
    status: str = "verified"
    confidential: bool = False
    description: str = "Saya Budi, hp 081234567890: jalan rusak di depan SDN 2."
    publication: Choice | None = None


@pytest.mark.parametrize(
    ("ticket", "expected"),
    [
        (Ticket(status="submitted"), Exposure.NOT_VERIFIED),
        (Ticket(status="triage"), Exposure.NOT_VERIFIED),
        (Ticket(status="routed"), Exposure.NOT_VERIFIED),
        (Ticket(status="verified"), Exposure.PUBLIC),
        (Ticket(status="in_progress"), Exposure.PUBLIC),
        (Ticket(status="resolved"), Exposure.PUBLIC),
        (Ticket(status="closed"), Exposure.PUBLIC),
        (Ticket(status="rejected"), Exposure.REJECTED),
        (Ticket(status="rejected", confidential=True), Exposure.REJECTED),
        (Ticket(confidential=True), Exposure.CONFIDENTIAL),
        (Ticket(publication=Choice(hidden=True)), Exposure.HIDDEN),
        (Ticket(status="routed", publication=Choice(hidden=True)), Exposure.HIDDEN),
    ],
)
def test_content_is_public_only_once_verified_and_never_rejected(
    ticket: Ticket, expected: Exposure
) -> None:
    assert publication.exposure(ticket) is expected
    assert publication.shows_content(ticket) is (expected is Exposure.PUBLIC)


def test_public_text_is_the_redacted_description_or_the_officers_edit() -> None:
    assert publication.public_text(Ticket()) == (
        "Saya [nama], hp [nomor telepon]: jalan rusak di depan SDN 2."
    )
    edited = Ticket(publication=Choice(text="Jalan rusak di depan SDN 2, kata Pak Budi."))
    assert publication.public_text(edited) == "Jalan rusak di depan SDN 2, kata Pak [nama]."
    assert publication.public_text(Ticket(status="routed")) is None
    assert publication.draft_text(Ticket(status="routed")).startswith("Saya [nama]")


def test_lists_hold_only_verified_statuses() -> None:
    assert publication.listed_statuses() == [
        "closed",
        "in_progress",
        "resolved",
        "verified",
        "waiting_citizen",
        "waiting_third_party",
    ]
    assert publication.listed_statuses(["routed", "verified", "rejected"]) == ["verified"]


@pytest.mark.parametrize(
    ("requested", "category_opd", "expected"),
    [
        (None, "INSPEKTORAT", True),
        (False, "INSPEKTORAT", False),
        (True, "DPUPR", True),
        (None, "DPUPR", False),
        (None, None, False),
    ],
)
def test_misconduct_matters_are_confidential_unless_the_citizen_says_otherwise(
    requested: bool | None, category_opd: str | None, expected: bool
) -> None:
    assert (
        publication.confidential_when_submitted(requested=requested, category_opd=category_opd)
        is expected
    )


def test_assignment_to_inspektorat_makes_a_ticket_confidential_without_a_choice() -> None:
    assign = publication.confidential_when_assigned
    assert assign(requested=None, current=False, opd="INSPEKTORAT") is True
    assert assign(requested=False, current=False, opd="INSPEKTORAT") is False
    assert assign(requested=None, current=True, opd="DPUPR") is True, "never un-hidden"
    assert assign(requested=None, current=False, opd="DPUPR") is False


def test_coordinates_are_rounded_for_the_public() -> None:
    assert publication.public_point(-6.123456, 106.234567) == (-6.123, 106.235)
    assert publication.public_point(None, 106.2) is None
