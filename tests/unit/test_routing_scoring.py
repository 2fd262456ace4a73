"""Scoring a router's answers, and promoting a retrained model."""

from __future__ import annotations

import pytest

from services.routing.classification.examples import KECAMATAN, Example, parse_examples
from services.routing.classification.scoring import Report, is_right, score, should_promote
from shared.catalogue import TRIASE


def test_examples_parse_from_json_lines() -> None:
    lines = [
        '{"text": "lampu jalan mati", "opd": "DISHUB", "category": null, "kecamatan": null}',
        "",
        '{"text": "kantor kecamatan tutup", "opd": "KEC-ANYAR", "kecamatan": "KEC-ANYAR"}',
    ]
    parsed = parse_examples(lines)
    assert parsed == [
        Example("lampu jalan mati", "DISHUB"),
        Example("kantor kecamatan tutup", "KEC-ANYAR", None, "KEC-ANYAR"),
    ]


def test_score_reports_accuracy_f1_triage_and_routed_accuracy() -> None:
    report = score(
        [
            (("DLH",), "DLH"),
            (("DLH",), TRIASE),
            (("DPUPR",), "DPUPR"),
            (("DPUPR",), "DLH"),
            (("KEC-CIRUAS",), "KEC-CIRUAS"),
        ]
    )
    assert report.examples == 5
    assert report.accuracy == pytest.approx(3 / 5)
    assert report.triage_rate == pytest.approx(1 / 5)
    assert report.routed_accuracy == pytest.approx(3 / 4)
    assert report.per_opd["DLH"].precision == pytest.approx(1 / 2)
    assert report.per_opd["DLH"].recall == pytest.approx(1 / 2)
    assert report.per_opd["DPUPR"].precision == pytest.approx(1.0)
    assert set(report.per_opd) == {"DLH", "DPUPR", KECAMATAN}
    assert report.macro_f1 == pytest.approx((0.5 + 2 / 3 + 1.0) / 3)
    assert report.macro_recall == pytest.approx((0.5 + 0.5 + 1.0) / 3)
    assert report.largest_confusions() == [("DLH", TRIASE, 1), ("DPUPR", "DLH", 1)]


def test_any_expected_code_counts_and_kecamatan_means_any_office() -> None:
    assert is_right(("DKP", "DISKAN"), "DISKAN")
    assert is_right(("KECAMATAN",), "KEC-KOPO")
    assert not is_right(("KEC-CIRUAS",), "KEC-KOPO")
    assert not is_right(("KECAMATAN",), TRIASE)
    report = score([(("DKP", "DISKAN"), "DISKAN"), (("KECAMATAN",), "KEC-KOPO")])
    assert report.accuracy == 1.0 and set(report.per_opd) == {"DISKAN", KECAMATAN}


def _report(accuracy: float, macro_f1: float, routed: float, n: int = 100) -> Report:
    return Report(
        examples=n, accuracy=accuracy, macro_f1=macro_f1, triage_rate=0.1, routed_accuracy=routed
    )


def test_a_candidate_that_is_not_worse_is_promoted() -> None:
    current = _report(0.80, 0.75, 0.90)
    assert should_promote(_report(0.80, 0.75, 0.90), current)
    assert should_promote(_report(0.85, 0.80, 0.92), current)


@pytest.mark.parametrize(
    "candidate",
    [_report(0.79, 0.80, 0.95), _report(0.85, 0.74, 0.95), _report(0.85, 0.80, 0.89)],
)
def test_a_candidate_worse_on_any_measure_is_not_promoted(candidate: Report) -> None:
    assert not should_promote(candidate, _report(0.80, 0.75, 0.90))


def test_reports_over_different_example_sets_do_not_compare() -> None:
    assert not should_promote(_report(0.9, 0.9, 0.9, n=50), _report(0.8, 0.8, 0.8, n=100))
    assert not should_promote(_report(0, 0, 0, n=0), _report(0, 0, 0, n=0))


def test_tolerance_allows_a_small_drop() -> None:
    current = _report(0.80, 0.75, 0.90)
    assert should_promote(_report(0.795, 0.75, 0.90), current, tolerance=0.01)
