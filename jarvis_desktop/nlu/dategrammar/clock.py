"""Clock times: "3 pm", "15:30", "half past seven", "quarter to eight", "three thirty", "nine oh five",
"1500 hours", "at 7 in the morning", "from 3 to 5 pm", "at noon", "midnight".

A clock item keeps the hour as said; its key (``at_3pm``, ``at_15_30``...) is set later by the am/pm
rules (:mod:`.ampm`), which need the whole utterance.
"""

from __future__ import annotations

from dataclasses import dataclass

from jarvis_desktop.nlu.dategrammar.durations import duration, unit_seconds
from jarvis_desktop.nlu.dategrammar.stream import Item, TokenStream
from jarvis_desktop.nlu.dategrammar.tokens import Token
from jarvis_desktop.nlu.dategrammar.words import (
    APPROX,
    BARE_NOON_PREPS,
    CLOCK_PREPS,
    MINUTE_UNITS,
    NOON_WORDS,
    NOT_AFTER_HOUR,
    NOT_CLOCK_BEFORE,
    PARTS_OF_DAY,
    TOMORROW,
    TONIGHT,
    WEEKDAYS,
)

#: words between a number of minutes and the hour: "ten past six", "quarter to eight"
_RELATIONS = ("past", "after", "to", "till", "til", "of", "before")
_HALF_WORDS = ("half", "quarter", "a")
#: how sure a reading is a clock time: by its form alone ("half past seven", "3:30", "3 pm")
STRONG = 2
#: with a time preposition or context ("at 7", "7 45")
WITH_CONTEXT = 1
#: a bare number ("7")
BARE = 0


@dataclass(frozen=True)
class ClockReading:
    """A clock time read at some token: ``hour`` (0..23, or 1..12 when not ``fixed24``), ``minute``,
    ``end`` (token index after it), ``strength`` (:data:`STRONG`, :data:`WITH_CONTEXT` or :data:`BARE`)
    and ``fixed24`` (a 24-hour reading such as "15:30", "0700", "nineteen hundred": no am/pm guess)."""

    hour: int
    minute: int
    end: int
    strength: int
    fixed24: bool


@dataclass(frozen=True)
class PartSuffix:
    """ "in the morning", "at night" after a clock time: the ``part`` of day and the token index ``end``."""

    part: str
    end: int


def _minutes_offset(ts: TokenStream, j: int, tok: Token) -> tuple[int, int] | None:
    """(minutes, next index) of the minute part of "half past", "quarter to", "twenty past", "5 minutes to"."""
    w = tok.text
    if w == "half":
        return 30, j + 1
    if w == "quarter" or (w == "a" and ts.word(j + 1) == "quarter"):
        return 15, (j + 1 if w == "quarter" else j + 2)
    minutes = tok.value
    if minutes is None or not 1 <= minutes <= 30 or tok.separator != "" or tok.clock:
        return None
    k = j + 1
    if ts.word(k) in MINUTE_UNITS:
        return minutes, k + 1
    if (
        minutes % 5
        or ts.word(j - 1) in ("from", "between")
        or (ts.word(k) in ("to", "till", "til", "before") and minutes not in (5, 10, 20, 25))
    ):
        return None  # "from 3 to 5" is a range, not "3 minutes to 5"
    return minutes, k


def _relative_to_noon(ts: TokenStream, j: int, minutes: int, k: int) -> ClockReading | None:
    """ "quarter to midnight" 23:45, "one minute to midnight" 23:59, "ten past noon" 12:10."""
    relation = ts.word(k)
    if ts.word(k + 1) not in NOON_WORDS or (relation == "of" and ts.word(j) not in ("quarter", "a")):
        return None
    midnight = ts.word(k + 1) == "midnight"
    if relation in ("past", "after"):
        return ClockReading(0 if midnight else 12, minutes, k + 2, STRONG, True)
    return ClockReading(23 if midnight else 11, 60 - minutes, k + 2, STRONG, True)


def _relative_hour(ts: TokenStream, j: int, k: int) -> int | None:
    """The hour (1..12) after "past"/"to" at ``k + 1``, or None."""
    hour = ts.value(k + 1)
    tok = ts.token(k + 1)
    if hour is None or not 1 <= hour <= 12 or tok is None or tok.separator != "" or unit_seconds(ts, k + 2) is not None:
        return None
    return hour


def _relative_reading(ts: TokenStream, j: int, minutes: int, k: int) -> ClockReading | None:
    """ "half past seven", "ten to five", "twenty past noon", British "at half seven"."""
    w, relation = ts.word(j), ts.word(k)
    if relation in _RELATIONS and (minutes != 30 or relation == "past"):
        reading = _relative_to_noon(ts, j, minutes, k)
        if reading is not None:
            return reading
        hour = _relative_hour(ts, j, k)
        if hour is not None and not (relation == "of" and w not in ("quarter", "a")):
            strength = STRONG if w in _HALF_WORDS or relation == "past" or k > j + 1 else WITH_CONTEXT
            if relation in ("past", "after"):
                return ClockReading(hour, minutes, k + 2, strength, False)
            return ClockReading((hour - 1) or 12, 60 - minutes, k + 2, strength, False)
    half_hour = ts.value(j + 1)
    if w == "half" and half_hour is not None and 1 <= half_hour <= 12 and j > 0 and ts.word(j - 1) == "at":
        return ClockReading(half_hour, 30, j + 2, WITH_CONTEXT, False)  # British "at half seven"
    return None


def _blocks_clock(ts: TokenStream, j: int, minutes: int, k: int) -> bool:
    """A minute phrase that is no clock time at all: a lone "half"/"quarter", or "<n> of <hour>"."""
    w, relation = ts.word(j), ts.word(k)
    if w in _HALF_WORDS:
        return True
    return relation == "of" and minutes != 30 and _relative_hour(ts, j, k) is not None


def _separated_reading(tok: Token, j: int) -> ClockReading | None:
    """ "3:30", "15:45", "7.30", "24:00"."""
    if not (tok.clock and tok.separator):
        return None
    hour, minute = tok.clock
    if hour == 24:
        hour = 0
    fixed = hour >= 13 or hour == 0 or tok.leading_zero
    return ClockReading(hour, minute, j + 1, STRONG if tok.separator == ":" else WITH_CONTEXT, fixed)


def _compact_reading(ts: TokenStream, j: int, tok: Token, value: int) -> ClockReading | None:
    """ "930", "1530", "0700" (not a year such as 2025), "nineteen hundred"."""
    w = tok.text
    if (
        tok.clock
        and not tok.spelled
        and len(w) in (3, 4)
        and not (1900 <= value <= 2099 and ts.word(j + 1) != "hours")
        and not (len(w) == 3 and value % 100 == 0 and ts.word(j + 1) not in ("am", "pm", "hours"))
    ):
        hour, minute = tok.clock
        return ClockReading(hour, minute, j + 1, WITH_CONTEXT, hour >= 13 or hour == 0 or tok.leading_zero)
    if tok.spelled and value >= 100 and tok.clock:
        hour, minute = tok.clock
        return ClockReading(hour, minute, j + 1, WITH_CONTEXT, True)
    return None


def _spoken_minutes(ts: TokenStream, j: int, tok: Token) -> tuple[int, int] | None:
    """(minute, end) of the minutes after an hour: "three thirty", "7 45", "nine oh five", "seven o five"."""
    nxt = ts.token(j + 1)
    if nxt is None:
        return None
    if (
        nxt.value is not None
        and nxt.minute_like
        and nxt.separator == ""
        and not nxt.clock
        and nxt.value <= 59
        and unit_seconds(ts, j + 2) is None
        and not (ts.word(j + 2) in ("to", "past", "after", "till") and ts.value(j + 3) is not None)
        and (nxt.spelled or not tok.spelled)
    ):
        return nxt.value, j + 2
    oh_minute = ts.value(j + 2)
    after = ts.token(j + 2)
    if nxt.text in ("oh", "o", "zero") and oh_minute is not None and 0 <= oh_minute <= 9 and after and after.spelled:
        return oh_minute, j + 3
    return None


def _hour_reading(ts: TokenStream, j: int, tok: Token, value: int) -> ClockReading | None:
    """An hour number, maybe with spoken minutes ("three thirty") or "hundred" ("seven hundred")."""
    if not 0 <= value <= 24 or (tok.spelled and value > 23):
        return None
    hour = 0 if value == 24 else value
    fixed = hour >= 13 or hour == 0 or (tok.leading_zero and not tok.spelled)
    spoken = _spoken_minutes(ts, j, tok)
    if spoken is not None:
        return ClockReading(hour, spoken[0], spoken[1], WITH_CONTEXT, fixed)
    if ts.word(j + 1) == "hundred":
        return ClockReading(hour, 0, j + 2, WITH_CONTEXT, True)
    return ClockReading(hour, 0, j + 1, BARE, fixed)


def read_clock(ts: TokenStream, j: int) -> ClockReading | None:
    """The clock reading starting at token ``j``, or None."""
    tok = ts.token(j)
    if tok is None:
        return None
    offset = _minutes_offset(ts, j, tok)
    if offset is not None:
        reading = _relative_reading(ts, j, *offset)
        if reading is not None or _blocks_clock(ts, j, *offset):
            return reading
    reading = _separated_reading(tok, j)
    if reading is not None or tok.value is None:
        return reading
    return _compact_reading(ts, j, tok, tok.value) or _hour_reading(ts, j, tok, tok.value)


def part_suffix(ts: TokenStream, k: int) -> PartSuffix | None:
    """ "in the morning", "in the early evening", "during the afternoon", "at night", "overnight" at ``k``."""
    w = ts.word(k)
    if w in ("in", "during") and ts.word(k + 1) == "the":
        kk = k + 2
        if ts.word(kk) in ("early", "late", "mid"):
            kk += 1
        part = PARTS_OF_DAY.get(ts.word(kk))
        if part:
            return PartSuffix(part, kk + 1)
    if w == "at" and ts.word(k + 1) == "night":
        return PartSuffix("night", k + 2)
    if w == "overnight":
        return PartSuffix("night", k + 1)
    return None


def _day_before(ts: TokenStream, s: int) -> bool:
    w = ts.word(s - 1)
    return w in TOMORROW or w in TONIGHT or w in ("today", "yesterday") or w in WEEKDAYS or w in PARTS_OF_DAY


def _count_suffix(ts: TokenStream, j: int, reading: ClockReading) -> tuple[int, int] | None:
    """(end, strength) after a unit-like word following the number: "at 1500 hours" and "nineteen hundred
    hours" pass (strength 2); "5 percent", "3 people" are counts (None)."""
    k = reading.end
    w = ts.word(k)
    if w not in NOT_AFTER_HOUR or (w == "day" and unit_seconds(ts, k) is None):
        return k, reading.strength
    tok = ts.tokens[j]
    if w in ("hours", "hrs") and (reading.fixed24 or reading.minute or ts.word(k - 1) == "hundred" or tok.clock):
        return k + 1, STRONG
    return None


def _meridiem_suffix(ts: TokenStream, item: Item, k: int, strength: int) -> tuple[int, int]:
    """Reads "o'clock"/"sharp", "am"/"pm" and "12 noon" after the reading into ``item``; (end, strength)."""
    nw = ts.word(k)
    if nw in ("oclock", "sharp", "exactly", "precisely"):
        strength = max(strength, STRONG if nw == "oclock" else strength)
        k += 1
        nw = ts.word(k)
    if nw in ("am", "pm"):
        if item.hour <= 12:
            item.meridiem = nw
        strength = STRONG
        k += 1
    if item.hour == 12 and item.minute == 0 and ts.word(k) in ("noon", "midday", "midnight"):
        item.meridiem = "am" if ts.word(k) == "midnight" else "pm"
        strength = STRONG
        k += 1
    return k, strength


def _accepts(ts: TokenStream, strength: int, triggered: bool, s: int) -> bool:
    """Whether a reading of ``strength`` counts as a clock time (with or without a time preposition)."""
    if strength == BARE and not triggered:
        return False
    if strength < STRONG and not triggered and not _day_before(ts, s):
        return False
    return not (strength == BARE and ts.no_bare_hours)


def clock_at(ts: TokenStream, j: int, triggered: bool, s: int) -> Item | None:
    """A clock item over tokens ``s..`` whose reading starts at ``j``; ``triggered``: a time preposition
    ("at", "by", ...) or an alarm context came before it."""
    reading = read_clock(ts, j)
    if reading is None:
        return None
    counted = _count_suffix(ts, j, reading)
    if counted is None:
        return None
    k, strength = counted
    item = Item("clock", None, s, k, hour=reading.hour, minute=reading.minute, fixed24=reading.fixed24)
    k, strength = _meridiem_suffix(ts, item, k, strength)
    suffix = part_suffix(ts, k)
    if suffix:  # "at 7 in the morning"; without "at": "seven in the morning" but not "chapter four in the morning"
        item.part = suffix.part
        strength = max(strength, WITH_CONTEXT)
        k = suffix.end
        h = reading.hour
        if (
            not triggered
            and strength < STRONG
            and 1 <= h <= 12
            and not reading.fixed24
            and (reading.minute or ts.word(j - 1) not in NOT_CLOCK_BEFORE)
        ):
            strength = STRONG
    if not _accepts(ts, strength, triggered, s):
        return None
    item.end = k
    return item


def _range_end(ts: TokenStream, item: Item, w: str) -> None:
    """ "from 3 to 5 pm", "between 9 and 11 am": the range's end gives the start its am/pm or part of day;
    the item then spans the whole range (its time is the start)."""
    if ts.word(item.end) not in ("to", "till", "til", "until", "through", "thru", "and"):
        return
    j2 = item.end + 1
    if ts.word(j2) in APPROX:
        j2 += 1
    end = clock_at(ts, j2, True, j2)
    if end is None or not (w in ("from", "between") or end.meridiem or end.part):
        return
    if item.meridiem is None and not item.fixed24 and (end.meridiem or end.part):
        if end.meridiem and not end.fixed24:
            same_half = item.hour % 12 <= end.hour % 12
            item.meridiem = end.meridiem if same_half else ("am" if end.meridiem == "pm" else "pm")
        elif end.part and not item.part:
            item.part = end.part
    item.end = end.end


def _clock_trigger(ts: TokenStream, i: int) -> tuple[bool, int]:
    """(triggered, where the reading starts): "at/by/around/... [about] [the]", "for" in an alarm, or
    the number right after "alarm"."""
    w = ts.word(i)
    if w in CLOCK_PREPS and w != "to" or w == "for" and ts.alarm:
        j = i + 1
        while j < i + 3 and (ts.word(j) in APPROX or ts.word(j) in ("at", "about", "the")):
            j += 1
        return True, j
    if ts.alarm and ts.word(i - 1) in ("alarm", "alarms") and ts.tokens[i].value is not None:
        return True, i  # "alarm 9 saturday", "alarm nine thirty"
    return False, i


def match_clock(ts: TokenStream, i: int) -> list[Item] | None:
    """A clock time at ``i``, with its preposition, am/pm, part of day and range end."""
    w = ts.word(i)
    if w == "from":
        found = duration(ts, i + 1)
        if found is not None and found.seconds > 0:
            return None  # "countdown from one and a half hours" is a duration, not "from 1 pm"
    triggered, j = _clock_trigger(ts, i)
    item = clock_at(ts, j, triggered, i)
    if item is None:
        return None
    if w in ("from", "between", "at", "by") or ts.word(i - 1) in ("from", "between"):
        _range_end(ts, item, w)
    return [item]


def match_noon(ts: TokenStream, i: int) -> list[Item] | None:
    """ "at noon", "12 midnight", "midday" -> ``at_noon``/``at_midnight``; "around noon", "before
    midnight" -> the bare ``noon``/``midnight`` (rule 10)."""
    w = ts.word(i)
    k = i
    at = False
    if w in ("at", "@"):
        at, k = True, i + 1
        if ts.word(k) in APPROX:
            k += 1
    if ts.value(k) == 12 and ts.tokens[k].separator == "" and ts.word(k + 1) in ("noon", "midday", "midnight"):
        at, k = True, k + 1
    nw = ts.word(k)
    if nw not in ("noon", "midday", "noontime", "midnight"):
        return None
    midnight = nw == "midnight"
    if not at and ts.word(i - 1) in BARE_NOON_PREPS:
        return [Item("key", "midnight" if midnight else "noon", i, k + 1)]
    return [Item("key", "at_midnight" if midnight else "at_noon", i, k + 1)]
