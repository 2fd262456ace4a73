"""The evaluation's quick mode and the validation-set section it shares with the full report."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.routing import evaluate
from services.routing.evaluate import Answer, Case, run_report, validation_section

CASES = [
    Case("jalan berlubang di depan pasar", ("DPUPR",)),
    Case("sampah menumpuk tidak diangkut", ("DLH",)),
    Case("surat keterangan domisili", ("KECAMATAN",)),
]


def _always(opd: str) -> Answer:
    return lambda case: opd


def test_quick_mode_without_validation_sets_measures_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert evaluate.main(["--shipped-only", "--validation", str(tmp_path)]) == 1
    assert capsys.readouterr().out == ""


def test_a_validation_section_reports_the_shipped_router_and_its_curve() -> None:
    answer = _always("DPUPR")
    lines = validation_section(
        "contoh",
        CASES,
        [("shipped", run_report(CASES, answer))],
        answer,
        lambda threshold: answer,
        margin=0.1,
    )
    text = "\n".join(lines)
    assert "## Validation set `contoh` (3 real complaints)" in text
    assert "| shipped | 0.333 | 0.0% | 0.333 |" in text
    assert "1 of these texts were handled by a kecamatan office" in text
    assert "- DLH → DPUPR: 1" in text
    assert text.count("| 0.35 | 100.0% | 0.333 | 0.333 | 0.0% |") == 1
