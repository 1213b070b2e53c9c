"""Resolution of date keys to `when` (spec section 3): every bullet, week/month/year ends, leap day, DST."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from jarvis_desktop.errors import BadInputError
from jarvis_desktop.nlu import vocab
from jarvis_desktop.nlu.datekeys import extract_date_keys
from jarvis_desktop.nlu.resolve import format_when, parse_when, resolve_when, when_text

WED = datetime(2025, 3, 12, 10, 0)  # a Wednesday morning
SUN_EVE = datetime(2025, 3, 16, 20, 30)  # Sunday evening: the week ends tonight
SAT = datetime(2025, 3, 15, 11, 0)
LATE = datetime(2025, 3, 12, 23, 30)  # Wednesday, half an hour before midnight
MONTH_END = datetime(2025, 1, 31, 18, 0)  # Friday
YEAR_END = datetime(2025, 12, 31, 22, 0)  # Wednesday
LEAP_EVE = datetime(2024, 2, 28, 21, 0)  # Wednesday before 29 February
LEAP_DAY = datetime(2024, 2, 29, 12, 0)  # Thursday

CASES = [
    # nothing / no point in time
    ([], WED, None),
    (["last_week"], WED, None),
    (["last_weekend"], WED, None),
    (["last_month"], WED, None),
    (["this_year"], WED, None),
    (["last_year"], WED, None),
    (["last_week", "at_3pm"], WED, None),
    (["not_a_key"], WED, None),
    # relative days: 09:00 default, even when already past
    (["today"], WED, "2025-03-12T09:00"),
    (["tomorrow"], WED, "2025-03-13T09:00"),
    (["yesterday"], WED, "2025-03-11T09:00"),
    (["day_after_tomorrow"], WED, "2025-03-14T09:00"),
    (["day_before_yesterday"], WED, "2025-03-10T09:00"),
    (["not_a_key", "tomorrow"], WED, "2025-03-13T09:00"),
    # combined keys
    (["tonight"], WED, "2025-03-12T21:00"),
    (["last_night"], WED, "2025-03-11T21:00"),
    (["tomorrow_night"], WED, "2025-03-13T21:00"),
    (["tomorrow_morning"], WED, "2025-03-13T09:00"),
    (["tomorrow_afternoon"], WED, "2025-03-13T15:00"),
    (["tomorrow_evening"], WED, "2025-03-13T19:00"),
    (["yesterday_morning"], WED, "2025-03-11T09:00"),
    (["yesterday_afternoon"], WED, "2025-03-11T15:00"),
    (["yesterday_evening"], WED, "2025-03-11T19:00"),
    (["this_morning"], WED, "2025-03-12T09:00"),
    (["this_afternoon"], WED, "2025-03-12T15:00"),
    (["this_evening"], WED, "2025-03-12T19:00"),
    (["tonight"], LATE, "2025-03-12T21:00"),
    # parts of day and meals with no day: today if still ahead, else tomorrow
    (["morning"], WED, "2025-03-13T09:00"),
    (["afternoon"], WED, "2025-03-12T15:00"),
    (["evening"], WED, "2025-03-12T19:00"),
    (["night"], WED, "2025-03-12T21:00"),
    (["noon"], WED, "2025-03-12T12:00"),
    (["at_noon"], WED, "2025-03-12T12:00"),
    (["midnight"], WED, "2025-03-13T00:00"),
    (["at_midnight"], WED, "2025-03-13T00:00"),
    (["at_breakfast"], WED, "2025-03-13T08:00"),
    (["during_breakfast"], WED, "2025-03-13T08:00"),
    (["during_lunch"], WED, "2025-03-12T12:30"),
    (["at_dinner"], WED, "2025-03-12T19:00"),
    (["during_dinner"], WED, "2025-03-12T19:00"),
    (["after_dinner"], WED, "2025-03-12T20:30"),
    (["evening"], SUN_EVE, "2025-03-17T19:00"),
    (["night"], SUN_EVE, "2025-03-16T21:00"),
    (["after_dinner"], SUN_EVE, "2025-03-17T20:30"),  # exactly now is not ahead
    (["morning"], LATE, "2025-03-13T09:00"),
    # this_<day>: next occurrence on or after today
    (["this_wednesday"], WED, "2025-03-12T09:00"),
    (["this_thursday"], WED, "2025-03-13T09:00"),
    (["this_sunday"], WED, "2025-03-16T09:00"),
    (["this_monday"], WED, "2025-03-17T09:00"),
    (["this_tuesday"], WED, "2025-03-18T09:00"),
    (["this_sunday"], SUN_EVE, "2025-03-16T09:00"),
    (["this_monday"], SUN_EVE, "2025-03-17T09:00"),
    (["this_saturday"], SAT, "2025-03-15T09:00"),
    (["this_friday"], SAT, "2025-03-21T09:00"),
    # next_<day>: that day in the following Monday-Sunday week
    (["next_wednesday"], WED, "2025-03-19T09:00"),
    (["next_monday"], WED, "2025-03-17T09:00"),
    (["next_sunday"], WED, "2025-03-23T09:00"),
    (["next_thursday"], WED, "2025-03-20T09:00"),
    (["next_monday"], SUN_EVE, "2025-03-17T09:00"),
    (["next_sunday"], SUN_EVE, "2025-03-23T09:00"),
    (["next_saturday"], SAT, "2025-03-22T09:00"),
    # last_<day>: that day in the previous Monday-Sunday week
    (["last_wednesday"], WED, "2025-03-05T09:00"),
    (["last_monday"], WED, "2025-03-03T09:00"),
    (["last_sunday"], WED, "2025-03-09T09:00"),
    (["last_sunday"], SUN_EVE, "2025-03-09T09:00"),
    (["last_saturday"], SAT, "2025-03-08T09:00"),
    # periods
    (["this_week"], WED, "2025-03-12T09:00"),
    (["next_week"], WED, "2025-03-17T09:00"),
    (["this_week"], SUN_EVE, "2025-03-16T09:00"),
    (["next_week"], SUN_EVE, "2025-03-17T09:00"),
    (["this_weekend"], WED, "2025-03-15T09:00"),
    (["next_weekend"], WED, "2025-03-22T09:00"),
    (["this_weekend"], SAT, "2025-03-15T09:00"),
    (["next_weekend"], SAT, "2025-03-22T09:00"),
    (["this_weekend"], SUN_EVE, "2025-03-16T09:00"),
    (["next_weekend"], SUN_EVE, "2025-03-22T09:00"),
    (["this_month"], WED, "2025-03-12T09:00"),
    (["next_month"], WED, "2025-04-01T09:00"),
    (["next_year"], WED, "2026-01-01T09:00"),
    # clock time, no day: today if still ahead, else tomorrow
    (["at_3pm"], WED, "2025-03-12T15:00"),
    (["at_9am"], WED, "2025-03-13T09:00"),
    (["at_10am"], WED, "2025-03-13T10:00"),
    (["at_10_01am"], WED, "2025-03-12T10:01"),
    (["at_8pm"], SUN_EVE, "2025-03-17T20:00"),
    (["at_9pm"], SUN_EVE, "2025-03-16T21:00"),
    (["at_11pm"], LATE, "2025-03-13T23:00"),
    (["at_11_45pm"], LATE, "2025-03-12T23:45"),
    (["at_midnight"], LATE, "2025-03-13T00:00"),
    (["at_12_10am"], LATE, "2025-03-13T00:10"),
    (["at_12_10am"], WED, "2025-03-13T00:10"),
    # clock time with a day: that day at that time; clock time over part of day
    (["tomorrow", "at_3pm"], WED, "2025-03-13T15:00"),
    (["yesterday", "at_3pm"], WED, "2025-03-11T15:00"),
    (["next_tuesday", "at_3pm"], WED, "2025-03-18T15:00"),
    (["this_friday", "morning"], WED, "2025-03-14T09:00"),
    (["this_friday", "evening", "at_8pm"], WED, "2025-03-14T20:00"),
    (["tomorrow_morning", "at_10am"], WED, "2025-03-13T10:00"),
    (["tonight", "at_9pm"], WED, "2025-03-12T21:00"),
    (["at_7am", "tomorrow"], WED, "2025-03-13T07:00"),
    (["today", "at_9am"], WED, "2025-03-12T09:00"),
    (["this_weekend", "at_10am"], WED, "2025-03-15T10:00"),
    (["next_week", "at_3pm"], WED, "2025-03-17T15:00"),
    (["tomorrow", "during_lunch"], WED, "2025-03-13T12:30"),
    (["this_friday", "after_dinner"], WED, "2025-03-14T20:30"),
    (["morning", "at_7am"], WED, "2025-03-13T07:00"),
    # midnight is 00:00 of the following day
    (["this_friday", "at_midnight"], WED, "2025-03-15T00:00"),
    (["midnight", "tonight"], WED, "2025-03-13T00:00"),
    (["tonight", "at_midnight"], SUN_EVE, "2025-03-17T00:00"),
    (["tonight", "at_1am"], WED, "2025-03-13T01:00"),  # after midnight belongs to the same night
    # offsets
    (["in_10_minutes"], WED, "2025-03-12T10:10"),
    (["in_120_minutes"], WED, "2025-03-12T12:00"),
    (["in_45_minutes"], LATE, "2025-03-13T00:15"),
    (["in_3_days"], WED, "2025-03-15T10:00"),
    (["in_7_days"], WED, "2025-03-19T10:00"),
    (["in_7_days"], SUN_EVE, "2025-03-23T20:30"),
    # month end, year end, leap day
    (["tomorrow"], MONTH_END, "2025-02-01T09:00"),
    (["next_month"], MONTH_END, "2025-02-01T09:00"),
    (["in_1_days"], MONTH_END, "2025-02-01T18:00"),
    (["this_weekend"], MONTH_END, "2025-02-01T09:00"),
    (["next_week"], MONTH_END, "2025-02-03T09:00"),
    (["at_5pm"], MONTH_END, "2025-02-01T17:00"),
    (["tomorrow"], YEAR_END, "2026-01-01T09:00"),
    (["next_month"], YEAR_END, "2026-01-01T09:00"),
    (["next_year"], YEAR_END, "2026-01-01T09:00"),
    (["in_120_minutes"], YEAR_END, "2026-01-01T00:00"),
    (["next_monday"], YEAR_END, "2026-01-05T09:00"),
    (["at_midnight"], YEAR_END, "2026-01-01T00:00"),
    (["last_friday"], datetime(2026, 1, 2, 9, 0), "2025-12-26T09:00"),
    (["tomorrow"], LEAP_EVE, "2024-02-29T09:00"),
    (["in_1_days"], LEAP_EVE, "2024-02-29T21:00"),
    (["in_2_days"], LEAP_EVE, "2024-03-01T21:00"),
    (["this_thursday"], LEAP_EVE, "2024-02-29T09:00"),
    (["next_month"], LEAP_EVE, "2024-03-01T09:00"),
    (["next_year"], LEAP_DAY, "2025-01-01T09:00"),
    (["in_365_days"], LEAP_DAY, "2025-02-28T12:00"),
    (["yesterday"], LEAP_DAY, "2024-02-28T09:00"),
    (["last_thursday"], LEAP_DAY, "2024-02-22T09:00"),
    (["at_noon"], LEAP_DAY, "2024-03-01T12:00"),
]


@pytest.mark.parametrize(("keys", "now", "expected"), CASES)
def test_resolve_when(keys, now, expected):
    assert format_when(resolve_when(keys, now)) == expected


@pytest.mark.parametrize(
    ("text", "now", "expected"),
    [
        ("remind me to call mom tomorrow at 3 pm", WED, "2025-03-13T15:00"),
        ("wake me up at 7 tomorrow", WED, "2025-03-13T07:00"),
        ("Remind me tonight at nine to take the bins out", WED, "2025-03-12T21:00"),
        ("remind me at 10 pm", LATE, "2025-03-13T22:00"),
        ("set a timer for ten minutes", LATE, "2025-03-12T23:40"),
        ("schedule a meeting with Ana next tuesday at 2 pm", SUN_EVE, "2025-03-18T14:00"),
        ("what's the weather this weekend", SUN_EVE, "2025-03-16T09:00"),
        ("remind me friday at midnight", WED, "2025-03-15T00:00"),
        ("remind me in a few minutes", WED, None),
    ],
)
def test_utterance_to_when(text, now, expected):
    assert format_when(resolve_when(extract_date_keys(text), now)) == expected


@pytest.mark.parametrize("seed", range(5))
def test_properties_over_random_times(seed):
    rng = random.Random(seed)
    for _ in range(200):
        now = datetime(2020, 1, 1) + timedelta(minutes=rng.randrange(60 * 24 * 365 * 8))
        day = rng.choice(vocab.WEEKDAYS)
        target = vocab.WEEKDAYS.index(day)
        this = resolve_when([f"this_{day}"], now)
        assert this.weekday() == target and 0 <= (this.date() - now.date()).days <= 6
        nxt = resolve_when([f"next_{day}"], now)
        monday_next = now.date() - timedelta(days=now.weekday()) + timedelta(days=7)
        assert nxt.weekday() == target and monday_next <= nxt.date() < monday_next + timedelta(days=7)
        last = resolve_when([f"last_{day}"], now)
        assert last.weekday() == target and last.date() < now.date() - timedelta(days=now.weekday())
        hour, minute = rng.randrange(24), rng.randrange(60)
        at = resolve_when([vocab.clock_key(hour, minute)], now)
        assert now < at <= now + timedelta(days=1, minutes=1)
        assert (at.hour, at.minute) == (hour, minute)


BERLIN = ZoneInfo("Europe/Berlin")


def test_aware_now_keeps_its_time_zone():
    now = datetime(2025, 3, 12, 10, 0, tzinfo=BERLIN)
    when = resolve_when(["tomorrow", "at_3pm"], now)
    assert when.tzinfo is BERLIN and format_when(when) == "2025-03-13T15:00"
    utc_now = datetime(2025, 3, 12, 10, 0, tzinfo=timezone.utc)
    assert resolve_when(["in_30_minutes"], utc_now) == utc_now + timedelta(minutes=30)


def test_daylight_saving_start():
    now = datetime(2025, 3, 29, 10, 0, tzinfo=BERLIN)  # clocks go 02:00 -> 03:00 on 30 March
    # a wall time that does not exist moves forward by the gap
    assert format_when(resolve_when(["tomorrow", "at_2_30am"], now)) == "2025-03-30T03:30"
    # in_N_days keeps the wall-clock time, in_N_minutes is elapsed time
    days = resolve_when(["in_1_days"], now)
    assert format_when(days) == "2025-03-30T10:00" and days.utcoffset() == timedelta(hours=2)
    assert format_when(resolve_when(["in_1440_minutes"], now)) == "2025-03-30T11:00"
    assert resolve_when(["tomorrow"], now).utcoffset() == timedelta(hours=2)


def test_daylight_saving_end():
    now = datetime(2025, 10, 25, 12, 0, tzinfo=BERLIN)  # clocks go 03:00 -> 02:00 on 26 October
    assert format_when(resolve_when(["in_1440_minutes"], now)) == "2025-10-26T11:00"
    assert format_when(resolve_when(["tomorrow", "at_2_30am"], now)) == "2025-10-26T02:30"


def test_format_when():
    assert format_when(None) is None
    assert format_when(datetime(2025, 1, 2, 3, 4, 59)) == "2025-01-02T03:04"
    assert format_when(datetime(2025, 1, 2, 3, 4, tzinfo=BERLIN)) == "2025-01-02T03:04"
    with pytest.raises(BadInputError):
        format_when("2025-01-02")


def test_bad_input():
    with pytest.raises(BadInputError):
        resolve_when(["tomorrow"], "2025-01-01")
    with pytest.raises(BadInputError):
        resolve_when("tomorrow", WED)
    assert resolve_when([None, 3, "tomorrow"], WED) == datetime(2025, 3, 13, 9, 0)
    assert resolve_when(["in_99999999999_minutes"], WED) is None
    assert resolve_when(["next_year"], datetime(9999, 6, 1)) is None


# --- in_N_seconds (vocabulary 2.1): now + offset to the second; `when` gets :SS only with such a key ---------

WED_SECS = datetime(2025, 3, 12, 10, 17, 5)  # 10:17:05 on a Wednesday


@pytest.mark.parametrize(
    ("keys", "now", "expected"),
    [
        (["in_30_seconds"], WED_SECS, "2025-03-12T10:17:35"),
        (["in_90_seconds"], WED_SECS, "2025-03-12T10:18:35"),
        (["in_150_seconds"], WED_SECS, "2025-03-12T10:19:35"),
        (["in_59_seconds"], LATE, "2025-03-12T23:30:59"),
        (["in_61_seconds"], datetime(2025, 12, 31, 23, 59, 30), "2026-01-01T00:00:31"),  # across the year
        # without an in_N_seconds key `when` stays to the minute, even with now's seconds
        (["in_2_minutes"], WED_SECS, "2025-03-12T10:19"),
        (["tomorrow", "at_3pm"], WED_SECS, "2025-03-13T15:00"),
        ([], WED_SECS, None),
    ],
)
def test_seconds_offsets_resolve_to_the_second(keys, now, expected):
    assert when_text(keys, now) == expected
    if expected is not None and len(expected) == 19:  # read back, it is the resolved moment to the second
        assert parse_when(expected) == resolve_when(keys, now)


@pytest.mark.parametrize(
    ("text", "now", "expected"),
    [
        ("remind me in 30 seconds to flip the pancake", WED_SECS, "2025-03-12T10:17:35"),
        ("set a timer for a minute and a half", WED_SECS, "2025-03-12T10:18:35"),
        ("ninety seconds timer", WED_SECS, "2025-03-12T10:18:35"),
        ("timer for two minutes thirty seconds", WED_SECS, "2025-03-12T10:19:35"),
        ("timer for 120 seconds", WED_SECS, "2025-03-12T10:19"),
        ("in 2 hours", WED_SECS, "2025-03-12T12:17"),
    ],
)
def test_utterance_with_seconds_to_when(text, now, expected):
    assert when_text(extract_date_keys(text), now) == expected


def test_seconds_offset_is_elapsed_time_across_a_dst_change():
    now = datetime(2025, 3, 30, 1, 59, 40, tzinfo=BERLIN)  # 20 s before the clocks jump to 03:00
    when = resolve_when(["in_30_seconds"], now)
    elapsed = when.astimezone(timezone.utc) - now.astimezone(timezone.utc)
    assert elapsed == timedelta(seconds=30) and when_text(["in_30_seconds"], now) == "2025-03-30T03:00:10"
    assert when.utcoffset() == timedelta(hours=2)


def test_format_and_parse_when_with_seconds():
    moment = datetime(2025, 1, 2, 3, 4, 59, 999999)
    assert format_when(moment, seconds=True) == "2025-01-02T03:04:59"
    assert parse_when("2025-01-02T03:04:59") == datetime(2025, 1, 2, 3, 4, 59)
    assert parse_when("2025-01-02T03:04") == datetime(2025, 1, 2, 3, 4)
    for bad in ("2025-01-02", "tomorrow", "2025-01-02T03:04:59+01:00", None):
        with pytest.raises(BadInputError):
            parse_when(bad)
    assert resolve_when(["in_99999999999_seconds"], WED) is None
    assert resolve_when(["in_0_seconds"], WED) == WED
