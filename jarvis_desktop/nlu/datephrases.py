"""Date expressions with their gold keys, for the training-corpus generator (:mod:`.datagen`).

Every function returns ``(surface_text, keys)`` where ``keys`` follows spec section 2 of ``docs/nlu.md``.
The labels come from how the expression was built (an hour and a minute, a weekday and a prefix), never
from the rule extractor, so the corpus can check the extractor. ``style`` is ``"asr"`` (lowercase number
words, no punctuation) or ``"whisper"`` (digits, ``3 p.m.``, ``3:00 PM``).
"""

from __future__ import annotations

import random
import re

from jarvis_desktop.nlu.vocab import WEEKDAYS, clock_key

_ONES = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def number_words(n: int, hyphen: bool = False) -> str:
    """English words for ``0 <= n < 1000``: ``45 -> "forty five"`` (``"forty-five"`` with ``hyphen``)."""
    if n < 20:
        return _ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _TENS[tens] + (("-" if hyphen else " ") + _ONES[ones] if ones else "")
    hundreds, rest = divmod(n, 100)
    return _ONES[hundreds] + " hundred" + (" and " + number_words(rest, hyphen) if rest else "")


def num(rng: random.Random, n: int, style: str) -> str:
    """``n`` as digits or words, mostly words in ASR style and mostly digits in Whisper style."""
    if style == "asr":
        return number_words(n) if rng.random() < 0.85 else str(n)
    if n <= 10 and rng.random() < 0.3:
        return number_words(n)
    return str(n) if rng.random() < 0.9 else number_words(n, hyphen=True)


def _ampm(rng: random.Random, half: str, style: str) -> str:
    if style == "asr":
        return rng.choice([half, half, half, " ".join(half)])
    return rng.choice([half, half.upper(), f"{half[0]}.m.", f"{half[0].upper()}.M."])


def _minute_words(m: int) -> str:
    return f"oh {_ONES[m]}" if m < 10 else number_words(m)


def clock_phrase(rng: random.Random, h24: int, m: int, style: str, mode: str) -> str:
    """The spoken clock time ``h24:m`` without the leading "at".

    ``mode``: ``"explicit"`` (am/pm or a 24-hour time or noon/midnight), ``"bare"`` (no am/pm; the caller
    guarantees the hour reads right by context or the 7-11 am / 12 noon / 1-6 pm default) or
    ``"natural"`` (``"7 in the morning"``, ``"nine o'clock at night"``).
    """
    if mode == "explicit":
        return _explicit_clock(rng, h24, m, style)
    if mode == "natural":
        return _natural_clock(rng, h24, m, style)
    return _bare_clock(rng, h24, m, style)


def _explicit_clock(rng: random.Random, h24: int, m: int, style: str) -> str:
    """ "three pm", "3:30 p.m.", "15:30", "noon"."""
    h12 = h24 % 12 or 12
    half = "am" if h24 < 12 else "pm"
    if m == 0 and h24 in (0, 12) and rng.random() < 0.6:
        return "noon" if h24 == 12 else "midnight"
    if h24 >= 13 and style == "whisper" and rng.random() < 0.2:
        return f"{h24}:{m:02d}"
    if style == "asr" or rng.random() < 0.15:
        hw = _ONES[h12] if rng.random() < 0.85 or style == "asr" else str(h12)
        base = hw if m == 0 else f"{hw} {_minute_words(m)}"
        return f"{base} {_ampm(rng, half, style)}"
    if m == 0 and rng.random() < 0.6:
        return f"{h12} {_ampm(rng, half, style)}" if rng.random() < 0.8 else f"{h12}{half}"
    return f"{h12}:{m:02d} {_ampm(rng, half, style)}"


def _natural_part(rng: random.Random, h24: int) -> str:
    if h24 < 12:
        return "in the morning"
    if h24 < 17:
        return "in the afternoon"
    if h24 < 21:
        return "in the evening"
    return rng.choice(["at night", "in the evening"])


def _natural_clock(rng: random.Random, h24: int, m: int, style: str) -> str:
    """ "7 in the morning", "nine o'clock at night", "half past six in the evening"."""
    h12 = h24 % 12 or 12
    part = _natural_part(rng, h24)
    hw = str(h12) if style == "whisper" and rng.random() < 0.7 else _ONES[h12]
    if m == 0:
        base = rng.choice([hw, f"{hw} o'clock"])
    elif m == 30 and rng.random() < 0.5:
        base = f"half past {hw}"
    else:
        base = f"{h12}:{m:02d}" if style == "whisper" else f"{_ONES[h12]} {_minute_words(m)}"
    return f"{base} {part}"


def _bare_clock(rng: random.Random, h24: int, m: int, style: str) -> str:
    """ "half past seven", "quarter to nine", "7:45", "seven o'clock" (no am/pm)."""
    h12 = h24 % 12 or 12
    r = rng.random()
    if m == 30 and r < 0.35:
        return f"half past {num(rng, h12, style)}"
    if m == 15 and r < 0.5:
        return f"quarter past {num(rng, h12, style)}"
    if m == 45 and r < 0.5:
        nxt = h12 % 12 + 1
        return f"quarter to {num(rng, nxt, style)}"
    if style == "whisper" and rng.random() < 0.75:
        return f"{h12}:{m:02d}" if m else rng.choice([str(h12), f"{h12} o'clock", f"{h12}:00"])
    hw = _ONES[h12]
    return rng.choice([hw, f"{hw} o'clock"]) if m == 0 else f"{hw} {_minute_words(m)}"


def random_minute(rng: random.Random) -> int:
    """A minute value weighted like real requests: mostly :00 and :30."""
    r = rng.random()
    if r < 0.5:
        return 0
    if r < 0.7:
        return 30
    if r < 0.8:
        return 15
    if r < 0.88:
        return 45
    return rng.choice([5, 10, 20, 25, 35, 40, 50, 55])


def _bare_ok(h24: int, m: int) -> bool:
    """Whether a time without am/pm reads right by the default (7-11 am, 12 noon, 1-6 pm) in every form."""
    h12 = h24 % 12 or 12
    if not ((7 <= h24 <= 11) or (12 <= h24 <= 18)):
        return False
    if m == 45:  # "quarter to <h+1>": the next hour must fall in the same default half
        nxt = h12 % 12 + 1
        return (8 <= nxt <= 11 and h24 < 12) or (1 <= nxt <= 6 and h24 >= 12)
    return True


def clock_expr(
    rng: random.Random,
    style: str,
    hours: list[int] | None = None,
    modes: tuple[str, ...] = ("explicit", "explicit", "bare", "natural"),
) -> tuple[str, list[str]]:
    """``"at 3 pm" -> ["at_3pm"]``; ``hours`` limits the 24-hour values drawn."""
    for _ in range(50):
        h24 = rng.choice(hours) if hours else rng.randrange(0, 24)
        m = random_minute(rng)
        mode = rng.choice(modes)
        if mode == "bare" and not _bare_ok(h24, m):
            continue
        if mode == "natural" and (h24 < 5 or h24 == 12):
            continue
        phrase = clock_phrase(rng, h24, m, style, mode)
        marked = re.search(r"[ap]\.?m\.?$|noon|midnight|o'clock|morning|afternoon|evening|night", phrase, re.I)
        return f"at {phrase}" if rng.random() < 0.93 or not marked else phrase, [clock_key(h24, m)]
    return "at noon", ["at_noon"]


def context_clock(rng: random.Random, style: str, half_of_day: str) -> tuple[str, list[str]]:
    """A bare clock time whose am/pm is given by a neighbouring part of day (spec rule 8)."""
    ranges = {"morning": range(5, 12), "afternoon": range(13, 18), "evening": range(17, 24), "night": range(19, 24)}
    h24 = rng.choice(list(ranges[half_of_day]))
    m = rng.choice([0, 0, 0, 30, 15])
    h12 = h24 % 12 or 12
    if style == "whisper" and rng.random() < 0.6:
        t = str(h12) if m == 0 else f"{h12}:{m:02d}"
    elif m == 30 and rng.random() < 0.4:
        t = f"half past {num(rng, h12, style)}"
    else:
        t = _ONES[h12] if m == 0 else f"{_ONES[h12]} {_minute_words(m)}"
    return f"at {t}", [clock_key(h24, m)]


RELATIVE_DAYS = [
    ("today", "today"),
    ("tomorrow", "tomorrow"),
    ("yesterday", "yesterday"),
    ("the day after tomorrow", "day_after_tomorrow"),
    ("day after tomorrow", "day_after_tomorrow"),
    ("the day before yesterday", "day_before_yesterday"),
]
FUTURE_DAYS = [d for d in RELATIVE_DAYS if d[1] in ("today", "tomorrow", "day_after_tomorrow")]
COMBINED = {
    "tonight": "night",
    "last night": "night",
    "tomorrow night": "night",
    "tomorrow morning": "morning",
    "tomorrow afternoon": "afternoon",
    "tomorrow evening": "evening",
    "yesterday morning": "morning",
    "yesterday afternoon": "afternoon",
    "yesterday evening": "evening",
    "this morning": "morning",
    "this afternoon": "afternoon",
    "this evening": "evening",
}
FUTURE_COMBINED = [
    "tonight",
    "tomorrow night",
    "tomorrow morning",
    "tomorrow afternoon",
    "tomorrow evening",
    "this morning",
    "this afternoon",
    "this evening",
]
TIME_OF_DAY = [
    ("in the morning", "morning"),
    ("in the afternoon", "afternoon"),
    ("in the evening", "evening"),
    ("at night", "night"),
    ("around noon", "noon"),
    ("before midnight", "midnight"),
    ("at noon", "at_noon"),
    ("at midnight", "at_midnight"),
    ("by noon", "noon"),
]
MEALS = [
    ("at breakfast", "at_breakfast"),
    ("during breakfast", "during_breakfast"),
    ("over breakfast", "during_breakfast"),
    ("at lunch", "during_lunch"),
    ("at lunchtime", "during_lunch"),
    ("during lunch", "during_lunch"),
    ("at dinner", "at_dinner"),
    ("during dinner", "during_dinner"),
    ("after dinner", "after_dinner"),
]
PERIOD_PHRASES = {
    "this_week": ["this week"],
    "next_week": ["next week"],
    "last_week": ["last week"],
    "this_weekend": ["this weekend"],
    "next_weekend": ["next weekend"],
    "last_weekend": ["last weekend"],
    "this_month": ["this month"],
    "next_month": ["next month"],
    "last_month": ["last month"],
    "this_year": ["this year"],
    "next_year": ["next year"],
    "last_year": ["last year"],
}
FUTURE_PERIODS = ["this_week", "next_week", "this_weekend", "next_weekend", "this_month", "next_month", "next_year"]

VAGUE = [
    "in a bit",
    "later",
    "soon",
    "sometime",
    "in a few minutes",
    "at some point",
    "later on",
    "in a little while",
    "some other time",
]
DURATION_NEG_UNITS = [("minutes", 1, 90), ("hours", 2, 5)]


def _cap_day(day: str, style: str) -> str:
    return day.capitalize() if style == "whisper" else day


def weekday_expr(rng: random.Random, style: str, future: bool = True) -> tuple[str, list[str]]:
    """``"next tuesday" -> ["next_tuesday"]``; a bare weekday or "on friday" is ``this_<day>``."""
    day = rng.choice(WEEKDAYS)
    prefixes = ["", "on ", "this ", "next ", "on next ", "this coming "] + ([] if future else ["last ", "last "])
    p = rng.choice(prefixes)
    key = {
        "": "this",
        "on ": "this",
        "this ": "this",
        "this coming ": "this",
        "next ": "next",
        "on next ": "next",
        "last ": "last",
    }[p]
    return f"{p}{_cap_day(day, style)}", [f"{key}_{day}"]


def day_expr(rng: random.Random, style: str, future: bool = True) -> tuple[str, list[str], str]:
    """A day (relative day, weekday, combined day-part or period). Returns text, keys and the family."""
    fam = rng.choice(["relative_days", "weekdays", "weekdays", "combined", "periods"])
    if fam == "relative_days":
        text, key = rng.choice(FUTURE_DAYS if future else RELATIVE_DAYS)
        return text, [key], fam
    if fam == "weekdays":
        t, k = weekday_expr(rng, style, future)
        return t, k, fam
    if fam == "combined":
        text = rng.choice(FUTURE_COMBINED if future else list(COMBINED))
        return text, [text.replace(" ", "_")], fam
    key = rng.choice(FUTURE_PERIODS if future else list(PERIOD_PHRASES))
    return rng.choice(PERIOD_PHRASES[key]), [key], fam


def offset_minutes_expr(rng: random.Random, style: str) -> tuple[str, int]:
    """A duration of whole minutes, e.g. ``("an hour and a half", 90)``, ``("twenty minutes", 20)``."""
    r = rng.random()
    if r < 0.55:
        n = rng.choice([1, 2, 3, 5, 5, 10, 10, 15, 15, 20, 25, 30, 40, 45, 50, 90] + list(range(2, 60)))
        unit = "minute" if n == 1 else rng.choice(["minutes"] * 9 + ["mins"])
        return f"{num(rng, n, style) if n != 1 else rng.choice(['one', 'a', '1'])} {unit}", n
    if r < 0.70:
        return rng.choice(
            [
                ("an hour", 60),
                ("one hour", 60),
                ("half an hour", 30),
                ("a half hour", 30),
                ("an hour and a half", 90),
                ("one and a half hours", 90),
            ]
        )
    if r < 0.88:
        h = rng.choice([2, 2, 3, 4, 5, 6, 8, 12])
        return f"{num(rng, h, style)} hours", 60 * h
    h = rng.choice([1, 1, 2, 3])
    m = rng.choice([10, 15, 20, 30, 45])
    hours = {1: rng.choice(["an hour", "one hour", "1 hour"])}.get(h, f"{num(rng, h, style)} hours")
    return f"{hours} and {num(rng, m, style)} minutes", 60 * h + m


def in_minutes_expr(rng: random.Random, style: str) -> tuple[str, list[str]]:
    """``"in 2 hours" -> ["in_120_minutes"]``."""
    text, n = offset_minutes_expr(rng, style)
    return f"in {text}", [f"in_{n}_minutes"]


def in_days_expr(rng: random.Random, style: str) -> tuple[str, list[str]]:
    """``"in three days" -> ["in_3_days"]``, ``"in a week" -> ["in_7_days"]``."""
    r = rng.random()
    if r < 0.6:
        n = rng.choice([2, 3, 4, 5, 6, 10, 14, 30])
        return f"in {num(rng, n, style)} days", [f"in_{n}_days"]
    if r < 0.8:
        return rng.choice(
            [
                ("in a week", ["in_7_days"]),
                ("in one week", ["in_7_days"]),
                ("in a day", ["in_1_days"]),
                ("in one day", ["in_1_days"]),
            ]
        )
    w = rng.choice([2, 3, 4])
    return f"in {num(rng, w, style)} weeks", [f"in_{7 * w}_days"]


def composite_expr(rng: random.Random, style: str, alarm: bool = False) -> tuple[str, list[str]]:
    """Day plus time in either order: ``"next tuesday at 3 pm" -> ["next_tuesday", "at_3pm"]``."""
    r = rng.random()
    if r < 0.25:  # combined day-part + clock by context ("tonight at nine")
        text = rng.choice(FUTURE_COMBINED)
        part = COMBINED[text]
        ct, ck = context_clock(rng, style, "night" if text in ("tonight", "tomorrow night") else part)
        if rng.random() < 0.8:
            return f"{text} {ct}", [text.replace(" ", "_")] + ck
        return f"{ct} {text}", ck + [text.replace(" ", "_")]
    if r < 0.4:  # weekday + part of day ("friday morning")
        day = rng.choice(WEEKDAYS)
        p = rng.choice(["", "this ", "next ", "on "])
        key = "next" if p == "next " else "this"
        part = rng.choice(["morning", "afternoon", "evening", "night"])
        return f"{p}{_cap_day(day, style)} {part}", [f"{key}_{day}", part]
    if r < 0.5:  # day + meal ("tomorrow at lunch")
        dt, dk, _ = day_expr(rng, style)
        if dk[0] in COMBINED.values() or dk[0].replace("_", " ") in COMBINED:
            dt, dk = "tomorrow", ["tomorrow"]
        mt, mk = rng.choice(MEALS)
        return f"{dt} {mt}", dk + [mk]
    # day + clock in either order
    if rng.random() < 0.5:
        dt, key = rng.choice(FUTURE_DAYS)
        dk = [key]
    else:
        dt, dk = weekday_expr(rng, style)
    ct, ck = clock_expr(rng, style, hours=list(range(5, 12)) if alarm else None)
    if not ct.startswith("at ") and not ct.endswith(("noon", "midnight")):
        ct = "at " + ct
    if rng.random() < 0.7 or dk == ["day_after_tomorrow"]:
        return f"{dt} {ct}", dk + ck
    return f"{ct} {dt}", ck + dk


def negative_expr(rng: random.Random, style: str) -> tuple[str, list[str], str]:
    """Expressions that give no key: vague times, durations ("for 30 minutes"), past offsets."""
    r = rng.random()
    if r < 0.5:
        return rng.choice(VAGUE), [], "vague"
    if r < 0.75:
        n = rng.choice([10, 15, 20, 30, 45])
        return f"for {num(rng, n, style)} minutes", [], "duration"
    n = rng.choice([2, 3, 5, 10])
    unit = rng.choice(["hours", "days", "minutes", "weeks"])
    return f"{num(rng, n, style)} {unit} ago", [], "past_offset"
