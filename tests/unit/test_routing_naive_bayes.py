"""The naive Bayes baseline (the router's first classifier, kept for the evaluation)."""

from __future__ import annotations

import json

import pytest

from services.routing.classification import naive_bayes as classifier
from services.routing.classification.examples import KECAMATAN, Example
from services.routing.classification.naive_bayes import train

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
    assert KECAMATAN in model.classes
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


def test_evaluate_scores_the_model_with_a_threshold() -> None:
    model = train(EXAMPLES)
    held_back = [Example("sampah numpuk bau", "DLH"), Example("terima kasih", "DPUPR")]
    strict = classifier.evaluate(model, held_back, threshold=0.99)
    lenient = classifier.evaluate(model, held_back, threshold=0.0)
    assert strict.triage_rate == 1.0
    assert lenient.triage_rate < 1.0
