"""``schedule_query`` and ``schedule_remove``: list and cancel reminders, timers, alarms and events.

Which items a sentence means (:func:`select`):

* kind words: "alarm(s)", "timer(s)", "reminder(s)", "event(s)/meeting(s)/appointment(s)/calendar";
* a clock time (``at_7am``) matches items at that local time; a day key (``tomorrow``, ``this_friday``,
  ``this_week``) matches items on that day or period;
* the remaining words ("call mom", "meeting with Ana") must match words of the item's title (fuzzy:
  ``difflib`` ratio >= 0.8 per word, so "mum" finds "mom" only when close enough).

Cancelling refuses to guess: when several items match and the sentence did not say "all" (or "next"),
the reply lists them with their ids (``jarvis-desktop schedule cancel ID`` cancels one).
"""

from __future__ import annotations

import difflib
import re
from datetime import date, timedelta
from typing import Any

from jarvis_desktop.actions.context import ActionContext
from jarvis_desktop.actions.result import ActionResult, refused, would
from jarvis_desktop.actions.timefmt import describe_moment
from jarvis_desktop.errors import BadInputError
from jarvis_desktop.nlu.datekeys import extract_date_spans
from jarvis_desktop.nlu.result import ParseResult
from jarvis_desktop.nlu.vocab import parse_clock_key
from jarvis_desktop.store.schedule import ScheduledItem

_KIND_WORDS = {
    "alarm": "alarm",
    "alarms": "alarm",
    "wake": "alarm",
    "timer": "timer",
    "timers": "timer",
    "countdown": "timer",
    "reminder": "reminder",
    "reminders": "reminder",
    "event": "event",
    "events": "event",
    "meeting": "event",
    "meetings": "event",
    "appointment": "event",
    "appointments": "event",
    "calendar": "event",
}
_KIND_ONLY = {
    "alarm",
    "alarms",
    "timer",
    "timers",
    "countdown",
    "reminder",
    "reminders",
    "event",
    "events",
    "appointment",
    "appointments",
    "calendar",
    "wake",
}
#: Words that say how to remove, not what: left out when matching an item's title.
_STOP_WORDS = """
    cancel cancelled delete remove stop clear drop kill scrap forget dismiss unset turn off disable switch halt
    end abort erase get rid of take out don't dont do not remind me my the a an all every everything any please
    for about to at on in set i i'd had have has that this it its which next upcoming jarvis hey ok okay can you
    could would will is are was were there what whats what's do does show list tell give read out up anything
    planned scheduled schedule got coming from with by and or so just one ones up well um uh er erm hmm oh ah like
    actually really now then also yeah yes right alright hi hello
"""
_STOP = set(_STOP_WORDS.split())
_ALL = re.compile(r"\b(?:all|every|everything|each)\b", re.I)
_NEXT = re.compile(r"\b(?:next|upcoming|soonest|first)\s+(?:alarm|timer|reminder|event|meeting|one)\b", re.I)
_PERIOD_DAYS = {
    "this_week": None,
    "next_week": 7,
    "this_weekend": 2,
    "next_weekend": 2,
    "next_month": None,
    "this_month": None,
}
_TIME_KEY = re.compile(
    r"^(?:at_|during_|after_|in_\d+_(?:seconds|minutes)$)|(?:morning|afternoon|evening|night|noon|"
    r"midnight)$"
)


def _kinds(text: str) -> list[str]:
    words = re.findall(r"[a-z']+", text.lower())
    return sorted({_KIND_WORDS[w] for w in words if w in _KIND_WORDS})


def content_words(text: str) -> list[str]:
    """Words of ``text`` that name the item: date expressions, command words and kind words removed."""
    spans = sorted(extract_date_spans(text), key=lambda s: s.start)
    kept, pos = [], 0
    for span in spans:
        kept.append(text[pos : span.start])
        pos = max(pos, span.end)
    kept.append(text[pos:])
    words = re.findall(r"[a-z0-9']+", " ".join(kept).lower())
    return [w for w in words if w not in _STOP and w not in _KIND_ONLY and not w.isdigit()]


def _word_match(word: str, title: str) -> bool:
    tokens = re.findall(r"[a-z0-9']+", title.lower())
    return any(t == word or difflib.SequenceMatcher(None, word, t).ratio() >= 0.8 for t in tokens)


def day_range(parse: ParseResult, ctx: ActionContext) -> tuple[date, date] | None:
    """[first, last) local dates the sentence's day keys cover, or None when it names no day."""
    day_keys = [k for k in parse.date_keys if not _TIME_KEY.search(k)]
    when = ctx.when(parse)
    if not day_keys or when is None:
        return None
    first = when.date()
    key = day_keys[0]
    if key == "this_week":
        return first, first + timedelta(days=7 - first.weekday())
    if key in ("this_month", "next_month"):
        nxt = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
        return first, nxt
    return first, first + timedelta(days=_PERIOD_DAYS.get(key) or 1)


def _clock(parse: ParseResult) -> tuple[int, int] | None:
    return next((hm for k in parse.date_keys if (hm := parse_clock_key(k)) is not None), None)


def select(parse: ParseResult, ctx: ActionContext) -> tuple[list[ScheduledItem], dict[str, Any]]:
    """The active items the sentence refers to, soonest first, and the filters used (for the reply)."""
    kinds = _kinds(parse.text)
    items = ctx.schedule.upcoming(kinds or None)
    filters: dict[str, Any] = {"kinds": kinds}
    days = day_range(parse, ctx)
    if days is not None:
        items = [i for i in items if days[0] <= ctx.local(i.due_at).date() < days[1]]
        filters["days"] = [days[0].isoformat(), days[1].isoformat()]
    clock = _clock(parse)
    if clock is not None:
        items = [i for i in items if (ctx.local(i.due_at).hour, ctx.local(i.due_at).minute) == clock]
        filters["clock"] = f"{clock[0]:02d}:{clock[1]:02d}"
    words = content_words(parse.text)
    if words:
        matched = [i for i in items if any(_word_match(w, i.title) for w in words)]
        # a query ("what's on my schedule tomorrow") shows the day's items when the leftover words match
        # nothing (often a recognition slip: "Well, on my schedule tomorrow"); cancelling never guesses
        if matched or parse.intent != "schedule_query":
            items = matched
            filters["words"] = words
    return items, filters


def describe_item(item: ScheduledItem, ctx: ActionContext) -> str:
    """ "reminder “call mom” tomorrow 15:00", "alarm tomorrow 07:00", "timer 10 minutes (ends today 18:15)"."""
    moment = describe_moment(ctx.local(item.due_at), ctx.now)
    if item.kind == "timer":
        return f"timer {item.title} (ends {moment})"
    title = f" “{item.title}”" if item.title else ""
    return f"{item.kind}{title} {moment}"


def _what(filters: dict[str, Any]) -> str:
    kinds = filters.get("kinds") or []
    return " or ".join(f"{k}s" for k in kinds) if kinds else "scheduled"


def query_schedule(parse: ParseResult, ctx: ActionContext) -> ActionResult:
    """Answer "what do I have on friday", "which alarms are set".

    ``data``: ``items`` (list of :meth:`ScheduledItem.to_dict`), ``filters``.
    """
    items, filters = select(parse, ctx)
    data = {"items": [i.to_dict(ctx.tz) for i in items], "filters": filters}
    if not items:
        scope = " for that day" if "days" in filters else ""
        text = f"No {_what(filters)} set{scope}." if filters.get("kinds") else f"Nothing scheduled{scope}."
        return ActionResult(intent=parse.intent, kind="answer", text=text, summary=text.rstrip("."), data=data)
    shown = [describe_item(i, ctx) for i in items[:8]]
    more = f"; and {len(items) - 8} more" if len(items) > 8 else ""
    head = f"You have {len(items)} item{'s' if len(items) != 1 else ''}: "
    text = head + "; ".join(shown) + more + "."
    return ActionResult(
        intent=parse.intent, kind="answer", text=text, summary=f"Schedule: {len(items)} items", data=data
    )


def remove_from_schedule(parse: ParseResult, ctx: ActionContext) -> ActionResult:
    """Cancel what "cancel my 7 am alarm", "stop the timer", "delete all reminders" refers to.

    ``data``: ``cancelled`` (ids) or, when ambiguous, ``candidates``. Undo restores the cancelled items.
    """
    items, filters = select(parse, ctx)
    if not items:
        what = describe_filters(filters)
        return refused(parse.intent, f"There is no {what} to cancel.", f"Cancel: no {what}", filters=filters)
    if len(items) > 1 and not _ALL.search(parse.text):
        if _NEXT.search(parse.text):
            items = items[:1]
        else:
            listed = "; ".join(f"#{i.id} {describe_item(i, ctx)}" for i in items[:8])
            return refused(
                parse.intent,
                f'Which one? {listed}. Say it with its time or words, or "all".',
                f"Cancel: {len(items)} match",
                candidates=[i.to_dict(ctx.tz) for i in items],
            )
    names = "; ".join(describe_item(i, ctx) for i in items)
    summary = f"cancel {names}"
    if ctx.dry_run:
        return would(parse.intent, summary, ids=[i.id for i in items])
    cancelled = [i for i in items if ctx.schedule.cancel(i.id) is not None]
    ctx.schedule_changed()
    text = f"Cancelled the {names}." if len(cancelled) == 1 else f"Cancelled {len(cancelled)} items: {names}."
    return ActionResult(
        intent=parse.intent,
        kind="done",
        text=text,
        summary=f"Cancelled: {names}",
        data={"cancelled": [i.id for i in cancelled]},
        undo={"op": "restore_items", "ids": [i.id for i in cancelled]},
    )


def describe_filters(filters: dict[str, Any]) -> str:
    """ "7:00 alarm", "reminder about “call mom”", "timer", "such item"."""
    kinds = filters.get("kinds") or []
    noun = " or ".join(kinds) if kinds else "scheduled item"
    clock = f"{filters['clock']} " if filters.get("clock") else ""
    words = f" about “{' '.join(filters['words'])}”" if filters.get("words") else ""
    return f"{clock}{noun}{words}"


def cancel_by_id(item_id: int, ctx: ActionContext) -> ActionResult:
    """Cancel one item by id (``jarvis-desktop schedule cancel ID``, the Schedule view's button).

    Raises:
        BadInputError: no active item with that id.
    """
    item = ctx.schedule.get(item_id)
    if item is None:
        raise BadInputError(f"no scheduled item with id {item_id}", hint="see: jarvis-desktop schedule")
    if ctx.schedule.cancel(item_id) is None:
        raise BadInputError(f"item {item_id} is already {item.status}; nothing to cancel")
    ctx.schedule_changed()
    names = describe_item(item, ctx)
    ctx.action_log.record(
        "schedule_remove", f"cancel #{item_id}", f"Cancelled: {names}", {"op": "restore_items", "ids": [item_id]}
    )
    return ActionResult(
        intent="schedule_remove",
        kind="done",
        text=f"Cancelled the {names}.",
        summary=f"Cancelled: {names}",
        data={"cancelled": [item_id]},
        undo={"op": "restore_items", "ids": [item_id]},
    )
