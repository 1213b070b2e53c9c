"""The date-key vocabulary (spec v1, vocabulary version 2.1: ``in_<N>_seconds`` is new) and the intent labels.

Source: the NLU contract (``shared/spec/nlu.md``, mirrored in ``docs/nlu.md``). This module is the single
place that lists what a valid output is; ``is_valid_key`` is rule 7 of section 2 ("output keys are
always members of the vocabulary or match a dynamic/clock pattern").
"""

from __future__ import annotations

import re
from collections.abc import Iterable

VOCAB_VERSION = "2.1"

INTENTS: tuple[str, ...] = (
    "reminder_set",
    "timer_set",
    "alarm_set",
    "schedule_query",
    "schedule_remove",
    "calendar_set",
    "weather_query",
    "datetime_query",
    "app_open",
    "system_status",
    "volume_set",
    "media_control",
    "note_create",
    "web_search",
    "general_chat",
)

WEEKDAYS: tuple[str, ...] = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

RELATIVE_DAY_KEYS = ("today", "tomorrow", "yesterday", "day_after_tomorrow", "day_before_yesterday")
COMBINED_KEYS = (
    "tonight",
    "last_night",
    "tomorrow_night",
    "tomorrow_morning",
    "tomorrow_afternoon",
    "tomorrow_evening",
    "yesterday_morning",
    "yesterday_afternoon",
    "yesterday_evening",
    "this_morning",
    "this_afternoon",
    "this_evening",
)
TIME_OF_DAY_KEYS = ("morning", "afternoon", "evening", "night", "noon", "midnight", "at_noon", "at_midnight")
MEAL_KEYS = ("at_breakfast", "during_breakfast", "during_lunch", "at_dinner", "during_dinner", "after_dinner")
WEEKDAY_KEYS = tuple(f"{p}_{d}" for p in ("this", "next", "last") for d in WEEKDAYS)
PERIOD_KEYS = tuple(f"{p}_{u}" for u in ("week", "weekend", "month", "year") for p in ("this", "next", "last"))

STATIC_KEYS: tuple[str, ...] = (
    RELATIVE_DAY_KEYS + COMBINED_KEYS + TIME_OF_DAY_KEYS + MEAL_KEYS + WEEKDAY_KEYS + PERIOD_KEYS
)
STATIC_KEY_SET = frozenset(STATIC_KEYS)

#: ``in_<N>_seconds`` (2.1: under a minute or not whole minutes) / ``in_<N>_minutes`` / ``in_<N>_days``: N whole,
#: in digits, units always plural. Whole minutes are always ``in_<N>_minutes`` ("120 seconds" -> ``in_2_minutes``).
DYNAMIC_PATTERNS: dict[str, str] = {
    "in_seconds": r"^in_(\d+)_seconds$",
    "in_minutes": r"^in_(\d+)_minutes$",
    "in_days": r"^in_(\d+)_days$",
}
#: seconds per unit of the elapsed-time offsets (``in_<N>_days`` keeps the wall-clock time instead)
_ELAPSED_UNIT_SECONDS = {"in_seconds": 1, "in_minutes": 60}
#: Clock times: whole hours ``at_3pm``; otherwise ``at_7_30am`` (H 1..12 without leading zero, MM 01..59).
CLOCK_PATTERNS: dict[str, str] = {
    "whole_hour": r"^at_(1[0-2]|[1-9])(am|pm)$",
    "hour_minute": r"^at_(1[0-2]|[1-9])_(0[1-9]|[1-5][0-9])(am|pm)$",
}

_DYNAMIC_RE = [re.compile(p) for p in DYNAMIC_PATTERNS.values()]
_SECONDS_RE = re.compile(DYNAMIC_PATTERNS["in_seconds"])
_ELAPSED_RE = {re.compile(DYNAMIC_PATTERNS[name]): unit for name, unit in _ELAPSED_UNIT_SECONDS.items()}
_CLOCK_RE = [re.compile(p) for p in CLOCK_PATTERNS.values()]


def is_valid_key(key: str) -> bool:
    """True when ``key`` is a static key or matches a dynamic or clock-time pattern."""
    if key in STATIC_KEY_SET:
        return True
    return any(r.match(key) for r in _DYNAMIC_RE) or any(r.match(key) for r in _CLOCK_RE)


def offset_key(seconds: int) -> str | None:
    """The key of an elapsed offset of ``seconds`` whole seconds: ``in_<N>_minutes`` when it is a whole number
    of minutes, else ``in_<N>_seconds`` (``90 -> "in_90_seconds"``, ``120 -> "in_2_minutes"``); None below 1 s."""
    if seconds < 1:
        return None
    return f"in_{seconds // 60}_minutes" if seconds % 60 == 0 else f"in_{seconds}_seconds"


def offset_seconds(key: str) -> int | None:
    """Seconds of an ``in_<N>_seconds`` or ``in_<N>_minutes`` key (``"in_2_minutes" -> 120``); None for
    any other key (``in_<N>_days`` included: it keeps the wall-clock time, not an elapsed time)."""
    for regex, unit in _ELAPSED_RE.items():
        m = regex.match(key)
        if m:
            return int(m.group(1)) * unit
    return None


def has_seconds_key(keys: Iterable[str]) -> bool:
    """True when one of ``keys`` is an ``in_<N>_seconds`` key (then ``when`` is written with ``:SS``)."""
    return any(isinstance(k, str) and _SECONDS_RE.match(k) is not None for k in keys)


def clock_key(hour24: int, minute: int) -> str:
    """The clock-time key for a 24-hour time: ``(15, 30) -> "at_3_30pm"``, ``(12, 0) -> "at_noon"``,
    ``(0, 0) -> "at_midnight"``, ``(0, 10) -> "at_12_10am"``.

    Raises:
        ValueError: hour outside 0..23 or minute outside 0..59.
    """
    if not (0 <= hour24 <= 23 and 0 <= minute <= 59):
        raise ValueError(f"not a clock time: {hour24}:{minute:02d}")
    if minute == 0 and hour24 == 12:
        return "at_noon"
    if minute == 0 and hour24 == 0:
        return "at_midnight"
    suffix = "am" if hour24 < 12 else "pm"
    hour12 = hour24 % 12 or 12
    return f"at_{hour12}{suffix}" if minute == 0 else f"at_{hour12}_{minute:02d}{suffix}"


def parse_clock_key(key: str) -> tuple[int, int] | None:
    """Inverse of :func:`clock_key`: ``"at_3_30pm" -> (15, 30)``; None if ``key`` is no clock key."""
    if key == "at_noon":
        return (12, 0)
    if key == "at_midnight":
        return (0, 0)
    m = _CLOCK_RE[0].match(key)
    if m:
        hour, minute, half = int(m.group(1)), 0, m.group(2)
    else:
        m = _CLOCK_RE[1].match(key)
        if not m:
            return None
        hour, minute, half = int(m.group(1)), int(m.group(2)), m.group(3)
    return ((hour % 12) + (12 if half == "pm" else 0), minute)


def vocabulary_json() -> dict:
    """The vocabulary as printed by ``jarvis-desktop date-keys``."""
    return {
        "version": VOCAB_VERSION,
        "intents": list(INTENTS),
        "static_keys": list(STATIC_KEYS),
        "static_key_groups": {
            "relative_days": list(RELATIVE_DAY_KEYS),
            "combined": list(COMBINED_KEYS),
            "time_of_day": list(TIME_OF_DAY_KEYS),
            "meals": list(MEAL_KEYS),
            "weekdays": list(WEEKDAY_KEYS),
            "periods": list(PERIOD_KEYS),
        },
        "dynamic_patterns": [
            {
                "name": "in_N_seconds",
                "regex": DYNAMIC_PATTERNS["in_seconds"],
                "meaning": "now + N seconds (new in 2.1): offsets and timer durations under a minute or not a whole "
                "number of minutes (a minute and a half -> in_90_seconds); whole minutes stay in_N_minutes "
                "(120 seconds -> in_2_minutes)",
            },
            {
                "name": "in_N_minutes",
                "regex": DYNAMIC_PATTERNS["in_minutes"],
                "meaning": "now + N minutes; hours are flattened to minutes (in 2 hours -> in_120_minutes)",
            },
            {
                "name": "in_N_days",
                "regex": DYNAMIC_PATTERNS["in_days"],
                "meaning": "now + N days, keeping the clock time of now (in a week -> in_7_days)",
            },
        ],
        "clock_time_patterns": [
            {"name": "at_Ham/at_Hpm", "regex": CLOCK_PATTERNS["whole_hour"], "example": "at_3pm"},
            {"name": "at_H_MMam/at_H_MMpm", "regex": CLOCK_PATTERNS["hour_minute"], "example": "at_7_30am"},
            {"name": "noon/midnight", "keys": ["at_noon", "at_midnight"]},
        ],
        "notes": [
            "Keys come in the order their expressions appear in the utterance.",
            "A bare weekday is this_<day>; number words equal digits.",
            "Vague expressions, durations and past offsets give []; a timer duration gives in_N_minutes, or "
            "in_N_seconds when it has seconds.",
            "Hours without am/pm take it from context; with none, 7-11 am, 12 noon, 1-6 pm.",
            "Keys are resolved to `when` (local YYYY-MM-DDTHH:MM, with :SS only when an in_N_seconds key is present) "
            "against the current time; see docs/nlu.md.",
        ],
    }
