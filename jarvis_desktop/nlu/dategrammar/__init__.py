"""The date grammar: utterance -> date keys (spec section 2, vocabulary 2.1) with character spans.

Pipeline, one module per step:

* :mod:`.tokens`: tokenise keeping character offsets, normalise (lowercase, "p.m." -> "pm", fillers
  dropped, runs of number words -> one number token);
* :mod:`.stream`: the token stream the matchers read (with the utterance's timer/alarm/volume flags) and
  the :class:`~.stream.Item` they produce;
* matchers, tried left to right by :mod:`.parser`: :mod:`.durations` ("in ten minutes"), :mod:`.days`
  (days, weekdays, calendar periods), :mod:`.clock` (clock times, noon/midnight), :mod:`.periods` (parts
  of day, meals); their word lists are in :mod:`.words`;
* :mod:`.postpass`: day + part of day, the am/pm context rules (:mod:`.ampm`, rule 8), rule 9, timers
  (rule 12), then keys with spans.

Extraction does not depend on the current time (resolution does: :mod:`jarvis_desktop.nlu.resolve`).
The public entry points are in :mod:`jarvis_desktop.nlu.datekeys`.
"""

from __future__ import annotations

from jarvis_desktop.nlu.dategrammar.parser import parse_items
from jarvis_desktop.nlu.dategrammar.postpass import (
    DateSpan,
    drop_clock_parts,
    join_days_and_parts,
    set_clock_keys,
    to_spans,
)
from jarvis_desktop.nlu.dategrammar.stream import TokenStream
from jarvis_desktop.nlu.dategrammar.tokens import tokenize

__all__ = ["DateSpan", "find_date_spans"]


def find_date_spans(text: str, intent: str | None = None) -> list[DateSpan]:
    """The date spans of ``text`` (a str, already cut to length), in order; see
    :func:`jarvis_desktop.nlu.datekeys.extract_date_spans`."""
    tokens = tokenize(text)
    if not tokens:
        return []
    ts = TokenStream(tokens, intent)
    items = parse_items(ts)
    if not items:
        return []
    join_days_and_parts(items)
    set_clock_keys(ts, items)
    drop_clock_parts(items)
    return to_spans(ts, items)
