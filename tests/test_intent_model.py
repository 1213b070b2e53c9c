"""The FastText intent model: the shipped model, preprocessing, training on a small corpus."""

from __future__ import annotations

import hashlib
import json

import pytest

from jarvis_desktop.errors import BadInputError, ModelNotFoundError
from jarvis_desktop.models import NLU_MODEL_DIR
from jarvis_desktop.nlu import datagen
from jarvis_desktop.nlu.intent_model import (
    IntentClassifier,
    IntentTrainConfig,
    StaticKeyModel,
    normalize_for_model,
    train_intent_model,
)
from jarvis_desktop.nlu.vocab import INTENTS, STATIC_KEY_SET

#: Measured on the shipped model: 97.0 % on the template-held-out validation split (see
#: models/nlu/training_metadata.json). The bound leaves margin for a retrain with another seed.
MIN_HELD_OUT_ACCURACY = 0.94


def test_preprocessing_masks_dates_numbers_and_punctuation():
    assert normalize_for_model("Remind me tomorrow at 3 p.m. to call Ana!") == "remind me <date> to call ana"
    assert normalize_for_model("set the volume to 40%") == "set the volume to <num>"
    assert normalize_for_model("twenty five apples", mask_dates=False) == "<num> apples"
    assert normalize_for_model("") == ""


@pytest.fixture(scope="module")
def shipped_meta() -> dict:
    return json.loads((NLU_MODEL_DIR / "training_metadata.json").read_text())


@pytest.mark.slow
def test_shipped_corpus_regenerates_bit_for_bit(shipped_meta):
    corpus = shipped_meta["corpus"]
    rows = datagen.generate(corpus["n"], corpus["seed"])
    blob = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8")
    assert hashlib.sha256(blob).hexdigest() == corpus["sha256"]


@pytest.mark.slow
def test_shipped_model_classifies_held_out_templates(shipped_meta):
    clf = IntentClassifier.load(NLU_MODEL_DIR)
    corpus = shipped_meta["corpus"]
    valid = [r for r in datagen.generate(corpus["n"], corpus["seed"]) if r["split"] == "valid"]
    ok = 0
    for row in valid:
        intent, conf = clf.predict(row["text"])
        assert intent in INTENTS and 0.0 <= conf <= 1.0
        ok += intent == row["intent"]
    assert ok / len(valid) >= MIN_HELD_OUT_ACCURACY, ok / len(valid)
    assert (NLU_MODEL_DIR / "intent.ftz").stat().st_size < 10_000_000


@pytest.mark.slow
def test_static_key_model_predicts_only_static_keys():
    model = StaticKeyModel.load(NLU_MODEL_DIR)
    keys = [k for k, _ in model.predict("remind me tomorrow morning to call mom")]
    assert "tomorrow_morning" in keys
    assert all(k in STATIC_KEY_SET for k, _ in model.predict("what is the meaning of life", 0.01))


@pytest.mark.slow
def test_training_on_a_small_corpus(tmp_path):
    rows = [r for r in datagen.generate(1500, seed=3) if r["split"] == "train"]
    cfg = IntentTrainConfig(epoch=10, quantize=False)
    meta = train_intent_model(rows, tmp_path, cfg, keys_model=False)
    assert meta["train_rows"] == len(rows)
    clf = IntentClassifier.load(tmp_path)
    assert clf.predict("set a timer for ten minutes")[0] == "timer_set"
    top = clf.predict_top("open firefox", k=3)
    assert len(top) == 3 and top[0][1] >= top[1][1]


def test_bad_training_input_and_missing_model(tmp_path):
    with pytest.raises(BadInputError):
        train_intent_model([], tmp_path)
    with pytest.raises(BadInputError):
        train_intent_model([{"text": "hi", "intent": "not_an_intent", "date_keys": []}], tmp_path)
    with pytest.raises(ModelNotFoundError):
        IntentClassifier.load(tmp_path / "nowhere")
    (tmp_path / "intent.ftz").write_bytes(b"not a model")
    with pytest.raises(ModelNotFoundError):
        IntentClassifier.load(tmp_path)
