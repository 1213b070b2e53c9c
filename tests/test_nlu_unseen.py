"""Held-out evaluation of the NLU engine on hand-written utterances its authors never saw.

``tests/data/unseen_utterances.jsonl``: one JSON object a line,
``{"text", "now", "intent", "date_keys", "when"}``, labelled by hand from the spec
(``shared/spec/nlu.md`` sections 1-3), written independently of the rule grammar and of the
training-corpus templates: voice-assistant phrasing as Whisper transcribes it (lowercase without
punctuation, "3 p.m.", "3:30 PM", fillers, indirect requests, British "half seven"), tricky
general chat that contains command words, and five fixed ``now`` values (a Sunday evening, a Friday
23:40, a month end, 31 December, a Tuesday morning).

The accuracy floors sit a few points under what the shipped models measured when this set was
written, so they catch regressions without pinning today's exact numbers. Failures are printed
(run with ``-s`` to see them) grouped by kind, to show what to fix.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest

from jarvis_desktop.nlu.vocab import INTENTS, is_valid_key

DATA = Path(__file__).parent / "data" / "unseen_utterances.jsonl"

#: measured on 511 lines with the models of 2026-11-22 (two trainings, 03:16 and 03:33 UTC): intent
#: 0.949 / 0.937, exact date keys 0.994 / 0.992, when 0.994 / 0.992; general_chat recall 0.71 / 0.66,
#: every command intent >= 0.92. Retraining with other seeds moves intent accuracy by about +-0.5 point.
INTENT_FLOOR = 0.90
KEYS_FLOOR = 0.97
WHEN_FLOOR = 0.97
#: per intent recall: no command label may collapse even if the overall figure holds
PER_INTENT_FLOOR = 0.80
#: general chat that contains command words ("can you play chess") is the known weak spot
GENERAL_CHAT_FLOOR = 0.55


def _load() -> list[dict]:
    with DATA.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


ROWS = _load()


def test_unseen_set_is_labelled_per_spec():
    """The set itself: valid labels and keys, every intent well represented, distinct texts."""
    assert len(ROWS) >= 300
    counts = Counter(r["intent"] for r in ROWS)
    assert set(counts) == set(INTENTS), set(INTENTS) ^ set(counts)
    assert min(counts.values()) >= 12, counts
    assert counts["general_chat"] >= 40
    for r in ROWS:
        assert set(r) == {"text", "now", "intent", "date_keys", "when"}, r
        datetime.fromisoformat(r["now"])
        assert all(is_valid_key(k) for k in r["date_keys"]), r
        if not r["date_keys"]:
            assert r["when"] is None, r
        if r["when"] is not None:
            seconds = any(k.endswith("_seconds") for k in r["date_keys"])  # spec 2.1: :SS with in_N_seconds
            assert len(r["when"]) == (19 if seconds else 16) and datetime.fromisoformat(r["when"]), r
    assert len({(r["text"], r["now"]) for r in ROWS}) == len(ROWS)


@pytest.fixture(scope="module")
def predictions():
    """``[(row, ParseResult)]`` for the whole set, parsed once with the shipped models."""
    from jarvis_desktop.nlu.engine import NluEngine

    engine = NluEngine()
    return [(r, engine.parse(r["text"], now=datetime.fromisoformat(r["now"]))) for r in ROWS]


def _report(title: str, failures: list[str]) -> None:
    print(f"\n--- {title}: {len(failures)} failure(s)")
    for line in failures:
        print("  " + line)


@pytest.mark.slow
def test_intent_accuracy_on_unseen_phrasing(predictions):
    wrong = [(r, p) for r, p in predictions if p.intent != r["intent"]]
    _report(
        "intent",
        [
            f"{r['intent']:>15} -> {p.intent:<15} p={p.confidence:.2f} | {r['text']}"
            for r, p in sorted(wrong, key=lambda rp: rp[0]["intent"])
        ],
    )
    accuracy = 1 - len(wrong) / len(predictions)
    print(f"intent accuracy {accuracy:.3f} on {len(predictions)}")
    per_intent = {}
    for name in INTENTS:
        rows = [(r, p) for r, p in predictions if r["intent"] == name]
        per_intent[name] = sum(p.intent == name for _, p in rows) / len(rows)
    print("per-intent recall " + ", ".join(f"{k} {v:.2f}" for k, v in per_intent.items()))
    assert accuracy >= INTENT_FLOOR
    weak = {
        k: round(v, 2)
        for k, v in per_intent.items()
        if v < (GENERAL_CHAT_FLOOR if k == "general_chat" else PER_INTENT_FLOOR)
    }
    assert not weak, f"intents whose recall collapsed: {weak}"


@pytest.mark.slow
def test_date_keys_exact_on_unseen_phrasing(predictions):
    """The exact key list (members and order) must match the hand label."""
    wrong = [(r, p) for r, p in predictions if p.date_keys != r["date_keys"]]
    _report("date keys", [f"{r['date_keys']} -> {p.date_keys} [{p.intent}] | {r['text']}" for r, p in wrong])
    accuracy = 1 - len(wrong) / len(predictions)
    timed = [(r, p) for r, p in predictions if r["date_keys"]]
    timed_acc = sum(p.date_keys == r["date_keys"] for r, p in timed) / len(timed)
    print(f"date-key exact match {accuracy:.3f} on {len(predictions)} ({timed_acc:.3f} on {len(timed)} with keys)")
    assert accuracy >= KEYS_FLOOR


@pytest.mark.slow
def test_when_on_unseen_phrasing(predictions):
    """``when`` (local YYYY-MM-DDTHH:MM or null) against the hand-computed moment."""
    wrong = [(r, p) for r, p in predictions if p.when != r["when"]]
    _report("when", [f"{r['when']} -> {p.when} (now {r['now']}, keys {p.date_keys}) | {r['text']}" for r, p in wrong])
    accuracy = 1 - len(wrong) / len(predictions)
    print(f"when accuracy {accuracy:.3f} on {len(predictions)}")
    assert accuracy >= WHEN_FLOOR


@pytest.mark.slow
def test_every_predicted_key_is_in_the_vocabulary(predictions):
    """Rule 7: whatever the phrasing, the engine only emits vocabulary keys."""
    bad = [(r["text"], k) for r, p in predictions for k in p.date_keys if not is_valid_key(k)]
    assert not bad
    assert all(p.intent in INTENTS for _, p in predictions)
