"""Resolution of date keys to the moment an action fires (spec section 3).

``resolve_when(keys, now)`` is a pure function of the keys and ``now``: no clock is read here. Weeks run
Monday to Sunday. ``now`` may be naive (local wall time) or time-zone aware; the result has the same
awareness and time zone. With an aware ``now`` (``zoneinfo.ZoneInfo``), wall-clock times that do not
exist (the hour skipped when DST starts) move forward by the gap, ambiguous ones take the first
occurrence, ``in_N_seconds`` / ``in_N_minutes`` are elapsed time and ``in_N_days`` keeps the wall-clock time
of ``now``.

``when`` is written ``YYYY-MM-DDTHH:MM``, with ``:SS`` only when an ``in_N_seconds`` key is present
(:func:`when_text`; :func:`parse_when` reads both forms back).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from jarvis_desktop.errors import BadInputError
from jarvis_desktop.nlu import vocab

__all__ = ["resolve_when", "format_when", "when_text", "parse_when", "PART_TIMES", "DEFAULT_TIME"]

#: the time of day used when only a day is known
DEFAULT_TIME = (9, 0)
#: spec section 3: parts of day and meals -> (hour, minute); "midnight" is 00:00 of the following day
PART_TIMES: dict[str, tuple[int, int]] = {
    "morning": (9, 0),
    "afternoon": (15, 0),
    "evening": (19, 0),
    "night": (21, 0),
    "noon": (12, 0),
    "midnight": (0, 0),
    "at_breakfast": (8, 0),
    "during_breakfast": (8, 0),
    "during_lunch": (12, 30),
    "at_dinner": (19, 0),
    "during_dinner": (19, 0),
    "after_dinner": (20, 30),
}
_MEALS = frozenset(vocab.MEAL_KEYS)
_PARTS = frozenset(("morning", "afternoon", "evening", "night"))
#: combined keys -> (days from today, part of day)
_COMBINED: dict[str, tuple[int, str]] = {
    "tonight": (0, "night"),
    "last_night": (-1, "night"),
    "tomorrow_night": (1, "night"),
    "tomorrow_morning": (1, "morning"),
    "tomorrow_afternoon": (1, "afternoon"),
    "tomorrow_evening": (1, "evening"),
    "yesterday_morning": (-1, "morning"),
    "yesterday_afternoon": (-1, "afternoon"),
    "yesterday_evening": (-1, "evening"),
    "this_morning": (0, "morning"),
    "this_afternoon": (0, "afternoon"),
    "this_evening": (0, "evening"),
}
_RELATIVE_DAYS = {"today": 0, "tomorrow": 1, "yesterday": -1, "day_after_tomorrow": 2, "day_before_yesterday": -2}
_NULL_PERIODS = frozenset({"last_week", "last_weekend", "last_month", "this_year", "last_year"})
_IN_DAYS = re.compile(vocab.DYNAMIC_PATTERNS["in_days"])
#: offsets beyond this many days are not a time anyone schedules; they give None instead of an overflow
_MAX_DAYS = 36600


def _wall(now: datetime, d: date, hm: tuple[int, int]) -> datetime:
    """``d`` at ``hm`` in ``now``'s time zone (naive if ``now`` is naive), DST gaps moved forward."""
    dt = datetime(d.year, d.month, d.day, hm[0], hm[1], tzinfo=now.tzinfo)
    if dt.tzinfo is not None and dt.utcoffset() is not None:
        dt = dt.astimezone(timezone.utc).astimezone(now.tzinfo)
    return dt


def _period_day(key: str, today: date) -> date | None:
    wd = today.weekday()
    monday = today - timedelta(days=wd)
    if key in ("this_week", "this_month"):
        return today
    if key == "next_week":
        return monday + timedelta(days=7)
    if key == "this_weekend":
        return today if wd >= 5 else monday + timedelta(days=5)
    if key == "next_weekend":
        return monday + timedelta(days=12)
    if key == "next_month":
        return date(today.year + 1, 1, 1) if today.month == 12 else date(today.year, today.month + 1, 1)
    if key == "next_year":
        return date(today.year + 1, 1, 1)
    return None


def _weekday_day(key: str, today: date) -> date | None:
    mod, _, name = key.partition("_")
    if name not in vocab.WEEKDAYS:
        return None
    target = vocab.WEEKDAYS.index(name)
    wd = today.weekday()
    if mod == "this":
        return today + timedelta(days=(target - wd) % 7)
    monday = today - timedelta(days=wd)
    if mod == "next":
        return monday + timedelta(days=7 + target)
    if mod == "last":
        return monday + timedelta(days=target - 7)
    return None


def resolve_when(keys: Sequence[str], now: datetime) -> datetime | None:
    """The start datetime that ``keys`` point to, given the current local time ``now`` (spec section 3).

    Args:
        keys: date keys as produced by :func:`jarvis_desktop.nlu.datekeys.extract_date_keys`; keys that
            fail :func:`vocab.is_valid_key` are ignored.
        now: the current local time, naive or aware.

    Returns:
        A datetime with ``now``'s tzinfo (seconds zero, except for ``in_N_*`` offsets which keep
        ``now``'s seconds and add their own), or None when the keys are empty or give no point in time (``last_week``,
        ``last_weekend``, ``last_month``, ``this_year``, ``last_year`` alone). Past keys (``yesterday``,
        ``last_*``) give past datetimes; callers that need a future time must check.

    Raises:
        BadInputError: ``now`` is not a datetime, or ``keys`` is not a sequence of strings.
    """
    if not isinstance(now, datetime):
        raise BadInputError(f"resolve_when needs a datetime for now, got {type(now).__name__}")
    if isinstance(keys, (str, bytes)) or not isinstance(keys, Sequence):
        raise BadInputError(f"resolve_when needs a list of date keys, got {type(keys).__name__}")
    valid = [k for k in keys if isinstance(k, str) and vocab.is_valid_key(k)]
    if not valid:
        return None
    try:
        return _resolve(valid, now)
    except (OverflowError, ValueError):  # beyond datetime's range (year 1..9999)
        return None


def _resolve_offset(key: str, now: datetime) -> datetime | None:
    """``in_N_seconds`` / ``in_N_minutes`` (elapsed time) or ``in_N_days`` (same wall-clock time) from
    ``now``; None beyond :data:`_MAX_DAYS`."""
    seconds = vocab.offset_seconds(key)
    if seconds is not None:
        if seconds > _MAX_DAYS * 86400:
            return None
        if now.tzinfo is not None and now.utcoffset() is not None:
            return (now.astimezone(timezone.utc) + timedelta(seconds=seconds)).astimezone(now.tzinfo)
        return now + timedelta(seconds=seconds)
    m = _IN_DAYS.match(key)
    if m is None:
        return None
    days = int(m.group(1))
    if days > _MAX_DAYS:
        return None
    dt = now + timedelta(days=days)
    if dt.tzinfo is not None and dt.utcoffset() is not None:
        dt = dt.astimezone(timezone.utc).astimezone(now.tzinfo)
    return dt


@dataclass
class _Anchors:
    """What the keys say, strongest first: the ``day`` (rank: weekday 0, relative or combined day 1,
    period 2; lower wins) with the combined key's ``day_part``; the first ``clock`` time or ``midnight``;
    the ``point`` of noon/midnight (rank 0), a meal (1) or a part of day (2), lower wins."""

    day: date | None = None
    day_rank: int = 99
    day_part: str | None = None
    saw_null_period: bool = False
    clock: tuple[int, int] | None = None
    midnight: bool = False
    point: tuple[int, int] | None = None
    point_rank: int = 99

    def note_day(self, day: date, rank: int, part: str | None) -> None:
        if self.day_rank > rank:
            self.day, self.day_rank, self.day_part = day, rank, part

    def note_clock(self, key: str, hm: tuple[int, int]) -> None:
        if self.clock is None and not self.midnight:
            if key == "at_midnight":
                self.midnight = True
            else:
                self.clock = hm

    def note_point(self, key: str) -> None:
        rank = 0 if key in ("noon", "midnight") else 1 if key in _MEALS else 2 if key in _PARTS else None
        if rank is not None and rank < self.point_rank:
            self.point_rank = rank
            self.point = None if key == "midnight" else PART_TIMES[key]


def _day_of(key: str, today: date) -> tuple[date, int, str | None] | None:
    """(day, rank, part of day) of a combined, relative, weekday or period key; None for other keys."""
    if key in _COMBINED:
        offset, part = _COMBINED[key]
        return today + timedelta(days=offset), 1, part
    if key in _RELATIVE_DAYS:
        return today + timedelta(days=_RELATIVE_DAYS[key]), 1, None
    weekday = _weekday_day(key, today)
    if weekday is not None:
        return weekday, 0, None
    period = _period_day(key, today)
    if period is not None:
        return period, 2, None
    return None


def _anchors(valid: list[str], today: date) -> _Anchors:
    found = _Anchors()
    for key in valid:
        hm = vocab.parse_clock_key(key)
        day = _day_of(key, today) if hm is None else None
        if hm is not None:
            found.note_clock(key, hm)
        elif day is not None:
            found.note_day(*day)
        elif key in _NULL_PERIODS:
            found.saw_null_period = True
        else:
            found.note_point(key)
    return found


def _on_day(now: datetime, found: _Anchors, day: date) -> datetime:
    """The moment on ``day``: its clock time, else its point, else the combined key's part, else 09:00;
    a clock before 05:00 on a night ("tonight at 1 am") is after midnight, the next day."""
    hm = found.clock or found.point
    if hm is None:
        hm = PART_TIMES[found.day_part] if found.day_part else DEFAULT_TIME
    elif (
        found.clock is not None
        and hm[0] < 5
        and (found.day_part == "night" or (found.point_rank == 2 and found.point == PART_TIMES["night"]))
    ):
        day = day + timedelta(days=1)
    return _wall(now, day, hm)


def _resolve(valid: list[str], now: datetime) -> datetime | None:
    offset_key = next((k for k in valid if vocab.offset_seconds(k) is not None or _IN_DAYS.match(k)), None)
    if offset_key is not None:  # relative offsets decide alone
        return _resolve_offset(offset_key, now)
    today = now.date()
    found = _anchors(valid, today)
    if found.day is None and found.saw_null_period:
        return None
    bare_midnight = found.point_rank == 0 and found.point is None
    if found.midnight or (found.clock is None and bare_midnight):
        base = found.day if found.day is not None else today
        return _wall(now, base + timedelta(days=1), (0, 0))
    if found.day is not None:
        return _on_day(now, found, found.day)
    hm = found.clock or found.point
    if hm is None:
        return None
    candidate = _wall(now, today, hm)
    if candidate <= now:
        candidate = _wall(now, today + timedelta(days=1), hm)
    return candidate


def format_when(dt: datetime | None, seconds: bool = False) -> str | None:
    """``dt`` as local ISO 8601 to the minute, ``"YYYY-MM-DDTHH:MM"`` (no offset), or to the second
    (``"YYYY-MM-DDTHH:MM:SS"``, microseconds cut) with ``seconds``; None for None.

    Raises:
        BadInputError: ``dt`` is neither a datetime nor None.
    """
    if dt is None:
        return None
    if not isinstance(dt, datetime):
        raise BadInputError(f"format_when needs a datetime, got {type(dt).__name__}")
    text = f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d}T{dt.hour:02d}:{dt.minute:02d}"
    return f"{text}:{dt.second:02d}" if seconds else text


def when_text(keys: Sequence[str], now: datetime) -> str | None:
    """The ``when`` field of a parse (spec section 3): :func:`resolve_when` of ``keys`` written by
    :func:`format_when`, with ``:SS`` only when an ``in_N_seconds`` key is present
    (``["in_30_seconds"]`` at 10:17:05 -> ``"...T10:17:35"``; ``["in_2_minutes"]`` -> ``"...T10:19"``).
    None when ``keys`` is empty or gives no point in time. Same errors as :func:`resolve_when`."""
    return format_when(resolve_when(keys, now), seconds=vocab.has_seconds_key(keys))


def parse_when(text: str) -> datetime:
    """A ``when`` string back as a naive local datetime: ``"YYYY-MM-DDTHH:MM"`` or ``"YYYY-MM-DDTHH:MM:SS"``.

    Raises:
        BadInputError: ``text`` is not in one of these two forms.
    """
    for fmt in ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"):
        try:
            return datetime.strptime(text, fmt)
        except (TypeError, ValueError):
            continue
    raise BadInputError(f"not a when value (YYYY-MM-DDTHH:MM[:SS]): {text!r}")
