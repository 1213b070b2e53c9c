"""The driver: runs the matchers left to right over the token stream and collects the items they find."""

from __future__ import annotations

from collections.abc import Callable

from jarvis_desktop.nlu.dategrammar.clock import match_clock, match_noon
from jarvis_desktop.nlu.dategrammar.days import match_day, match_period, match_weekday
from jarvis_desktop.nlu.dategrammar.durations import match_duration, match_in
from jarvis_desktop.nlu.dategrammar.periods import match_meal, match_part
from jarvis_desktop.nlu.dategrammar.stream import Item, TokenStream
from jarvis_desktop.nlu.dategrammar.words import SKIP_START

Matcher = Callable[[TokenStream, int], list[Item] | None]

#: tried in this order at each position; the first that matches consumes its tokens
MATCHERS: tuple[Matcher, ...] = (
    match_in,
    match_day,
    match_noon,
    match_weekday,
    match_period,
    match_meal,
    match_duration,
    match_clock,
    match_part,
)


def _skippable(ts: TokenStream, i: int) -> bool:
    """A word that never starts a date expression (fast path)."""
    tok = ts.tokens[i]
    return tok.text in SKIP_START and tok.value is None and not tok.clock


def parse_items(ts: TokenStream) -> list[Item]:
    """The items of the stream in order: at each position the first matching matcher's items, then
    parsing goes on after the last token they cover; positions where none matches are skipped."""
    items: list[Item] = []
    i = 0
    while i < ts.size:
        if _skippable(ts, i):
            i += 1
            continue
        for matcher in MATCHERS:
            found = matcher(ts, i)
            if found:
                items.extend(found)
                i = max(x.end for x in found)
                break
        else:
            i += 1
    return items
