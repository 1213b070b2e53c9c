"""Packed (padding-free) training batches on the real SmolLM2 base + LoRA: no example sees another, dropout draws
the padded batch's masks so seeded runs reproduce, and teacher-forced scores agree with real greedy decoding."""

from __future__ import annotations

import random

import jobs_support  # noqa: F401  (sets JARVIS_BASE_CACHE: the converted base is shared between sessions)
import pytest

from jarvis_desktop.nlu.lora_fallback import DEFAULT_ADAPTER_DIR
from jarvis_desktop.nlu.lora_format import build_completion, build_prompt, parse_answer
from jarvis_desktop.training.batching import IGNORE, encode, pack

torch = pytest.importorskip("torch")

COMMANDS = [
    ("remind me to water the plants tomorrow at 6 pm", "reminder_set", ["tomorrow", "at_6pm"]),
    ("set a timer for twenty minutes", "timer_set", ["in_20_minutes"]),
    ("what's on my calendar next friday", "schedule_query", ["next_friday"]),
    ("turn the volume down", "volume_control", []),
]


@pytest.fixture(scope="module")
def tok_model():
    from peft import LoraConfig, get_peft_model

    from jarvis_desktop.nlu.hf_base import load_base
    from jarvis_desktop.training.recipe import LoraTrainConfig

    recipe = LoraTrainConfig()
    torch.manual_seed(7)
    tok, base = load_base(2)
    model = get_peft_model(
        base,
        LoraConfig(
            task_type="CAUSAL_LM",
            r=8,
            lora_alpha=16,
            lora_dropout=0.05,
            target_modules=list(recipe.target_modules),
            layers_to_transform=list(range(14, 30)),
            layers_pattern="layers",
        ),
    )
    with torch.no_grad():  # LoRA B starts at zero; give the adapter a real effect
        for name, param in model.named_parameters():
            if "lora_B" in name:
                param.normal_(0.0, 0.02)
    return tok, model


def _batch(tok):
    return [encode(tok, build_prompt(text), build_completion(intent, keys), 96) for text, intent, keys in COMMANDS]


@pytest.mark.slow
def test_a_packed_batch_gives_each_example_the_loss_it_has_alone(tok_model):
    from jarvis_desktop.training.batching import completion_hidden

    tok, model = tok_model
    model.eval()
    batch = _batch(tok)
    with torch.no_grad():
        hidden, target = completion_hidden(model, *pack(batch))
        alone = [completion_hidden(model, *pack([example])) for example in batch]
    assert target.tolist() == [t for _, tgt in alone for t in tgt.tolist()]
    assert torch.allclose(hidden, torch.cat([h for h, _ in alone]), atol=1e-4)


def test_pack_refuses_an_example_that_does_not_start_with_a_prompt_token():
    with pytest.raises(ValueError):
        pack([([1, 2, 3], [5, 6, 7])])
    with pytest.raises(ValueError):
        pack([])


def test_packed_dropout_draws_the_padded_batchs_mask_for_the_real_tokens():
    from jarvis_desktop.training.packed_dropout import BatchLayout, PackedDropout

    lengths, width = [5, 9, 3], 9
    padded = torch.randn(len(lengths), width, 16)
    packed = torch.cat([padded[i, :n] for i, n in enumerate(lengths)]).unsqueeze(0)
    layout = BatchLayout()
    layout.set(lengths)
    torch.manual_seed(3)
    want = torch.nn.Dropout(0.3).train()(padded)
    torch.manual_seed(3)
    got = PackedDropout(0.3, layout).train()(packed)
    assert torch.equal(got[0], torch.cat([want[i, :n] for i, n in enumerate(lengths)]))
    assert (got == 0).any()  # it does drop
    assert torch.equal(PackedDropout(0.3, layout).eval()(packed), packed)


@pytest.mark.slow
def test_teacher_forced_scores_match_what_greedy_decoding_really_writes():
    from peft import PeftModel

    from jarvis_desktop.nlu.hf_base import load_base
    from jarvis_desktop.training.data import load_rows
    from jarvis_desktop.training.recipe import LoraTrainConfig
    from jarvis_desktop.training.scoring import score_teacher_forced

    rows = random.Random(5).sample(load_rows(LoraTrainConfig().valid_path), 12)
    tok, base = load_base(2)
    model = PeftModel.from_pretrained(base, str(DEFAULT_ADAPTER_DIR)).eval()
    scores = score_teacher_forced(model, tok, rows, batch_size=5)
    assert score_teacher_forced(model, tok, rows, batch_size=1) == scores  # packing changes nothing
    exact = intent = 0
    for row in rows:
        prompt = build_prompt(row["text"])
        ids = torch.tensor([tok(prompt, add_special_tokens=False)["input_ids"]])
        with torch.no_grad():
            out = model.generate(
                input_ids=ids,
                attention_mask=torch.ones_like(ids),
                max_new_tokens=40,
                do_sample=False,
                eos_token_id=tok.eos_token_id,
                pad_token_id=tok.eos_token_id,
            )
        text = tok.decode(out[0, ids.shape[1] :], skip_special_tokens=True)
        ans = parse_answer(text[: text.index("}") + 1] if "}" in text else text.split('"')[0])
        intent += ans is not None and ans.intent == row["intent"]
        exact += ans is not None and ans.intent == row["intent"] and ans.date_keys == list(row["date_keys"])
    assert scores["n"] == 12
    assert scores["intent_accuracy"] == round(100 * intent / 12, 2)
    assert scores["exact_accuracy"] == round(100 * exact / 12, 2)
    assert scores["exact_accuracy"] >= 50  # the shipped adapter is far better than chance on its own task


def test_labels_of_prompt_tokens_are_ignored():
    class Tok:
        eos_token_id = 0

        def __call__(self, text, add_special_tokens=False):
            return {"input_ids": [ord(c) for c in text]}

    ids, labels = encode(Tok(), "ab", "cd", 96)
    assert ids == [97, 98, 99, 100, 0]
    assert labels == [IGNORE, IGNORE, 99, 100, 0]


@pytest.mark.slow
def test_scoring_cli_refuses_a_directory_that_is_not_an_adapter(tmp_path):
    import json
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "jarvis_desktop.training.scoring", str(tmp_path), "--rows", "5"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2  # bad input, as every CLI here
    assert "not a PEFT adapter directory" in json.loads(proc.stdout.splitlines()[-1])["error"]
