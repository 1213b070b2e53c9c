"""The LoRA fallback on the shipped adapter: loads offline with both backends, answers in the vocabulary,
rejects malformed model output, and fails clearly on a missing or corrupt adapter."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from jarvis_desktop.errors import ModelNotFoundError
from jarvis_desktop.nlu.lora_fallback import DEFAULT_ADAPTER_DIR, LoraFallback
from jarvis_desktop.nlu.lora_format import build_completion, build_prompt, parse_answer
from jarvis_desktop.nlu.vocab import INTENTS, is_valid_key

# Clear commands with their gold labels (written for this test).
CLEAR = [
    ("remind me to call mom tomorrow at 3 pm", "reminder_set", ["tomorrow", "at_3pm"]),
    ("set a timer for ten minutes", "timer_set", ["in_10_minutes"]),
    ("what's the weather like this weekend", "weather_query", ["this_weekend"]),
    ("pause the music", "media_control", []),
]


@pytest.fixture(scope="module")
def llama_fallback():
    return LoraFallback(backend="llama").load()


# ---- output validation on real strings ---------------------------------------------------------------
def test_garbage_from_an_undertrained_adapter_gives_no_intent_and_no_invalid_key():
    # What a 4-step adapter really generated for "remind me to call mom tomorrow at 3 pm".
    ans = parse_answer('application/json;bject=1"}')
    assert ans is None or (ans.intent is None and all(is_valid_key(k) for k in ans.date_keys or []))


@pytest.mark.parametrize(
    "raw",
    [
        "I think this is a reminder",  # prose, not JSON
        'reminder_set","date_keys":["tomorrow"',  # cut before the closing bracket
        'reminder_set","date_keys":"tomorrow"}',  # keys not a list
        "",
    ],
)
def test_unparseable_output_is_no_answer(raw):
    assert parse_answer(raw) is None


def test_invalid_keys_are_dropped_and_valid_ones_kept_in_order():
    ans = parse_answer('alarm_set","date_keys":["next_blursday","tomorrow","at_25pm","at_7_30am",7]}')
    assert ans.intent == "alarm_set"
    assert ans.date_keys == ["tomorrow", "at_7_30am"]


def test_unknown_intent_is_none_but_keys_survive():
    ans = parse_answer('order_pizza","date_keys":["tonight"]}')
    assert ans.intent is None and ans.date_keys == ["tonight"]


def test_intent_only_answers():
    assert parse_answer("timer_set").intent == "timer_set"
    assert parse_answer("timer_set").date_keys is None
    assert parse_answer("pizza_order") is None


def test_prompt_and_completion_round_trip():
    prompt = build_prompt("  wake me up\nat 7  ", "alarm_set")
    assert prompt == 'Command: wake me up at 7\nGuess: alarm_set\nJSON: {"intent":"'
    assert "Guess" not in build_prompt("wake me up", "not_an_intent")
    ans = parse_answer(build_completion("alarm_set", ["at_7am"]))
    assert (ans.intent, ans.date_keys) == ("alarm_set", ["at_7am"])


# ---- the shipped adapter -----------------------------------------------------------------------------
def test_shipped_adapter_files_and_metadata():
    for name in ("adapter_config.json", "adapter_model.safetensors", "adapter.gguf", "training_metadata.json"):
        assert (DEFAULT_ADAPTER_DIR / name).is_file(), name
    meta = json.loads((DEFAULT_ADAPTER_DIR / "training_metadata.json").read_text())
    assert len(meta["data"]["train_sha256"]) == 64
    assert 0.0 <= meta["routing"]["threshold"] <= 1.0


@pytest.mark.slow
def test_llama_backend_understands_clear_commands(llama_fallback):
    assert llama_fallback.backend_name == "llama"
    for text, intent, keys in CLEAR:
        ans = llama_fallback.answer(text)
        assert ans is not None and ans.intent == intent, (text, ans)
        assert all(is_valid_key(k) for k in ans.date_keys)
        assert ans.date_keys == keys, (text, ans)
        assert llama_fallback.answer(text, intent_only=True).intent == intent


@pytest.mark.slow
def test_llama_backend_does_not_import_torch():
    code = (
        "import sys; from jarvis_desktop.nlu.lora_fallback import LoraFallback; "
        "a = LoraFallback(backend='llama').answer('set a timer for ten minutes'); "
        "print(a.intent, 'torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.split() == ["timer_set", "False"], out.stderr


@pytest.mark.slow
def test_torch_backend_loads_offline_and_agrees_with_llama(llama_fallback):
    pytest.importorskip("peft")
    torch_fb = LoraFallback(backend="torch").load()
    assert torch_fb.backend_name == "torch"
    for text, intent, _keys in CLEAR:
        ans = torch_fb.answer(text)
        assert ans is not None and ans.intent == intent, (text, ans)
        assert all(is_valid_key(k) for k in ans.date_keys)
        assert ans.date_keys == llama_fallback.answer(text).date_keys


@pytest.mark.slow
def test_training_tokenization_matches_llama_cpp(llama_fallback):
    """The adapter was trained on HF-tokenized prompts; llama.cpp must read the same token ids."""
    pytest.importorskip("transformers")
    from transformers import AutoTokenizer

    from jarvis_desktop.nlu.hf_base import hf_base_dir, prompt_ids

    tok = AutoTokenizer.from_pretrained(str(hf_base_dir()))
    llm = llama_fallback._backend._llm
    for text, intent, _ in CLEAR:
        prompt = build_prompt(text, intent)
        assert prompt_ids(tok, prompt) == llm.tokenize(prompt.encode(), add_bos=True, special=True)


# ---- missing / corrupt adapters ----------------------------------------------------------------------
def test_missing_adapter_dir_is_a_clear_error(tmp_path):
    fb = LoraFallback(adapter_dir=tmp_path / "nope", backend="llama")
    with pytest.raises(ModelNotFoundError, match="adapter directory not found"):
        fb.answer("set a timer for ten minutes")


@pytest.mark.slow
@pytest.mark.parametrize("damage", ["magic_then_zeros", "truncated", "not_lora"])
def test_corrupt_gguf_adapter_is_a_clear_error_not_a_crash(tmp_path, damage):
    # "GGUF" + zeros made llama.cpp itself segfault: the adapter is checked before llama.cpp sees it.
    bad = tmp_path / "bad"
    shutil.copytree(DEFAULT_ADAPTER_DIR, bad)
    good = (DEFAULT_ADAPTER_DIR / "adapter.gguf").read_bytes()
    if damage == "magic_then_zeros":
        (bad / "adapter.gguf").write_bytes(b"GGUF" + b"\x00" * 64)
    elif damage == "truncated":
        (bad / "adapter.gguf").write_bytes(good[: len(good) // 2])
    else:  # the base model GGUF is a valid GGUF but no LoRA
        from jarvis_desktop.models import embedded_chat_gguf

        shutil.copy(embedded_chat_gguf(), bad / "adapter.gguf")
    with pytest.raises(ModelNotFoundError, match="cannot load the LoRA adapter"):
        LoraFallback(adapter_dir=bad, backend="llama").load()


@pytest.mark.slow
def test_corrupt_safetensors_adapter_is_a_clear_error(tmp_path):
    pytest.importorskip("peft")
    bad = tmp_path / "bad"
    shutil.copytree(DEFAULT_ADAPTER_DIR, bad)
    (bad / "adapter_model.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(ModelNotFoundError, match="cannot load the LoRA adapter"):
        LoraFallback(adapter_dir=bad, backend="torch").load()


@pytest.mark.slow
def test_all_answers_use_the_contract_vocabulary(llama_fallback):
    for text in ("hmm", "what is the capital of france", "blorp zzz qqq", "cancel my alarm for next friday"):
        ans = llama_fallback.answer(text)
        if ans is not None:
            assert ans.intent is None or ans.intent in INTENTS
            assert all(is_valid_key(k) for k in ans.date_keys)
