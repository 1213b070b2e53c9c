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
    "text,expected",
    [
        ("take a note: pick up the dry cleaning on friday", "pick up the dry cleaning on friday"),
        ("Take a note, pick up the dry cleaning on Friday.", "pick up the dry cleaning on Friday"),
        ("note that the dentist moved to tuesday at 3 pm", "the dentist moved to tuesday at 3 pm"),
        ("write down the boiler service is next month", "the boiler service is next month"),
        ("remember that I parked on level 3 tonight", "I parked on level 3 tonight"),
        ("note to self call back later", "call back later"),
        ("jot down standup moves to 9:30 tomorrow morning", "standup moves to 9:30 tomorrow morning"),
        ("add pay rent on the 1st to my notes", "pay rent on the 1st"),
        ("put buy milk in my notes", "buy milk"),
    ],
)
def test_a_note_keeps_its_date_words(text, expected):
    """A note is saved as said: its date words are part of it (only reminders and events cut them out)."""
    assert payload(text, "note_create") == expected


@pytest.mark.parametrize(
    "text,intent,expected",
    [
        ("remind me to pick up the dry cleaning on friday", "reminder_set", "pick up the dry cleaning"),
        ("remind me in 30 seconds to flip the pancake", "reminder_set", "flip the pancake"),
        ("remind me in a minute and a half to stir", "reminder_set", "stir"),
        ("schedule the dentist on friday at 10", "calendar_set", "dentist"),
    ],
)
def test_reminders_and_events_still_lose_their_date_words(text, intent, expected):
    assert normalize_payload(payload(text, intent)) == normalize_payload(expected)


@pytest.mark.parametrize(
    "text,intent",
    [
        ("set a timer for ten minutes", "timer_set"),
        ("set a timer for 30 seconds", "timer_set"),
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
