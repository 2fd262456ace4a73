from __future__ import annotations

import json

import pytest

from services.routing import classifier
from services.routing.classifier import Example, Report, score, should_promote, train
from shared.catalogue import TRIASE

EXAMPLES = [
    Example("jalan rusak berlubang dalam", "DPUPR"),
    Example("aspal jalan hancur banyak lubang", "DPUPR"),
    Example("jembatan putus tidak bisa dilewati", "DPUPR"),
    Example("sampah menumpuk tidak diangkut", "DLH"),
    Example("bau sampah busuk di pinggir jalan", "DLH"),
    Example("limbah pabrik mencemari sungai", "DLH"),
    Example("air pdam mati tiga hari", "PDAM"),
    Example("tagihan air pdam naik padahal air keruh", "PDAM"),
    Example("pelayanan kantor kecamatan lambat", "KEC-CIRUAS"),
    Example("camat tidak pernah di kantor", "KEC-KOPO"),
]


def test_training_is_deterministic_and_versioned_by_its_data() -> None:
    a = train(EXAMPLES)
    b = train(list(reversed(EXAMPLES)))
    assert a.version == b.version
    assert a.version.startswith("nb-") and len(a.version) == len("nb-") + 8
    assert a.to_dict() == b.to_dict()
    assert train(EXAMPLES[:-1]).version != a.version


def test_kecamatan_offices_are_learnt_as_one_class() -> None:
    model = train(EXAMPLES)
    assert classifier.KECAMATAN in model.classes
    assert not any(c.startswith("KEC-") for c in model.classes)


def test_probabilities_sum_to_one_and_favour_the_matching_class() -> None:
    model = train(EXAMPLES)
    proba = model.predict_proba(["sampah", "tumpuk", "sampah_tumpuk"])
    assert sum(proba.values()) == pytest.approx(1.0)
    assert max(proba, key=lambda c: proba[c]) == "DLH"


def test_unknown_features_give_a_uniform_answer() -> None:
    model = train(EXAMPLES)
    proba = model.predict_proba(["zzz", "qqq"])
    assert len(set(round(p, 9) for p in proba.values())) == 1
    assert model.known(["zzz", "sampah"]) == ["sampah"]


def test_model_survives_a_json_round_trip() -> None:
    model = train(EXAMPLES)
    stored = json.loads(json.dumps(model.to_dict()))
    assert all("." not in f and not f.startswith("$") for f, _, _ in stored["features"])
    restored = classifier.Model.from_dict(stored)
    assert restored == model
    features = ["air", "mati", "air_mati"]
    assert restored.predict_proba(features) == model.predict_proba(features)


def test_a_dict_of_another_algorithm_is_refused() -> None:
    data = train(EXAMPLES).to_dict()
    data["algorithm"] = "something-else"
    with pytest.raises(ValueError, match="algorithm"):
        classifier.Model.from_dict(data)


def test_examples_parse_from_json_lines() -> None:
    lines = [
        '{"text": "lampu jalan mati", "opd": "DISHUB", "category": null, "kecamatan": null}',
        "",
        '{"text": "kantor kecamatan tutup", "opd": "KEC-ANYAR", "kecamatan": "KEC-ANYAR"}',
    ]
    parsed = classifier.parse_examples(lines)
    assert parsed == [
        Example("lampu jalan mati", "DISHUB"),
        Example("kantor kecamatan tutup", "KEC-ANYAR", None, "KEC-ANYAR"),
    ]


def test_score_reports_accuracy_f1_triage_and_routed_accuracy() -> None:
    report = score(
        [
            ("DLH", "DLH"),
            ("DLH", TRIASE),
            ("DPUPR", "DPUPR"),
            ("DPUPR", "DLH"),
            ("KEC-CIRUAS", "KEC-CIRUAS"),
        ]
    )
    assert report.examples == 5
    assert report.accuracy == pytest.approx(3 / 5)
    assert report.triage_rate == pytest.approx(1 / 5)
    assert report.routed_accuracy == pytest.approx(3 / 4)
    assert report.per_opd["DLH"].precision == pytest.approx(1 / 2)
    assert report.per_opd["DLH"].recall == pytest.approx(1 / 2)
    assert report.per_opd["DPUPR"].precision == pytest.approx(1.0)
    assert set(report.per_opd) == {"DLH", "DPUPR", classifier.KECAMATAN}
    assert report.macro_f1 == pytest.approx((0.5 + 2 / 3 + 1.0) / 3)


def test_evaluate_scores_the_model_with_a_threshold() -> None:
    model = train(EXAMPLES)
    held_back = [Example("sampah numpuk bau", "DLH"), Example("terima kasih", "DPUPR")]
    strict = classifier.evaluate(model, held_back, threshold=0.99)
    lenient = classifier.evaluate(model, held_back, threshold=0.0)
    assert strict.triage_rate == 1.0
    assert lenient.triage_rate < 1.0


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
