"""Reminders, timers, alarms: set, list, cancel by time or words, undo; past times refused; timers and
reminders in seconds (date keys 2.1) set and fired on time."""

from __future__ import annotations

import queue
import time
from datetime import datetime, timedelta

import pytest
from actions_helpers import act, ctx_fixture, parsed  # noqa: F401 - ctx_fixture provides "ctx"

from jarvis_desktop.actions.scheduler import Scheduler
from jarvis_desktop.actions.summary import describe_command
from jarvis_desktop.actions.timefmt import format_duration
from jarvis_desktop.actions.undo import is_undo_command
from jarvis_desktop.nlu.engine import NluEngine

NOW = datetime(2030, 3, 4, 18, 5)  # a Monday evening, safely in the future of any test run


def remind(ctx, payload="call mom", keys=("tomorrow", "at_3pm"), when="2030-03-05T15:00"):
    return act(ctx, parsed(f"remind me to {payload}", "reminder_set", keys, when, payload), NOW)


def alarm(ctx, keys=("tomorrow", "at_7am"), when="2030-03-05T07:00"):
    return act(ctx, parsed("wake me up", "alarm_set", keys, when), NOW)


def test_reminder_is_stored_and_confirmed_in_one_sentence(ctx):
    r = remind(ctx)
    assert r.kind == "done" and r.text == "Reminder set: call mom — tomorrow 15:00."
    item = ctx.schedule.get(r.data["id"])
    assert item.kind == "reminder" and item.title == "call mom" and item.status == "pending"
    assert item.local_due().replace(tzinfo=None) == datetime(2030, 3, 5, 15, 0)


def test_reminder_without_a_time_asks_for_one_and_stores_nothing(ctx):
    r = act(ctx, parsed("remind me to water the plants", "reminder_set", payload="water the plants"), NOW)
    assert r.kind == "refused" and "When should I remind you" in r.text
    assert ctx.schedule.pending() == []


def test_alarm_without_a_clock_time_is_refused(ctx):
    r = alarm(ctx, keys=("tomorrow",), when="2030-03-05T09:00")
    assert r.kind == "refused" and "What time" in r.text


def test_past_alarm_is_refused(ctx):
    r = alarm(ctx, keys=("yesterday", "at_7am"), when="2030-03-03T07:00")
    assert r.kind == "refused" and "already passed" in r.text


def test_a_recognition_slip_does_not_hide_the_days_items(ctx):
    """Whisper heard "what's on my schedule tomorrow" as "Well, it's on my schedule tomorrow"."""
    remind(ctx)
    r = act(ctx, parsed("Well, it's on my schedule tomorrow.", "schedule_query", ["tomorrow"], "2030-03-05T09:00"), NOW)
    assert r.kind == "answer" and "call mom" in r.text
    # cancelling never guesses: leftover words that match nothing cancel nothing
    r = act(ctx, parsed("cancel the reminder to feed the cat", "schedule_remove"), NOW)
    assert r.kind == "refused" and ctx.schedule.pending()


def test_timer_needs_a_duration(ctx):
    r = act(ctx, parsed("set a timer", "timer_set"), NOW)
    assert r.kind == "refused" and "how long" in r.text.lower()


def test_schedule_query_lists_items_and_filters_by_day_and_kind(ctx):
    remind(ctx)
    alarm(ctx)
    act(ctx, parsed("remind me friday", "reminder_set", ["this_friday", "at_9am"], "2030-03-08T09:00", "pay rent"), NOW)
    everything = act(ctx, parsed("what's on my schedule", "schedule_query"), NOW)
    assert everything.kind == "answer" and everything.text.startswith("You have 3 items")
    tomorrow = act(ctx, parsed("what do I have tomorrow", "schedule_query", ["tomorrow"], "2030-03-05T09:00"), NOW)
    assert len(tomorrow.data["items"]) == 2 and "pay rent" not in tomorrow.text
    alarms = act(ctx, parsed("which alarms are set", "schedule_query"), NOW)
    assert [i["kind"] for i in alarms.data["items"]] == ["alarm"]
    assert "alarm tomorrow 07:00" in alarms.text


def test_cancel_my_7_am_alarm_cancels_only_that_alarm(ctx):
    keep = remind(ctx, keys=("tomorrow", "at_7am"), when="2030-03-05T07:00")  # a reminder at 7 too
    gone = alarm(ctx)
    other = alarm(ctx, keys=("tomorrow", "at_8am"), when="2030-03-05T08:00")
    r = act(ctx, parsed("cancel my 7 am alarm", "schedule_remove", ["at_7am"], "2030-03-05T07:00"), NOW)
    assert r.kind == "done" and r.data["cancelled"] == [gone.data["id"]]
    assert "alarm tomorrow 07:00" in r.text
    assert {i.id for i in ctx.schedule.pending()} == {keep.data["id"], other.data["id"]}


def test_cancel_by_words_matches_the_title(ctx):
    mom = remind(ctx)
    remind(ctx, payload="buy milk", keys=("tomorrow", "at_5pm"), when="2030-03-05T17:00")
    r = act(ctx, parsed("cancel the reminder to call mom", "schedule_remove"), NOW)
    assert r.kind == "done" and r.data["cancelled"] == [mom.data["id"]]
    assert [i.title for i in ctx.schedule.pending()] == ["buy milk"]


def test_stop_the_timer_with_one_timer_running(ctx):
    t = act(ctx, parsed("set a timer for 10 minutes", "timer_set", ["in_10_minutes"], "2030-03-04T18:15"), NOW)
    remind(ctx)
    r = act(ctx, parsed("stop the timer", "schedule_remove"), NOW)
    assert r.kind == "done" and r.data["cancelled"] == [t.data["id"]]


def test_ambiguous_cancel_lists_the_candidates_and_changes_nothing(ctx):
    alarm(ctx)
    alarm(ctx, keys=("tomorrow", "at_8am"), when="2030-03-05T08:00")
    r = act(ctx, parsed("cancel my alarm", "schedule_remove"), NOW)
    assert r.kind == "refused" and r.text.startswith("Which one?") and len(r.data["candidates"]) == 2
    assert len(ctx.schedule.pending()) == 2
    r = act(ctx, parsed("cancel all my alarms", "schedule_remove"), NOW)
    assert r.kind == "done" and len(r.data["cancelled"]) == 2


def test_cancel_with_nothing_matching_says_so(ctx):
    remind(ctx)
    r = act(ctx, parsed("cancel my 7 am alarm", "schedule_remove", ["at_7am"], "2030-03-05T07:00"), NOW)
    assert r.kind == "refused" and r.text == "There is no 07:00 alarm to cancel."


def test_undo_reverses_the_last_action_then_the_one_before(ctx):
    first = remind(ctx)
    cancel = act(ctx, parsed("cancel the reminder to call mom", "schedule_remove"), NOW)
    assert cancel.kind == "done" and ctx.schedule.pending() == []
    undo = act(ctx, parsed("undo", "general_chat"), NOW)  # "undo" works whatever intent it was given
    assert undo.kind == "done" and undo.text.startswith("Undone: Cancelled: reminder “call mom”")
    assert [i.id for i in ctx.schedule.pending()] == [first.data["id"]]
    again = act(ctx, parsed("undo that", "schedule_remove"), NOW)
    assert again.kind == "done" and ctx.schedule.pending() == []
    nothing = act(ctx, parsed("undo", "general_chat"), NOW)
    assert nothing.kind == "refused" and nothing.text == "There is nothing to undo."


def test_undo_words():
    assert all(is_undo_command(t) for t in ("undo", "Undo that.", "please undo the last action", "take that back"))
    assert not any(is_undo_command(t) for t in ("how do I undo a git commit", "undo my alarm tomorrow"))


def test_dry_run_describes_and_stores_nothing(ctx):
    r = act(
        ctx,
        parsed("remind me to call mom", "reminder_set", ["tomorrow", "at_3pm"], "2030-03-05T15:00", "call mom"),
        NOW,
        dry_run=True,
    )
    assert r.kind == "dry_run" and r.text.startswith("Would set a reminder: call mom — tomorrow 15:00")
    assert ctx.schedule.pending() == [] and ctx.action_log.recent() == []


# --- seconds (date keys 2.1): real NLU parse, real SQLite file, real scheduler thread ------------------------


@pytest.fixture(scope="module")
def nlu() -> NluEngine:
    return NluEngine().load()  # the shipped FastText model; date keys from the rule grammar


def say(ctx, nlu, text):
    """What the assistant does with a typed command: parse it now, then run its action in ``ctx``."""
    ctx.now = datetime.now()
    return act(ctx, nlu.parse(text), ctx.now)


@pytest.mark.parametrize(
    ("text", "seconds", "words"),
    [
        ("set a timer for 30 seconds", 30, "30 seconds"),
        ("a timer for a minute and a half", 90, "1 minute 30 seconds"),
        ("set a timer for ninety seconds", 90, "1 minute 30 seconds"),
        ("set a timer for two minutes thirty seconds", 150, "2 minutes 30 seconds"),
        ("set a timer for 120 seconds", 120, "2 minutes"),
    ],
)
def test_a_timer_in_seconds_is_set_for_that_many_seconds(ctx, nlu, text, seconds, words):
    before = datetime.now()
    r = say(ctx, nlu, text)
    assert r.kind == "done" and r.text.startswith(f"Timer set: {words} — ends today "), r.text
    assert r.data["seconds"] == seconds
    item = ctx.schedule.get(r.data["id"])
    assert item.kind == "timer" and item.title == words
    delta = (item.local_due().replace(tzinfo=None) - before).total_seconds()
    assert seconds <= delta <= seconds + 1.5, delta  # counted from the real clock, never early


def test_a_reminder_in_30_seconds_rings_30_seconds_later(ctx, nlu):
    before = datetime.now()
    r = say(ctx, nlu, "remind me in 30 seconds to flip the pancake")
    assert r.kind == "done" and r.text.startswith("Reminder set: flip the pancake — today "), r.text
    item = ctx.schedule.get(r.data["id"])
    assert item.title == "flip the pancake"
    assert 30 <= (item.local_due().replace(tzinfo=None) - before).total_seconds() <= 31.5


def test_a_timer_for_half_a_second_or_zero_is_refused(ctx, nlu):
    r = say(ctx, nlu, "set a timer for 0 seconds")
    assert r.kind == "refused" and "how long" in r.text.lower()
    assert ctx.schedule.pending() == []


def test_durations_are_worded_with_seconds():
    assert format_duration(30) == "30 seconds" and format_duration(1) == "1 second"
    assert format_duration(60) == "1 minute" and format_duration(90) == "1 minute 30 seconds"
    assert format_duration(5400) == "1 hour 30 minutes" and format_duration(7200) == "2 hours"
    assert format_duration(3605) == "1 hour 5 seconds" and format_duration(0) == "0 seconds"
    with pytest.raises(ValueError):
        format_duration(-1)


@pytest.mark.slow
def test_a_three_second_timer_really_fires_on_time(ctx, nlu):
    fired: queue.Queue = queue.Queue()
    scheduler = Scheduler(ctx.schedule, fired.put, poll_s=30)
    scheduler.start()
    ctx.wake_scheduler = scheduler.wake
    try:
        t0 = time.monotonic()
        r = say(ctx, nlu, "set a timer for 3 seconds")
        assert r.kind == "done" and r.text.startswith("Timer set: 3 seconds"), r.text
        firing = fired.get(timeout=8)
        elapsed = time.monotonic() - t0
        assert firing.item.id == r.data["id"] and not firing.missed
        assert 3.0 <= elapsed <= 4.1, elapsed  # never early, within about a second of its time
        assert firing.message() == "Timer finished: 3 seconds"
        late = (firing.fired_at - firing.item.due_at).total_seconds()
        assert 0 <= late < 0.5, late  # the scheduler woke at the stored second
    finally:
        scheduler.stop()
    assert ctx.schedule.get(r.data["id"]).status == "fired"


def test_the_v0_summary_words_a_seconds_timer():
    now = datetime(2030, 3, 4, 18, 5, 10)
    when = (now + timedelta(seconds=90)).strftime("%Y-%m-%dT%H:%M:%S")
    r = describe_command(parsed("timer for a minute and a half", "timer_set", ["in_90_seconds"], when), now)
    assert r.summary == "Timer: 1 minute 30 seconds — today 18:06" and r.data["seconds"] == 90
