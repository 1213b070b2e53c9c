"""The NLU engine facade on the shipped models: guard rails, output contract, unseen phrasings."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from jarvis_desktop.config import Settings
from jarvis_desktop.errors import BadInputError
from jarvis_desktop.nlu import datagen
from jarvis_desktop.nlu.engine import NluEngine, ParseResult
from jarvis_desktop.nlu.evaluate import evaluate, format_report
from jarvis_desktop.nlu.fallback import HookFallback
from jarvis_desktop.nlu.vocab import INTENTS, is_valid_key

NOW = datetime(2026, 3, 11, 10, 17)  # a Wednesday

# Written by hand for this test, in phrasings the generator does not produce.
HANDWRITTEN: dict[str, list[str]] = {
    "reminder_set": [
        "yo remind me at five to grab the laundry",
        "could you ping me in twenty minutes about the oven",
        "i need a nudge tomorrow morning to submit my timesheet",
        "Reminder: dentist tomorrow at 10.",
        "remind me to water the tomatoes tonight",
    ],
    "timer_set": [
        "set a 15 minute timer for the eggs",
        "Timer, 3 minutes.",
        "can you start a timer of forty minutes for the roast",
        "count down twenty minutes please",
    ],
    "alarm_set": [
        "wake me at 6:45 tomorrow",
        "I need an alarm for 5:30 a.m.",
        "get me up at seven on saturday",
        "set an alarm for quarter past six in the morning",
    ],
    "schedule_query": [
        "what's on my schedule for tomorrow",
        "do I have anything on friday afternoon",
        "what alarms have I set",
        "any reminders for today?",
    ],
    "schedule_remove": [
        "cancel tomorrow's alarm",
        "delete the reminder about the dentist",
        "turn off the timer",
        "remove my 6 am alarm",
    ],
    "calendar_set": [
        "add a lunch meeting with Carlos on Thursday at noon",
        "put the quarterly review on my calendar for next Monday at 10",
        "schedule a call with the contractor friday at 4 pm",
        "book a planning session with the marketing team tomorrow at 2",
    ],
    "weather_query": [
        "is it going to rain tomorrow",
        "What's the forecast for the weekend?",
        "how cold is it outside right now",
        "will I need an umbrella this afternoon",
    ],
    "datetime_query": [
        "what's the time",
        "what day is it today",
        "Which date is it?",
        "tell me the current date",
    ],
    "app_open": [
        "open the terminal",
        "launch spotify",
        "start libreoffice calc",
        "open up the text editor please",
    ],
    "system_status": [
        "how much ram is being used",
        "what's the current cpu load",
        "how much battery do I have left",
        "is the disk almost full",
    ],
    "volume_set": [
        "turn the sound down a little",
        "mute the audio",
        "Set the volume to 40%.",
        "louder please",
    ],
    "media_control": [
        "skip to the next track",
        "pause the song",
        "play some jazz",
        "go back one song",
    ],
    "note_create": [
        "take a note: the garage door code is 1234",
        "write down that the meeting went well",
        "note down buy batteries and tape",
        "make a note that Sarah likes orchids",
    ],
    "web_search": [
        "search the web for the best hiking trails near Denver",
        "google how to fix a flat tire",
        "look up the population of Tokyo",
        "search for cheap hotels in Paris",
    ],
    "general_chat": [
        "what's the difference between a virus and bacteria",
        "tell me a fun fact about octopuses",
        "how do airplanes stay in the air",
        "what is the history of time zones",
        "open source licenses explained",
        "who wrote pride and prejudice",
    ],
}


@pytest.fixture(scope="module")
def engine() -> NluEngine:
    return NluEngine(tz=ZoneInfo("UTC")).load()


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\t",
        "a" * 10_000,
        "今天天气怎么样",
        "Привет, как дела?",
        "\x00\x01\x02\xff\xfe" * 40,
        "1234 5678 !!!",
        "🙂🙂🙂",
    ],
)
def test_bad_input_goes_to_chat_without_error(text):
    # the guard rails answer before any model is loaded, so a wrong model dir does not matter here
    eng = NluEngine(model_dir="/nonexistent")
    t0 = time.perf_counter()
    res = eng.parse(text)
    assert (time.perf_counter() - t0) < 0.05
    assert (res.intent, res.date_keys, res.when, res.source) == ("general_chat", [], None, "rules")


def test_to_dict_has_exactly_the_contract_keys(engine):
    d = engine.parse("remind me to call mom tomorrow at 3 pm", now=NOW).to_dict()
    assert list(d) == ["text", "intent", "date_keys", "when", "confidence", "source", "payload"]
    assert d == {
        "text": "remind me to call mom tomorrow at 3 pm",
        "intent": "reminder_set",
        "date_keys": ["tomorrow", "at_3pm"],
        "when": "2026-03-12T15:00",
        "confidence": d["confidence"],
        "source": "fasttext",
        "payload": "call mom",
    }
    assert 0.5 < d["confidence"] <= 1.0


def test_spec_examples(engine):
    r = engine.parse("schedule a meeting with Ana next tuesday at 2 pm", now=NOW)
    assert (r.intent, r.date_keys, r.when, r.payload) == (
        "calendar_set",
        ["next_tuesday", "at_2pm"],
        "2026-03-17T14:00",
        "meeting with Ana",
    )
    r = engine.parse("set a timer for ten minutes", now=NOW)
    assert (r.intent, r.date_keys, r.when) == ("timer_set", ["in_10_minutes"], "2026-03-11T10:27")
    r = engine.parse("what time is it", now=NOW)
    assert (r.intent, r.date_keys, r.when) == ("datetime_query", [], None)


@pytest.mark.parametrize("intent", sorted(HANDWRITTEN))
def test_handwritten_unseen_utterances(engine, intent):
    wrong = [(t, engine.parse(t, now=NOW).intent) for t in HANDWRITTEN[intent]]
    wrong = [(t, got) for t, got in wrong if got != intent]
    assert not wrong, wrong


def test_every_intent_has_handwritten_examples():
    assert set(HANDWRITTEN) == set(INTENTS)
    assert all(len(v) >= 3 for v in HANDWRITTEN.values())


def test_now_defaults_to_the_engine_time_zone(engine):
    tokyo = NluEngine(tz=ZoneInfo("Asia/Tokyo")).load()
    before = datetime.now(ZoneInfo("Asia/Tokyo"))
    r = tokyo.parse("remind me in 10 minutes to stretch")
    when = datetime.strptime(r.when, "%Y-%m-%dT%H:%M")
    expected = before.replace(tzinfo=None, second=0, microsecond=0)
    assert abs((when - expected).total_seconds() - 600) <= 120


def test_from_settings_and_bad_timezone():
    s = Settings()
    s.nlu.timezone = "Europe/Lisbon"
    eng = NluEngine.from_settings(s)
    assert eng.tz == ZoneInfo("Europe/Lisbon")
    s.nlu.timezone = "Mars/Olympus_Mons"
    with pytest.raises(BadInputError):
        NluEngine.from_settings(s)


def test_low_confidence_hook_is_used_only_below_the_threshold():
    calls = []

    def fallback(text):
        calls.append(text)
        return "general_chat"

    always = NluEngine(fallback_threshold=1.01, fallback=HookFallback(fallback))
    r = always.parse("set a timer for ten minutes", now=NOW)
    assert (r.intent, r.source, calls) == ("general_chat", "fallback", ["set a timer for ten minutes"])
    never = NluEngine(fallback_threshold=0.0, fallback=HookFallback(fallback))
    assert never.parse("set a timer for ten minutes", now=NOW).source == "fasttext"


@pytest.mark.slow
def test_held_out_validation_meets_the_targets(engine):
    rows = [r for r in datagen.generate(6000, seed=13) if r["split"] == "valid"]
    report = evaluate(engine, rows, now=NOW)
    text = format_report(report)
    assert report["invalid_keys"] == 0, text
    assert report["intent_accuracy"] >= 91.0, text
    assert report["date_keys_accuracy"] >= 97.0, text
    assert report["when_accuracy"] >= 97.0, text
    assert report["latency_ms"]["p50"] <= 2.0, text
    assert "intent accuracy" in text


@pytest.mark.slow
def test_outputs_validate_against_the_vocabulary(engine):
    rows = datagen.generate(1500, seed=99)
    for row in rows:
        res = engine.parse(row["text"], now=NOW)
        assert isinstance(res, ParseResult) and res.intent in INTENTS
        assert all(is_valid_key(k) for k in res.date_keys)
        with_seconds = any(k.endswith("_seconds") for k in res.date_keys)  # spec 2.1: :SS with in_N_seconds
        assert res.when is None or len(res.when) == (19 if with_seconds else 16)


def test_engine_does_not_import_torch_or_qt():
    code = (
        "import sys; from jarvis_desktop.nlu.engine import NluEngine; "
        "NluEngine().parse('remind me to call mom at 5'); "
        "print(any(m.split('.')[0] in ('torch', 'PySide6', 'transformers') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_load_rows_reads_jsonl_and_rejects_bad_files(tmp_path):
    from jarvis_desktop.nlu.evaluate import load_rows

    good = tmp_path / "rows.jsonl"
    good.write_text('{"text": "open firefox", "intent": "app_open", "date_keys": []}\n\n')
    assert load_rows(good) == [{"text": "open firefox", "intent": "app_open", "date_keys": []}]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "no labels"}\n')
    with pytest.raises(BadInputError):
        load_rows(bad)
    with pytest.raises(BadInputError):
        load_rows(tmp_path / "missing.jsonl")
    assert all(r["split"] == "valid" for r in load_rows()[:50])


class _StubEngine:
    """Answers from a table, with the source a routing engine would report."""

    def __init__(self, answers: dict[str, tuple[str, str]]) -> None:
        self.answers = answers

    def parse(self, text, now=None):
        intent, source = self.answers[text]
        return ParseResult(text=text, intent=intent, source=source, confidence=0.4)


def test_evaluate_reports_fallback_rate_and_latency_per_source():
    rows = [
        {"text": "a", "intent": "timer_set", "date_keys": []},
        {"text": "b", "intent": "general_chat", "date_keys": []},
        {"text": "c", "intent": "weather_query", "date_keys": []},
        {"text": "d", "intent": "weather_query", "date_keys": []},
    ]
    stub = _StubEngine(
        {
            "a": ("timer_set", "fasttext"),
            "b": ("general_chat", "rules"),
            "c": ("weather_query", "lora"),
            "d": ("datetime_query", "lora"),
        }
    )
    report = evaluate(stub, rows, now=NOW)
    assert report["fallback_rate"] == 50.0
    assert report["sources"] == {"fasttext": 1, "lora": 2, "rules": 1}
    assert set(report["latency_by_source"]) == {"fasttext", "lora", "rules"}
    assert report["latency_by_source"]["lora"]["n"] == 2
    assert report["per_intent"]["weather_query"] == {"n": 2, "accuracy": 50.0, "keys_accuracy": 100.0}
    assert report["confusions"] == [["weather_query", "datetime_query", 1]]
    text = format_report(report)
    assert "fallback rate:       50.00 %" in text and "lora" in text


def test_evaluate_uses_the_row_now_and_when_labels():
    rows = [
        {
            "text": "remind me tomorrow at 9 am to stretch",
            "intent": "reminder_set",
            "date_keys": ["tomorrow", "at_9am"],
            "now": "2026-12-31T20:00",
            "when": "2027-01-01T09:00",
        }
    ]
    report = evaluate(NluEngine(tz=ZoneInfo("UTC")), rows, now=NOW)
    assert report["when_accuracy"] == 100.0 and report["date_keys_accuracy"] == 100.0


def test_threshold_table_splits_rows_by_confidence():
    from jarvis_desktop.nlu.evaluate import format_threshold_table, threshold_table

    class Clf:
        def predict(self, text):
            return {"x": ("timer_set", 0.9), "y": ("alarm_set", 0.35), "z": ("note_create", 0.6)}[text]

    rows = [
        {"text": "x", "intent": "timer_set"},
        {"text": "y", "intent": "timer_set"},
        {"text": "z", "intent": "note_create"},
    ]
    table = {r["threshold"]: r for r in threshold_table(rows, Clf(), thresholds=(0.3, 0.5, 0.95))}
    assert table[0.3] == {"threshold": 0.3, "below_pct": 0.0, "n_below": 0, "acc_above": 66.67, "acc_below": None}
    assert table[0.5]["below_pct"] == 33.33 and table[0.5]["acc_below"] == 0.0 and table[0.5]["acc_above"] == 100.0
    assert table[0.95]["n_below"] == 3
    assert "threshold" in format_threshold_table(list(table.values()))


@pytest.mark.slow
def test_a_long_line_never_waits_on_the_fallback_model():
    """Hostile or pasted long text skips the LoRA fallback (its prompt cost grows with the text); a short unsure
    utterance still gets it. The real shipped adapter, asked for every utterance (threshold above 1)."""
    from jarvis_desktop.config import Settings
    from jarvis_desktop.nlu.engine import FALLBACK_MAX_CHARS, NluEngine

    settings = Settings()
    settings.nlu.fallback_threshold = 1.01
    nlu = NluEngine.from_settings(settings)
    assert nlu.parse("wake me at seven tomorrow").source == "lora"
    long_line = "p.m. " * 400
    assert len(long_line) > FALLBACK_MAX_CHARS and nlu.parse(long_line).source == "fasttext"
