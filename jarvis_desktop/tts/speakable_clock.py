"""Clock times, durations and dates for the ear.

Times use the 12-hour clock as people say it: ``"15:30"`` -> ``"three thirty p m"``, ``"09:00"`` ->
``"nine a m"``, ``"07:05"`` -> ``"seven oh five a m"``, ``"12:00"`` -> ``"twelve noon"``, ``"00:00"`` ->
``"twelve midnight"``; ``"3:05 pm"`` / ``"3 p.m."`` keep their half of the day. "a m" / "p m" are written as two
letters so every engine spells them. A time right after a day ("tomorrow 07:30", "Fri 27 Nov 09:00") gets an
"at". ``H:MM:SS`` is a duration (``"00:10:00"`` -> ``"ten minutes"``). Dates are said day first, as the app
writes them: ``"2026-12-08"`` -> ``"the eighth of December, twenty twenty-six"``, ``"Tue 8 Dec"`` ->
``"Tuesday the eighth of December"``, ``"December 8"`` -> ``"December eighth"``.
"""

from __future__ import annotations

import re

from num2words import num2words

from jarvis_desktop.tts.speakable_words import MONTHS, WEEKDAYS

_AMPM = r"(?:\s?([AaPp])\.?\s?[Mm](?![A-Za-z])(\.)?)"
_CLOCK = re.compile(rf"(?<![\w:.])([01]?\d|2[0-3]):([0-5]\d)(?![\d:]){_AMPM}?")
_HOUR_AMPM = re.compile(rf"(?<![\w:.])(1[0-2]|0?[1-9]){_AMPM}")
_DURATION = re.compile(r"(?<![\w:.])(\d{1,2}):([0-5]\d):([0-5]\d)(?![\d:])")
_WEEKDAY = r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*\.?"
_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?"
_DAY_BEFORE = re.compile(
    rf"(?:\b(?:today|tomorrow|yesterday|tonight|{_WEEKDAY}|{_MONTH})|\b\d{{4}}(?:-\d\d-\d\d)?)[,\s]*$", re.IGNORECASE
)
_ISO_DATE = re.compile(r"(?<![\w-])(\d{4})-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])(?![\w-])")
_DAY_MONTH = re.compile(
    rf"(?<![\w])(?:({_WEEKDAY}),?\s+)?(?:the\s+)?(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({_MONTH})(?![a-z])"
    r"(?:,?\s+(\d{4})(?![\w:]))?"
)
_MONTH_DAY = re.compile(
    rf"(?<![\w])(?:({_WEEKDAY}),?\s+)?({_MONTH})\s+(\d{{1,2}})(?:st|nd|rd|th)?(?![\w:])(?:,?\s+(\d{{4}})(?![\w:]))?"
)


def _words(n: int) -> str:
    return str(num2words(n))


def _minutes(minute: int) -> str:
    if minute == 0:
        return ""
    return f" oh {_words(minute)}" if minute < 10 else f" {_words(minute)}"


def clock_words(hour: int, minute: int, half: str | None = None) -> str:
    """Spoken clock time: 24-hour ``hour`` (0-23) unless ``half`` ("a"/"p") is given with a 1-12 hour.

    ``(15, 30)`` -> ``"three thirty p m"``, ``(12, 0)`` -> ``"twelve noon"``, ``(0, 0)`` -> ``"twelve midnight"``,
    ``(7, 5)`` -> ``"seven oh five a m"``, ``(3, 0, "p")`` -> ``"three p m"``.
    """
    if half is None:
        if minute == 0 and hour in (0, 12):
            return "twelve noon" if hour == 12 else "twelve midnight"
        half = "p" if hour >= 12 else "a"
    hour12 = hour % 12 or 12
    return f"{_words(hour12)}{_minutes(minute)} {half.lower()} m"


def _end_mark(m: re.Match[str], dot: str | None) -> str:
    """Keep the period of "p.m." when it also ends the sentence (end of text, or a capital follows)."""
    if not dot:
        return ""
    rest = m.string[m.end() : m.end() + 8].lstrip()
    return "." if not rest or rest[0].isupper() else ""


def _at(m: re.Match[str]) -> str:
    return "at " if _DAY_BEFORE.search(m.string[max(0, m.start() - 30) : m.start()]) else ""


def _clock(m: re.Match[str]) -> str:
    hour, minute, half, dot = int(m.group(1)), int(m.group(2)), m.group(3), m.group(4)
    if half and not 1 <= hour <= 12:
        half = None
    return _at(m) + clock_words(hour, minute, half) + _end_mark(m, dot)


def _hour_ampm(m: re.Match[str]) -> str:
    return _at(m) + clock_words(int(m.group(1)), 0, m.group(2)) + _end_mark(m, m.group(3))


def _duration(m: re.Match[str]) -> str:
    parts = zip((int(g) for g in m.groups()), ("hour", "minute", "second"), strict=True)
    said = [f"{_words(n)} {unit}{'' if n == 1 else 's'}" for n, unit in parts if n]
    return " ".join(said) if said else "zero seconds"


def speak_times(text: str) -> str:
    """Clock times and ``H:MM:SS`` durations in ``text`` as words (see the module docstring)."""
    text = _DURATION.sub(_duration, text)
    text = _CLOCK.sub(_clock, text)
    return _HOUR_AMPM.sub(_hour_ampm, text)


def _full(name: str | None, table: dict[str, str]) -> str:
    return table.get((name or "")[:3].capitalize(), name or "")


def _year(year: str | None) -> str:
    return f", {num2words(int(year), to='year')}" if year else ""


def _date_words(weekday: str | None, day: int, month: str, year: str | None, day_first: bool = True) -> str:
    lead = f"{_full(weekday, WEEKDAYS)} " if weekday else ""
    ordinal = num2words(day, to="ordinal")
    body = f"the {ordinal} of {month}" if day_first else f"{month} {ordinal}"
    return f"{lead}{body}{_year(year)}"


def _iso(m: re.Match[str]) -> str:
    month = list(MONTHS.values())[int(m.group(2)) - 1]
    return _date_words(None, int(m.group(3)), month, m.group(1))


def _day_month(m: re.Match[str]) -> str:
    day = int(m.group(2))
    if not 1 <= day <= 31:
        return m.group(0)
    return _date_words(m.group(1), day, _full(m.group(3), MONTHS), m.group(4))


def _month_day(m: re.Match[str]) -> str:
    day = int(m.group(3))
    before = m.string[max(0, m.start() - 8) : m.start()].rstrip()
    starts_sentence = not before or before[-1] in ".!?"
    if not 1 <= day <= 31 or (m.group(2) == "May" and not m.group(1) and starts_sentence):
        return m.group(0)  # "May 5 people come" is the verb
    return _date_words(m.group(1), day, _full(m.group(2), MONTHS), m.group(4), day_first=False)


def speak_dates(text: str) -> str:
    """ISO dates, "8 December 2026", "Tue 8 Dec", "December 8th, 2026" as words (see the module docstring)."""
    text = _ISO_DATE.sub(_iso, text)
    text = _DAY_MONTH.sub(_day_month, text)
    return _MONTH_DAY.sub(_month_day, text)


def speak_clock(text: str) -> str:
    """:func:`speak_times` then :func:`speak_dates` (times first: the "at" after a day looks at the digits)."""
    return speak_dates(speak_times(text))
