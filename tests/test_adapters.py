"""Adapters: listing with scores, activation persisted for the next start, and the live hot swap into a
running engine's LoRA fallback."""

from __future__ import annotations

import json
import shutil

import pytest
from cli_helpers import run_cli
from jobs_support import shared_trained_adapter

from jarvis_desktop.config import load_settings, save_settings
from jarvis_desktop.errors import ModelNotFoundError
from jarvis_desktop.jobs.adapters import BUILTIN_NAME, AdapterRegistry, not_worse

pytestmark = pytest.mark.slow


@pytest.fixture
def installed(home, tmp_path_factory):
    """The shared tiny adapter copied into this test's data dir as ``mine``."""
    src, _, _ = shared_trained_adapter(tmp_path_factory)
    dest = home / "adapters" / "mine"
    shutil.copytree(src, dest)
    return dest


def test_not_worse_compares_exact_then_intent_accuracy():
    assert not_worse({"exact_accuracy": 80.0}, {"exact_accuracy": 80.0})
    assert not_worse(
        {"exact_accuracy": 81.0, "intent_accuracy": 1.0}, {"exact_accuracy": 80.0, "intent_accuracy": 99.0}
    )
    assert not not_worse(
        {"exact_accuracy": 80.0, "intent_accuracy": 90.0}, {"exact_accuracy": 80.0, "intent_accuracy": 91.0}
    )
    assert not_worse({"exact_accuracy": 1.0}, None) and not not_worse({}, {"exact_accuracy": 1.0})


def test_activating_swaps_the_running_engines_fallback_without_a_restart(installed):
    from jarvis_desktop.assistant import Assistant
    from jarvis_desktop.nlu.engine import NluEngine
    from jarvis_desktop.nlu.lora_fallback import LoraFallback

    settings = load_settings()
    settings.nlu.fallback = "llama"
    settings.nlu.fallback_threshold = 1.01  # ask the fallback on every utterance
    save_settings(settings)
    assistant = Assistant(load_settings(), record_history=False)
    engine = assistant.nlu
    assert engine.fallback.adapter_dir.name == BUILTIN_NAME

    info = assistant.activate_adapter("mine")
    assert assistant.nlu is engine  # the same running engine
    assert engine.fallback.adapter_dir == installed and engine.fallback.backend_name == "llama"
    assert info.swap_s is not None and info.swap_s < 10

    text = "water the plants when I get home"
    hint = engine.classifier.predict(text)[0]
    expected = LoraFallback(adapter_dir=installed, backend="llama").answer(text, hint, intent_only=True).intent
    result = engine.parse(text)
    assert result.source == "lora" and result.intent == expected

    # persisted: the engine built at the next start uses it too
    assert NluEngine.from_settings(load_settings()).fallback.adapter_dir == installed
    assert AdapterRegistry().active().name == "mine"


def test_an_adapter_that_cannot_load_is_not_activated_and_the_current_one_stays(installed):
    from jarvis_desktop.assistant import Assistant

    broken = installed.parent / "broken"
    shutil.copytree(installed, broken)
    (broken / "adapter.gguf").write_bytes(b"not a gguf file")
    settings = load_settings()
    settings.nlu.fallback = "llama"
    save_settings(settings)
    assistant = Assistant(load_settings(), record_history=False)
    assistant.activate_adapter("mine")
    with pytest.raises(ModelNotFoundError):
        assistant.activate_adapter("broken")
    assert assistant.nlu.fallback.adapter_dir == installed
    assert AdapterRegistry().active().name == "mine"


def test_cli_lists_adapters_with_scores_and_activates_one(installed):
    proc = run_cli("adapters", "--json")
    assert proc.returncode == 0, proc.stderr
    rows = {a["name"]: a for a in json.loads(proc.stdout)}
    assert rows[BUILTIN_NAME]["builtin"] and rows[BUILTIN_NAME]["active"]
    assert rows["mine"]["scores"]["n"] == 2 and rows["mine"]["has_gguf"] and not rows["mine"]["active"]

    assert run_cli("adapters", "activate", "mine").returncode == 0
    rows = {a["name"]: a for a in json.loads(run_cli("adapters", "--json").stdout)}
    assert rows["mine"]["active"] and not rows[BUILTIN_NAME]["active"]
    text = run_cli("adapters").stdout
    assert "* mine" in text

    proc = run_cli("adapters", "activate", "nope")
    assert proc.returncode == 2 and "no adapter called 'nope'" in proc.stderr
    assert run_cli("adapters", "activate", BUILTIN_NAME).returncode == 0
    assert json.loads(run_cli("adapters", "--json").stdout)[0]["active"]  # back to the built-in
