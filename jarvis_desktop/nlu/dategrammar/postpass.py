"""The passes over the items after parsing, in order:

1. :func:`join_days_and_parts`: a day right before "in the <part>" becomes one key ("tomorrow" + "in the
   morning" -> ``tomorrow_morning``), or keeps the part as its own ("friday" + "in the morning");
2. :func:`set_clock_keys`: each clock time gets its key, its am/pm from its part of day or the context
   (rule 8, :mod:`.ampm`);
3. :func:`drop_clock_parts`: with a clock time present, a part of day that only disambiguated it adds
   no key (rule 9);
4. :func:`to_spans`: durations become timer keys (rule 12: ``in_N_minutes``, or ``in_N_seconds`` when not
   whole minutes), vague items none; keys are deduplicated,
   checked against the vocabulary and given their character spans.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

from jarvis_desktop.nlu import vocab
from jarvis_desktop.nlu.dategrammar.ampm import find_cues, hour24, nearest_cue
from jarvis_desktop.nlu.dategrammar.days import combine_day_part
from jarvis_desktop.nlu.dategrammar.stream import Item, TokenStream

_RELATIVE_DAYS = ("today", "tomorrow", "yesterday")


@dataclass(frozen=True)
class DateSpan:
    """One date key and the part of the original text it came from.

    ``text[start:end]`` is the expression (e.g. "tomorrow", "at 3 pm", "in ten minutes", "at 7 in the
    morning"); offsets are Python string indices into the text given to the extractor.
    """

    key: str
    start: int
    end: int


def _is_weekday_key(item: Item) -> bool:
    return item.kind == "key" and bool(item.key) and (item.key or "").split("_")[-1] in vocab.WEEKDAYS


def join_days_and_parts(items: list[Item]) -> None:
    """Pass 1 (in place): a relative day followed by a free part of day becomes the combined key; after
    another day or a weekday the part is attached. A part right before a clock time is left to that clock
    ("tomorrow in the morning at 7": the part only says which half of the day 7 is in)."""
    clock_starts = {c.start for c in items if c.kind == "clock"}
    for day, part in pairwise(items):
        if part.kind != "part" or part.attached or part.end in clock_starts or day.end != part.start:
            continue
        if day.kind == "day" and day.key in _RELATIVE_DAYS:
            joined = combine_day_part(day, part.key or "", part.end)[0]
            day.kind, day.key, day.end = joined.kind, joined.key, joined.end
            part.dropped = True
        elif day.kind == "day" or _is_weekday_key(day):
            part.attached = True


def set_clock_keys(ts: TokenStream, items: list[Item]) -> None:
    """Pass 2 (in place): the key of every clock item (None when the hour is out of range). Its half of
    the day comes from its own part ("at 7 in the morning"), a free part right before it ("in the evening
    at eight", which is then dropped), or the nearest cue."""
    cues = find_cues(ts, [it for it in items if not it.dropped])
    for clock in items:
        if clock.kind != "clock":
            continue
        cue = clock.part
        if cue is None:
            for part in items:
                if part.kind == "part" and not part.attached and not part.dropped and part.end == clock.start:
                    cue = part.key
                    part.dropped = True
        if cue is None:
            cue = nearest_cue(cues, clock.start)
        try:
            clock.key = vocab.clock_key(hour24(clock, cue), clock.minute)
        except ValueError:
            clock.key = None


def drop_clock_parts(items: list[Item]) -> None:
    """Pass 3 (in place), rule 9: with a clock time, free parts of day add no key."""
    if any(it.kind == "clock" for it in items):
        for part in items:
            if part.kind == "part" and not part.attached:
                part.dropped = True


def _has_day_or_clock(items: list[Item]) -> bool:
    """Whether a day, clock time, part of day or other non-offset key stands among the kept items."""
    return any(
        not it.dropped and it.kind in ("day", "clock", "part", "key") and it.key and not it.key.startswith("in_")
        for it in items
    )


def _item_key(item: Item, timer_length: bool) -> str | None:
    """The key an item gives: a duration only as a timer's length (``timer_length``), a void item none."""
    if item.kind == "void":
        return None
    if item.kind != "dur":
        return item.key
    if timer_length and item.seconds is not None and item.seconds >= 0:
        return vocab.offset_key(int(item.seconds + 0.5))  # in_N_minutes, or in_N_seconds (2.1)
    return None


def to_spans(ts: TokenStream, items: list[Item]) -> list[DateSpan]:
    """Pass 4: the kept items' keys with character spans, in order, each key once, all valid.

    A timer word makes a duration the timer's length; the ``timer_set`` hint alone does so only when no
    day or clock time stands ("book a meeting tomorrow at 3 for 2 hours" has no in_ key)."""
    timer_length = ts.timer_word or (ts.timer and not _has_day_or_clock(items))
    out: list[DateSpan] = []
    seen: set[str] = set()
    for item in items:
        if item.dropped:
            continue
        key = _item_key(item, timer_length)
        if not key or key in seen or not vocab.is_valid_key(key):
            continue
        seen.add(key)
        end = min(max(item.end, item.start + 1), ts.size)
        out.append(DateSpan(key, ts.tokens[item.start].start, ts.tokens[end - 1].end))
    return out
