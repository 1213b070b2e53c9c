"""Durations: "ten minutes", "an hour and a half", "1h30", "a quarter of an hour", "two weeks and a day",
"two minutes thirty seconds"; the offsets built on them ("in ten minutes", "in 30 seconds", "two days from
now") and the ones that give no key ("for an hour", "three days ago", "in a few minutes", "in a second")."""

from __future__ import annotations

from dataclasses import dataclass

from jarvis_desktop.nlu import vocab
from jarvis_desktop.nlu.dategrammar.stream import Item, TokenStream
from jarvis_desktop.nlu.dategrammar.words import (
    APPROX,
    HOUR_UNITS,
    MINUTE_UNITS,
    NOON_WORDS,
    PLURAL_UNITS,
    TOMORROW,
    UNIT_LETTERS,
    UNIT_SECONDS,
    UNSUPPORTED_UNITS,
    VAGUE_QUANTITIES,
)

#: seconds of a vague duration ("a few minutes", "an hour or two")
VAGUE = -1.0
#: seconds of a duration in months or years (no in_N_* key can hold it)
UNSUPPORTED = -2.0
_DAY = 86400


@dataclass(frozen=True)
class Duration:
    """A duration ending before token ``end``: ``seconds`` (or :data:`VAGUE` / :data:`UNSUPPORTED`, both
    negative) and ``days_only`` (a whole number of days said in day/week units: "in two days" is
    ``in_2_days``, "in 48 hours" is ``in_2880_minutes``)."""

    seconds: float
    end: int
    days_only: bool


def unit_seconds(ts: TokenStream, j: int) -> float | None:
    """Seconds of the unit word at ``j`` (:data:`UNSUPPORTED` for months/years), None if not a unit."""
    w = ts.word(j)
    if (
        w == "day"
        and ts.word(j + 1) in ("after", "before")
        and (ts.word(j + 2) in TOMORROW or ts.word(j + 2) == "yesterday")
    ):
        return None  # "... four day after tomorrow": the day is a date, not a unit
    if w in UNIT_SECONDS:
        return float(UNIT_SECONDS[w])
    if w in UNSUPPORTED_UNITS:
        return UNSUPPORTED
    if w in UNIT_LETTERS and j > 0:
        before = ts.tokens[j - 1]
        if before.end == ts.tokens[j].start and before.number is not None:
            return float(UNIT_LETTERS[w])
    return None


def _half_start(ts: TokenStream, j: int) -> int | None:
    """Where the unit of "half an hour", "half hour", "a half hour", "half a minute" is, or None."""
    w = ts.word(j)
    if w == "half":
        k = j + 1
    elif w in ("a", "an") and ts.word(j + 1) == "half":
        k = j + 2
    else:
        return None
    return k + 1 if ts.word(k) in ("a", "an") else k


def _half(ts: TokenStream, k: int) -> Duration | None:
    unit = unit_seconds(ts, k)
    if unit is None:
        return None
    return Duration(unit if unit < 0 else 0.5 * unit, k + 1, unit >= _DAY and unit % (2 * _DAY) == 0)


def _quarter_start(ts: TokenStream, j: int) -> tuple[int, int] | None:
    """(count, next index) of "a quarter", "quarter", "three quarters", or None."""
    w = ts.word(j)
    if w == "quarter":
        return 1, j + 1
    if w in ("a", "an") and ts.word(j + 1) == "quarter":
        return 1, j + 2
    count = ts.value(j)
    if count is not None and ts.word(j + 1) in ("quarter", "quarters"):
        return count, j + 2
    return None


def _quarters(ts: TokenStream, count: int, k: int) -> Duration | None:
    """ "a quarter of an hour", "quarter hour", "three quarters of an hour"."""
    if ts.word(k) == "of":
        k += 1
    if ts.word(k) in ("a", "an"):
        k += 1
    if ts.word(k) in ("hour", "hours", "hr"):
        return Duration(count * 900.0, k + 1, False)
    return None


def _vague_start(ts: TokenStream, j: int) -> int | None:
    """Index after "a few", "several", "a couple", or None."""
    w = ts.word(j)
    if w in VAGUE_QUANTITIES:
        return j + 1
    if w in ("a", "an", "the") and ts.word(j + 1) in VAGUE_QUANTITIES:
        return j + 2
    return None


def _vague(ts: TokenStream, k: int) -> Duration | None:
    """ "a few [of] [more] minutes"."""
    if ts.word(k) == "of":
        k += 1
    if ts.word(k) in ("more", "extra"):
        k += 1
    if unit_seconds(ts, k) is not None:
        return Duration(VAGUE, k + 1, False)
    return None


def _and_a(ts: TokenStream, k: int, fraction: str) -> bool:
    """Whether "and a half" / "and a quarter" starts at ``k``."""
    return ts.word(k) == "and" and ts.word(k + 1) in ("a", "an") and ts.word(k + 2) == fraction


def _counted(ts: TokenStream, j: int) -> Duration | None:
    """ "10 minutes", "a minute", "1.5 hours", "two and a half hours", "an hour and a half"."""
    tok = ts.tokens[j]
    if tok.number is not None and not (tok.clock and tok.separator == ":"):
        count, k = tok.number, j + 1
    elif tok.text in ("a", "an"):
        count, k = 1.0, j + 1
    else:
        return None
    if _and_a(ts, k, "half"):
        count, k = count + 0.5, k + 3
    elif _and_a(ts, k, "quarter"):
        count, k = count + 0.25, k + 3
    unit = unit_seconds(ts, k)
    if unit is None:
        return None
    if tok.text in ("a", "an") and unit == 1 and count == 1:
        return Duration(VAGUE, k + 1, False)  # "in a second", "wait a sec", "a second timer": not one second
    k += 1
    if unit < 0:
        return Duration(unit, k, False)
    if _and_a(ts, k, "half"):
        count, k = count + 0.5, k + 3
    seconds = count * unit
    return Duration(seconds, k, unit >= _DAY and seconds % _DAY == 0)


def duration_part(ts: TokenStream, j: int) -> Duration | None:
    """One "quantity unit" at ``j``: a half, quarters, a vague quantity or a count with its unit."""
    half_at = _half_start(ts, j)
    if half_at is not None:
        return _half(ts, half_at)
    quarter = _quarter_start(ts, j)
    if quarter is not None:
        return _quarters(ts, *quarter)
    if j >= ts.size:
        return None
    vague_at = _vague_start(ts, j)
    if vague_at is not None:
        return _vague(ts, vague_at)
    return _counted(ts, j)


def _trailing_count(ts: TokenStream, k: int) -> tuple[int, int] | None:
    """(count, end) of a bare count 1..59 after a duration ("1 hour 30", "1h30", a timer's "2 minutes 30"),
    or None."""
    kk = k + 1 if ts.word(k) == "and" else k
    count = ts.value(kk)
    if (
        count is not None
        and 0 < count < 60
        and ts.tokens[kk].separator == ""
        and unit_seconds(ts, kk + 1) is None
        and ts.word(kk + 1) not in ("am", "pm", "oclock")
    ):
        return count, kk + 1
    return None


def duration(ts: TokenStream, j: int) -> Duration | None:
    """A duration at ``j``, parts added up ("1 hour 15 minutes", "an hour and a half", "two weeks and a
    day", "1 hour 30", "two minutes thirty seconds"; for timers also "2 minutes 30", read as seconds); a
    vague or unsupported first part is returned as it is."""
    first = duration_part(ts, j)
    if first is None:
        return None
    if first.seconds < 0:
        return Duration(first.seconds, first.end, False)
    seconds, k, days_only = first.seconds, first.end, first.days_only
    while True:
        nxt = duration_part(ts, k + 1 if ts.word(k) in ("and", "plus") else k)
        if nxt is None or nxt.seconds < 0:
            break
        seconds += nxt.seconds
        days_only = days_only and nxt.days_only
        k = nxt.end
    trailing, step = None, 60
    if ts.word(k - 1) in HOUR_UNITS:
        trailing = _trailing_count(ts, k)
    elif ts.timer and unit_seconds(ts, k - 1) == 60:
        trailing, step = _trailing_count(ts, k), 1  # "a timer for 2 minutes 30": the bare count is seconds
    if trailing is not None:
        seconds += trailing[0] * step
        k = trailing[1]
        days_only = False
    return Duration(seconds, k, days_only)


def offset_item(ts: TokenStream, seconds: float, days_only: bool, start: int, end: int) -> Item:
    """The item of an offset from now: ``in_N_minutes`` (timers, or not whole days) or ``in_N_seconds``
    (not a whole number of minutes, rounded to the second), ``in_N_days``, or a void item (vague,
    unsupported, under half a second)."""
    if seconds < 0:
        return Item("void", None, start, end)
    if ts.timer or not days_only:
        key = vocab.offset_key(int(seconds + 0.5))
        return Item("void", None, start, end) if key is None else Item("key", key, start, end)
    return Item("key", f"in_{int(seconds // _DAY)}_days", start, end)


def _vague_tail(ts: TokenStream, k: int) -> tuple[bool, int]:
    """After a duration: "or two"/"or three" make it vague; "or so" is only approximate."""
    if ts.word(k) == "or":
        if ts.word(k + 1) == "so":
            return False, k + 2
        if ts.value(k + 1) is not None or ts.word(k + 1) in ("two", "more", "less"):
            return True, k + 2
    return False, k


def _is_unit_question(ts: TokenStream, i: int) -> bool:
    """ "how many minutes are in a day": a unit conversion, not an offset."""
    prev = ts.word(i - 1)
    before = ts.words[:i]
    return prev in PLURAL_UNITS or (prev in ("are", "is", "there") and ("many" in before or "much" in before))


def match_in(ts: TokenStream, i: int) -> list[Item] | None:
    """in/after/within [about] DURATION [or two] [time | from now] -> ``in_N_*``; vague or "within" -> void."""
    w = ts.word(i)
    if w not in ("in", "after", "within"):
        return None
    k = i + 1
    while k < i + 3 and (ts.word(k) in APPROX or (ts.word(k) == "the" and ts.word(k + 1) == "next" and w == "within")):
        k += 1
    found = duration(ts, k)
    if found is None:
        return None
    seconds, k = found.seconds, found.end
    if _is_unit_question(ts, i):
        return [Item("void", None, i, k)]
    vague, k = _vague_tail(ts, k)
    if ts.word(k) in ("time", "times"):
        k += 1
    elif ts.word(k) == "from" and ts.word(k + 1) in ("now", "today"):
        k += 2
    if vague or w == "within":
        seconds = VAGUE
    return [offset_item(ts, seconds, found.days_only, i, k)]


def _duration_start(ts: TokenStream, i: int) -> int:
    """Where the duration starts after "for/every/each [about]" or a leading hedge."""
    if ts.word(i) in ("for", "every", "each"):
        k = i + 1
        while k < i + 3 and ts.word(k) in APPROX:
            k += 1
        return k
    if ts.word(i) in APPROX and ts.word(i + 1) != "":
        return i + 1
    return i


def _is_clock_after_minutes(ts: TokenStream, k: int) -> bool:
    """ "five minutes past three" is a clock time, not a duration."""
    return (
        ts.word(k) in ("past", "to", "after", "till", "til", "before", "of")
        and ts.tokens[k - 1].text in MINUTE_UNITS
        and (1 <= (ts.value(k + 1) or 0) <= 12 or ts.word(k + 1) in NOON_WORDS)
    )


def match_duration(ts: TokenStream, i: int) -> list[Item] | None:
    """DURATION [from now | later | ago], "for DURATION", "every DURATION", "a week today"."""
    k = _duration_start(ts, i)
    first = ts.token(k)
    if first is not None and first.clock and ts.word(k + 1) == "hours" and (first.spelled or len(first.text) == 4):
        return None  # "1500 hours", "nineteen hundred hours" are clock times
    found = duration(ts, k)
    if found is None:
        return None
    vague, k = _vague_tail(ts, found.end)
    seconds = VAGUE if vague else found.seconds
    nw = ts.word(k)
    if _is_clock_after_minutes(ts, k):
        return None
    if nw in ("ago", "back", "earlier", "before", "prior", "previously"):
        return [Item("void", None, i, k + 1)]
    if nw == "from" and ts.word(k + 1) in ("now", "today", "tomorrow"):
        if ts.word(k + 1) == "tomorrow" and found.seconds > 0:
            seconds = VAGUE if vague else found.seconds + _DAY
        return [offset_item(ts, seconds, found.days_only, i, k + 2)]
    if nw in ("later", "hence") or (nw == "today" and found.days_only and ts.word(i) not in ("for", "every", "each")):
        return [offset_item(ts, seconds, found.days_only, i, k + 1)]
    if ts.word(i) in ("every", "each"):
        return [Item("void", None, i, k)]
    return [Item("dur", None, i, k, seconds=seconds)]
