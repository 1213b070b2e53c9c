"""Chat requests that contain command words stay chat (issue 13): the held-out set tests/data/chat_like_heldout.txt
was written for evaluation and is never trained on (bench/chat_routing.py prints the misroutes)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from jarvis_desktop.config import Settings
from jarvis_desktop.nlu.engine import NluEngine

pytestmark = pytest.mark.slow

HELDOUT = Path(__file__).parent / "data" / "chat_like_heldout.txt"


def test_at_least_97_percent_of_held_out_chat_requests_are_answered_not_acted_on():
    lines = [ln.strip() for ln in HELDOUT.read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    engine = NluEngine.from_settings(Settings()).load()
    acted = [(t, p.intent) for t in lines if (p := engine.parse(t, datetime(2026, 12, 7, 10))).intent != "general_chat"]
    assert len(lines) >= 100
    assert 1 - len(acted) / len(lines) >= 0.97, acted


def test_the_held_out_lines_are_not_in_the_training_corpus():
    corpus = Path(__file__).parents[1] / "models" / "nlu" / "corpus.train.jsonl"
    trained = corpus.read_text().lower()
    lines = [ln.strip() for ln in HELDOUT.read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    leaked = [t for t in lines if f'"{t}"' in trained]
    assert not leaked, leaked
