"""Rule 8: which half of the clock a time without am/pm is in, from its part of day or the context.

Cues are (token position, cue) pairs. Strong cues come from parts of day and meal keys ("tomorrow
morning", "at dinner"); weak ones from words ("wake me", "alarm", "bed", "dinner at 7") and count only
when no strong cue stands. A clock time takes the nearest cue.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from jarvis_desktop.nlu.dategrammar.stream import Item, TokenStream
from jarvis_desktop.nlu.dategrammar.words import WAKE_WORDS

#: key suffix -> cue of a key item (checked in this order)
_KEY_SUFFIX_CUES = (
    ("morning", "morning"),
    ("afternoon", "afternoon"),
    ("evening", "evening"),
    ("dinner", "dinner"),
    ("breakfast", "breakfast"),
)
#: the position of the intent's own alarm cue (far from every token: the nearest word cue wins)
_INTENT_CUE_POSITION = -1000


@dataclass(frozen=True)
class Cues:
    """The am/pm cues of an utterance: ``strong`` and ``weak`` lists of (token position, cue)."""

    strong: list[tuple[int, str]]
    weak: list[tuple[int, str]]


def _strong_cue(item: Item) -> str | None:
    """The cue of a part-of-day item or of a key naming a part of day or a meal."""
    key = item.key or ""
    if item.kind == "part":
        return key
    if item.kind != "key":
        return None
    if key in ("tonight", "last_night") or key.endswith("_night"):
        return "night"
    return next((cue for suffix, cue in _KEY_SUFFIX_CUES if key.endswith(suffix)), None)


def _weak_cue(ts: TokenStream, j: int, clock_starts: set[int]) -> str | None:
    """The cue of word ``j``: "alarm", waking up (morning), bed (night), "dinner at 7", "breakfast at 8"."""
    w = ts.word(j)
    if w in ("alarm", "alarms"):
        return "alarm"
    if (
        w in WAKE_WORDS
        or w in ("awake", "rouse", "arise")
        or (w in ("get", "be", "getting", "im", "i'm") and ts.word(j + 1) == "up")
        or (w == "of" and ts.word(j + 1) == "bed" and ts.word(j - 1) == "out")
    ):
        return "morning"
    if w in ("bed", "bedtime") and ts.word(j - 1) != "of":
        return "night"
    if w in ("dinner", "supper") and j + 1 in clock_starts:
        return "dinner"  # "dinner at 7"; not "order dinner ... at 4"
    if w in ("breakfast", "brunch") and j + 1 in clock_starts:
        return "breakfast"
    return None


def find_cues(ts: TokenStream, items: list[Item]) -> Cues:
    """The cues of the utterance given its (not dropped) items."""
    strong = [(it.start, cue) for it in items if (cue := _strong_cue(it)) is not None]
    clock_starts = {it.start for it in items if it.kind == "clock"}
    weak = [(j, cue) for j in range(ts.size) if (cue := _weak_cue(ts, j, clock_starts)) is not None]
    if ts.alarm_intent:
        weak.append((_INTENT_CUE_POSITION, "alarm"))
    return Cues(strong, weak)


def nearest_cue(cues: Cues, position: int) -> str | None:
    """The strong cue nearest to token ``position``, else the nearest weak one, else None."""
    for pool in (cues.strong, cues.weak):
        if pool:
            return min(pool, key=lambda c: abs(c[0] - position))[1]
    return None


def _pm(h: int) -> int:
    return 12 if h == 12 else h + 12


#: cue -> 24-hour hour of a 1..12 hour said without am/pm
_BY_CUE: dict[str, Callable[[int], int]] = {
    "alarm": lambda h: h if 4 <= h <= 11 else _pm(h),
    "dinner": lambda h: h + 12 if 5 <= h <= 11 else _pm(h),
    "breakfast": lambda h: h if h <= 11 else 12,
    "morning": lambda h: h,
    "afternoon": _pm,
    "evening": lambda h: 0 if h == 12 else h + 12,
    "night": lambda h: 0 if h == 12 else (h if h <= 4 else h + 12),
}


def _default_hour(h: int) -> int:
    """No cue: 7-11 am, 12 noon, 1-6 pm."""
    return h if 7 <= h <= 11 else _pm(h)


def hour24(item: Item, cue: str | None) -> int:
    """A clock item's 24-hour hour: as said when 24-hour, by its am/pm, else by ``cue`` or the default."""
    h = item.hour
    if item.fixed24 or h > 12 or h == 0:
        return h % 24
    if item.meridiem == "am":
        return 0 if h == 12 else h
    if item.meridiem == "pm":
        return _pm(h)
    rule = _BY_CUE.get(cue) if cue is not None else None
    return rule(h) if rule is not None else _default_hour(h)
