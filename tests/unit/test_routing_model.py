"""The linear text classifier: features, training, explanations and storage."""

from __future__ import annotations

import numpy as np
import pytest

from services.routing.classification import text as nlp
from services.routing.classification.examples import KECAMATAN, Example
from services.routing.classification.lexicon import packaged_lexicon
from services.routing.classification.model import (
    LinearModel,
    char_grams,
    featurise,
    settings_from,
    train,
)

LEXICON = packaged_lexicon()
EXAMPLES = [
    Example("jalan rusak berlubang dalam", "DPUPR"),
    Example("aspal jalan hancur banyak lubang", "DPUPR"),
    Example("jembatan putus tidak bisa dilewati", "DPUPR"),
    Example("sampah menumpuk tidak diangkut", "DLH"),
    Example("bau sampah busuk di pinggir jalan", "DLH"),
    Example("limbah pabrik mencemari sungai", "DLH"),
    Example("bantuan pkh tidak cair", "DINSOS"),
    Example("bpnt ibu saya berhenti", "DINSOS"),
    Example("pelayanan kantor kecamatan lambat", "KEC-CIRUAS"),
    Example("camat tidak pernah di kantor", "KEC-KOPO"),
]


@pytest.fixture(scope="module")
def model() -> LinearModel:
    return train(EXAMPLES, LEXICON)


def _features(text: str) -> dict[str, list[str]]:
    return featurise(nlp.analyse(text), LEXICON)


def test_character_grams_mark_the_ends_of_a_word() -> None:
    assert char_grams("air")[:3] == [" ai", "air", "ir "]
    assert " ai" in char_grams("air") and "air " in char_grams("air")
    assert char_grams("a") == [" a "]


def test_features_come_in_three_groups() -> None:
    features = _features("PKH tidak cair, jalan berlubang")
    assert "jalan" in features["w"] and "lubang" in features["w"]
    assert " ber" in features["c"]
    assert features["x"] == ["program:DINSOS"]


def test_training_is_deterministic_and_versioned_by_data_and_settings(model: LinearModel) -> None:
    again = train(list(reversed(EXAMPLES)), LEXICON)
    assert again.version == model.version and model.version.startswith("lr-")
    assert np.array_equal(again.coef, model.coef)
    assert train(EXAMPLES[:-1], LEXICON).version != model.version
    assert train(EXAMPLES, LEXICON, settings_from({"c": 1.0})).version != model.version


def test_kecamatan_offices_are_one_class(model: LinearModel) -> None:
    assert KECAMATAN in model.classes
    assert not any(c.startswith("KEC-") for c in model.classes)


def test_probabilities_sum_to_one_and_favour_the_matching_class(model: LinearModel) -> None:
    proba = model.probabilities(_features("sampah numpuk lagi"))
    assert sum(proba.values()) == pytest.approx(1.0)
    assert max(proba, key=proba.__getitem__) == "DLH"


def test_a_misspelling_reaches_its_word_through_character_grams(model: LinearModel) -> None:
    proba = model.probabilities(_features("smpahh nya numpuk"))
    assert max(proba, key=proba.__getitem__) == "DLH"


def test_a_text_of_unknown_words_is_not_known(model: LinearModel) -> None:
    assert not model.knows(_features("zzz qqq"))
    assert model.knows(_features("zzz sampah"))


def test_evidence_names_the_citizens_words(model: LinearModel) -> None:
    analysis = nlp.analyse("jalan di kampung kami berlubang parah")
    features = featurise(analysis, LEXICON)
    words = model.evidence(analysis, features, "DPUPR")
    assert words and words[0] in {"jalan", "berlubang"}
    assert set(words) <= set(analysis.surface)


def test_a_model_survives_storage_as_bytes(model: LinearModel) -> None:
    restored = LinearModel.from_bytes(model.to_bytes())
    assert restored.version == model.version and restored.classes == model.classes
    assert restored.settings == model.settings
    features = _features("air sungai hitam karena limbah")
    assert restored.probabilities(features) == pytest.approx(model.probabilities(features))


def test_bytes_of_another_algorithm_are_refused(model: LinearModel) -> None:
    import io
    import json

    with np.load(io.BytesIO(model.to_bytes()), allow_pickle=False) as archive:
        parts = {k: archive[k] for k in archive.files}
    meta = json.loads(str(parts["meta"]))
    parts["meta"] = np.array(json.dumps({**meta, "algorithm": "other"}))
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **parts)
    with pytest.raises(ValueError, match="algorithm"):
        LinearModel.from_bytes(buffer.getvalue())


def test_address_words_count_only_beside_another_word() -> None:
    features = _features("jalan rusak RT 06 RW 09 desa sukamaju, kantor desa tutup")
    assert "desa" not in features["w"] and "rt" not in features["w"]
    assert "rt_rw" not in features["w"]
    assert "kantor_desa" in features["w"] and "jalan_rusak" in features["w"]
    assert not any(g.strip() == "desa" for g in features["c"])
