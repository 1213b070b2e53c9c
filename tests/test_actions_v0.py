"""Direct answers for time and system status; commands carried out and confirmed with what was understood."""

from __future__ import annotations

from datetime import datetime

import pytest

from jarvis_desktop.actions import run_action
from jarvis_desktop.nlu.engine import ParseResult

NOW = datetime(2026, 11, 22, 18, 5)  # Sunday


def parsed(text, intent, keys=(), when=None, payload=""):
    return ParseResult(
        text=text, intent=intent, date_keys=list(keys), when=when, confidence=0.99, source="test", payload=payload
    )


def test_time_question_answers_the_clock():
    r = run_action(parsed("what time is it", "datetime_query"), NOW)
    assert r.kind == "answer" and "18:05" in r.text


def test_date_question_answers_the_day():
    r = run_action(parsed("what's the date today", "datetime_query", ["today"], "2026-11-22T09:00"), NOW)
    assert "Sunday" in r.text and "22 November 2026" in r.text


def test_day_question_about_tomorrow():
    r = run_action(parsed("what day is it tomorrow", "datetime_query", ["tomorrow"], "2026-11-23T09:00"), NOW)
    assert r.text.startswith("Tomorrow is Monday")


@pytest.mark.parametrize(
    "text, field",
    [
        ("how much memory am I using", "memory_used_gib"),
        ("what's the cpu load", "cpu_percent"),
        ("how much disk space is left", "disk_total_gib"),
    ],
)
def test_system_status_reports_real_figures(text, field):
    r = run_action(parsed(text, "system_status"), NOW)
    assert r.kind == "answer" and field in r.data and r.data[field] >= 0


def test_system_status_lists_loaded_models():
    r = run_action(parsed("which models are loaded", "system_status"), NOW, ["chat (llama.cpp)"])
    assert "chat (llama.cpp)" in r.text


def test_reminder_is_confirmed_with_payload_and_time():
    r = run_action(
        parsed(
            "remind me to call mom tomorrow at 3 pm",
            "reminder_set",
            ["tomorrow", "at_3pm"],
            "2026-11-23T15:00",
            "call mom",
        ),
        NOW,
    )
    assert r.summary == "Reminder: call mom — tomorrow 15:00"
    assert r.kind == "done" and r.text == "Reminder set: call mom — tomorrow 15:00."


def test_timer_shows_its_duration():
    r = run_action(parsed("set a timer for 10 minutes", "timer_set", ["in_10_minutes"], "2026-11-22T18:15"), NOW)
    assert r.summary == "Timer: 10 minutes — today 18:15"


def test_past_time_is_refused_clearly():
    r = run_action(
        parsed(
            "remind me yesterday at 3 pm to call", "reminder_set", ["yesterday", "at_3pm"], "2026-11-21T15:00", "call"
        ),
        NOW,
    )
    assert r.kind == "refused" and "already passed" in r.text


def test_reminder_without_time_says_so():
    r = run_action(parsed("remind me to water the plants", "reminder_set", payload="water the plants"), NOW)
    assert "no time given" in r.summary


def test_general_chat_is_not_an_action():
    assert run_action(parsed("tell me a joke", "general_chat"), NOW) is None
