"""Payload extraction: the part of the utterance the action works on."""

from __future__ import annotations

import pytest

from jarvis_desktop.nlu import datagen
from jarvis_desktop.nlu.datekeys import extract_date_spans
from jarvis_desktop.nlu.payload import extract_payload, normalize_payload


def payload(text: str, intent: str) -> str:
    return extract_payload(text, intent, extract_date_spans(text, intent))


@pytest.mark.parametrize(
    "text,intent,expected",
    [
        ("remind me to call mom tomorrow at 3 pm", "reminder_set", "call mom"),
        ("take a note: buy milk", "note_create", "buy milk"),
        ("open firefox", "app_open", "firefox"),
        ("search the web for python decorators", "web_search", "python decorators"),
        ("schedule a meeting with Ana next tuesday at 2 pm", "calendar_set", "meeting with Ana"),
        ("Hey Jarvis, could you remind me in 20 minutes to check the oven?", "reminder_set", "check the oven"),
        ("tomorrow at 9 remind me to send the invoice", "reminder_set", "send the invoice"),
        ("play some jazz", "media_control", "jazz"),
        ("look up the population of Tokyo online", "web_search", "the population of Tokyo"),
        ("put the quarterly review on my calendar for next Monday at 10", "calendar_set", "quarterly review"),
    ],
)
def test_examples(text, intent, expected):
    assert normalize_payload(payload(text, intent)) == normalize_payload(expected)


@pytest.mark.parametrize(
    "text,intent",
    [
        ("set a timer for ten minutes", "timer_set"),
        ("wake me up at 7", "alarm_set"),
        ("pause the music", "media_control"),
        ("next song", "media_control"),
        ("what time is it", "datetime_query"),
        ("turn the volume down", "volume_set"),
        ("explain what a transformer is", "general_chat"),
    ],
)
def test_intents_without_payload_give_empty(text, intent):
    assert payload(text, intent) == ""


@pytest.mark.parametrize("text", ["", "   ", "remind me", "to to to", "\x00\xff", "a" * 3000, "??!!"])
def test_odd_text_never_raises(text):
    for intent in ("reminder_set", "note_create", "web_search", "app_open", "calendar_set", "media_control"):
        assert isinstance(extract_payload(text, intent, []), str)


@pytest.mark.slow
def test_payload_matches_generator_labels_on_held_out_templates():
    rows = [r for r in datagen.generate(4000, seed=77) if r["split"] == "valid"]
    scored = [r for r in rows if r["intent"] in datagen.PAYLOAD_SLOT]
    ok = sum(normalize_payload(payload(r["text"], r["intent"])) == normalize_payload(r["payload"]) for r in scored)
    assert len(scored) > 200
    assert ok / len(scored) >= 0.9, ok / len(scored)
