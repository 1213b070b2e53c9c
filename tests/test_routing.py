"""Hybrid routing in the NLU engine: FastText when sure, the LoRA model when not, FastText alone when the
adapter is missing or broken, and the settings that choose all this."""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
from datetime import datetime

import pytest

from jarvis_desktop.config import Settings
from jarvis_desktop.errors import BadInputError
from jarvis_desktop.nlu.engine import NluEngine
from jarvis_desktop.nlu.evaluate import load_rows
from jarvis_desktop.nlu.lora_fallback import DEFAULT_ADAPTER_DIR, LoraFallback
from jarvis_desktop.nlu.vocab import INTENTS, is_valid_key

NOW = datetime(2026, 3, 11, 10, 17)


@pytest.fixture(scope="module")
def hybrid():
    return NluEngine(fallback=LoraFallback(backend="llama")).load()


@pytest.fixture(scope="module")
def low_confidence_rows(hybrid):
    """Real validation utterances whose FastText probability is below the engine's threshold."""
    rows = []
    for row in load_rows(None):
        if hybrid.classifier.predict(row["text"])[1] < hybrid.fallback_threshold:
            rows.append(row)
        if len(rows) == 60:
            break
    assert rows, "no validation utterance below the routing threshold"
    return rows


def test_threshold_comes_from_the_adapter_metadata(hybrid):
    recorded = LoraFallback().metadata()["routing"]["threshold"]
    assert hybrid.fallback_threshold == recorded


@pytest.mark.slow
def test_a_low_confidence_utterance_goes_to_the_adapter(hybrid, low_confidence_rows):
    row = low_confidence_rows[0]
    res = hybrid.parse(row["text"], now=NOW)
    assert res.source == "lora"
    assert res.confidence < hybrid.fallback_threshold
    assert (
        res.intent
        == LoraFallback(backend="llama")
        .answer(row["text"], hybrid.classifier.predict(row["text"])[0], intent_only=True)
        .intent
    )
    assert all(is_valid_key(k) for k in res.date_keys)


def test_a_confident_utterance_stays_with_fasttext(hybrid):
    res = hybrid.parse("remind me to call mom tomorrow at 3 pm", now=NOW)
    assert res.source == "fasttext" and res.intent == "reminder_set"
    assert res.date_keys == ["tomorrow", "at_3pm"] and res.when == "2026-03-12T15:00"


def test_guard_rails_never_reach_a_model(hybrid):
    assert hybrid.parse("   ", now=NOW).source == "rules"
    assert hybrid.parse("12345 !!!", now=NOW).source == "rules"


@pytest.mark.slow
def test_the_adapter_fixes_more_low_confidence_intents_than_it_breaks(hybrid, low_confidence_rows):
    fast = NluEngine().load()
    hybrid_ok = sum(hybrid.parse(r["text"], now=NOW).intent == r["intent"] for r in low_confidence_rows)
    fast_ok = sum(fast.parse(r["text"], now=NOW).intent == r["intent"] for r in low_confidence_rows)
    assert hybrid_ok > fast_ok, (hybrid_ok, fast_ok, len(low_confidence_rows))


def test_missing_adapter_degrades_to_fasttext_and_logs_once(tmp_path, caplog, low_confidence_rows):
    engine = NluEngine(fallback=LoraFallback(adapter_dir=tmp_path / "missing", backend="llama"))
    # rows below this engine's own threshold (without adapter metadata it may differ from the hybrid's)
    rows = [r for r in low_confidence_rows if engine.classifier.predict(r["text"])[1] < engine.fallback_threshold]
    assert len(rows) >= 2
    with caplog.at_level(logging.WARNING, logger="jarvis_desktop.nlu.engine"):
        first = engine.parse(rows[0]["text"], now=NOW)
        second = engine.parse(rows[1]["text"], now=NOW)
    assert first.source == second.source == "fasttext"
    assert first.intent in INTENTS
    assert "adapter directory not found" in engine.fallback_error
    assert len([r for r in caplog.records if "fallback disabled" in r.getMessage()]) == 1


def test_corrupt_adapter_degrades_to_fasttext(tmp_path, low_confidence_rows):
    bad = tmp_path / "bad"
    shutil.copytree(DEFAULT_ADAPTER_DIR, bad)
    (bad / "adapter.gguf").write_bytes(b"\x00" * 100)
    engine = NluEngine(fallback=LoraFallback(adapter_dir=bad, backend="llama"))
    res = engine.parse(low_confidence_rows[0]["text"], now=NOW)
    assert res.source == "fasttext" and res.intent in INTENTS
    assert "cannot load the LoRA adapter" in engine.fallback_error


def test_settings_choose_the_fallback(tmp_path):
    s = Settings()
    assert NluEngine.from_settings(s).fallback.requested_backend == "auto"
    s.nlu.fallback = "off"
    assert NluEngine.from_settings(s).fallback is None
    s.nlu.fallback, s.nlu.fallback_threshold, s.nlu.adapter_dir = "torch", 0.8, str(tmp_path)
    engine = NluEngine.from_settings(s)
    assert engine.fallback.requested_backend == "torch" and engine.fallback_threshold == 0.8
    assert engine.fallback.adapter_dir == tmp_path
    s.nlu.fallback = "gpt5"
    with pytest.raises(BadInputError):
        NluEngine.from_settings(s)


@pytest.mark.slow
def test_hybrid_parse_does_not_import_torch(low_confidence_rows):
    code = (
        "import sys; from jarvis_desktop.config import Settings; from jarvis_desktop.nlu.engine import NluEngine; "
        f"r = NluEngine.from_settings(Settings()).parse({low_confidence_rows[0]['text']!r}); "
        "print(r.source, 'torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.split() == ["lora", "False"], out.stderr
