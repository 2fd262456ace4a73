from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from services.routing import domain
from services.routing.calendar import JAKARTA, add_working_days
from shared.catalogue import LUAR_KEWENANGAN, TRIASE, packaged_catalogue
from shared.tickets import TicketStatus

CATALOGUE = packaged_catalogue()


def _classify(text: str, category: str | None = None) -> domain.Classification:
    return domain.classify(text=text, category=category, catalogue=CATALOGUE, threshold=0.5)


def test_chosen_category_routes_to_its_default_opd() -> None:
    result = _classify("tolong diperbaiki segera", category="jalan-rusak")
    assert result.opd == "DPUPR"
    assert result.reasons


@pytest.mark.parametrize(
    ("text", "opd"),
    [
        ("jalan berlubang besar di depan sekolah sdh lama tdk diperbaiki", "DPUPR"),
        ("sampah numpuk di pinggir jalan bau banget", "DLH"),
        ("lampu jalan mati sudah seminggu, gelap", "DISHUB"),
        ("air pdam mati tiga hari", "PDAM"),
    ],
)
def test_keywords_route_plain_complaints(text: str, opd: str) -> None:
    assert _classify(text).opd == opd


def test_text_without_known_words_goes_to_triage() -> None:
    result = _classify("mohon perhatiannya bapak ibu terima kasih")
    assert result.opd == TRIASE
    assert domain.status_after_routing(result) is TicketStatus.TRIAGE


def test_matter_of_a_central_agency_gets_a_referral() -> None:
    result = _classify("listrik padam terus tiap malam, token listrik juga mahal")
    assert result.opd == LUAR_KEWENANGAN
    assert result.referral and "PLN" in result.referral


def test_working_days_skip_weekends_and_holidays() -> None:
    friday = datetime(2026, 11, 27, 10, 0, tzinfo=JAKARTA)
    assert add_working_days(friday, 1).date() == date(2026, 11, 30)
    assert add_working_days(friday, 5).date() == date(2026, 12, 4)
    holiday = {date(2026, 12, 1)}
    assert add_working_days(friday, 5, holiday).date() == date(2026, 12, 7)


def test_working_days_count_in_jakarta_time() -> None:
    # 20:00 UTC on Friday is already Saturday 03:00 in Jakarta.
    late_friday_utc = datetime(2026, 11, 27, 20, 0, tzinfo=UTC)
    assert add_working_days(late_friday_utc, 1).date() == date(2026, 11, 30)
