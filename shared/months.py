"""Month names in Bahasa Indonesia and English, for pages, reports and messages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

Lang = Literal["id", "en"]

MONTHS: Mapping[Lang, tuple[str, ...]] = {
    "id": (
        "Januari",
        "Februari",
        "Maret",
        "April",
        "Mei",
        "Juni",
        "Juli",
        "Agustus",
        "September",
        "Oktober",
        "November",
        "Desember",
    ),
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
}


def month_label(month: str, lang: Lang, *, short: bool = False) -> str:
    """`2026-05` as `Mei 2026`, or short for a chart's axis as `Mei 26`."""
    year, number = int(month[:4]), int(month[5:7])
    name = MONTHS[lang][number - 1]
    return f"{name[:3]} {year % 100:02d}" if short else f"{name} {year}"
