"""``reminder_set``, ``timer_set``, ``alarm_set``: store the item; the scheduler fires it at its time.

Rules (all refusals change nothing and say what to say instead):

* a reminder needs a point in time (``when``); a day alone means 09:00 (spec section 3);
* an alarm needs a clock time or a part of day ("wake me up tomorrow" alone is refused: at what time?);
* a timer needs a duration (``in_<N>_minutes``, or ``in_<N>_seconds`` since vocabulary 2.1: "30 seconds",
  "a minute and a half");
* a time before ``now`` is refused: "that time has already passed";
* ``in_<N>_seconds`` / ``in_<N>_minutes`` count from the real clock to the second (a "2 minute" reminder rings
  120 s later, not at the next minute boundary), unless ``now`` was set to another time (CLI ``--now``).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from jarvis_desktop.actions.context import ActionContext
from jarvis_desktop.actions.result import ActionResult, refused, would
from jarvis_desktop.actions.timefmt import describe_moment, format_duration
from jarvis_desktop.nlu import vocab
from jarvis_desktop.nlu.result import ParseResult

__all__ = ["format_duration", "has_time_of_day", "offset_seconds", "set_alarm", "set_reminder", "set_timer"]

_TIME_OF_DAY = re.compile(
    r"^(?:at_|during_|after_|in_\d+_(?:seconds|minutes)$)|(?:morning|afternoon|evening|night|noon|"
    r"midnight|tonight)$"
)
MAX_TIMER_SECONDS = 7 * 24 * 3600


def offset_seconds(keys: list[str]) -> int | None:
    """Seconds of the first ``in_<N>_seconds`` / ``in_<N>_minutes`` key (``["in_90_seconds"] -> 90``,
    ``["in_2_minutes"] -> 120``), or None when there is none."""
    return next((n for k in keys if (n := vocab.offset_seconds(k)) is not None), None)


def has_time_of_day(keys: list[str]) -> bool:
    """True when a key gives a clock time, part of day, meal or elapsed offset (not just a day)."""
    return any(_TIME_OF_DAY.search(k) for k in keys)


def _due(parse: ParseResult, ctx: ActionContext) -> datetime | None:
    """When the item fires, in the form of ``ctx.now``: elapsed offsets from the clock, else ``when``."""
    seconds = offset_seconds(list(parse.date_keys))
    if seconds is not None and len(parse.date_keys) == 1:
        return ctx.clock_base() + timedelta(seconds=seconds)
    return ctx.when(parse)


def _is_past(due: datetime, ctx: ActionContext) -> bool:
    return due < ctx.now.replace(second=0, microsecond=0)


def _store(
    kind: str,
    title: str,
    due: datetime,
    parse: ParseResult,
    ctx: ActionContext,
    summary: str,
    text: str,
    data: dict[str, Any],
) -> ActionResult:
    """Dry-run or save the item, wake the scheduler and build the "done" result with its undo."""
    data = {**data, "kind": kind, "due_at": due.isoformat(timespec="seconds")}
    if ctx.dry_run:
        article = "an" if kind == "alarm" else "a"
        return would(parse.intent, f"set {article} {summary[0].lower()}{summary[1:]}", **data)
    item = ctx.schedule.add(kind, title, due, source_text=parse.text)
    ctx.schedule_changed()
    data["id"] = item.id
    return ActionResult(
        intent=parse.intent,
        kind="done",
        text=text,
        summary=summary,
        data=data,
        undo={"op": "cancel_item", "ids": [item.id]},
    )


def set_reminder(parse: ParseResult, ctx: ActionContext) -> ActionResult:
    """Store a reminder for ``parse.payload`` at ``when``.

    Reply: "Reminder set: call mom — tomorrow 15:00." (one sentence). ``data``: ``id``, ``kind``,
    ``due_at`` (local ISO), ``payload``.
    """
    payload = (parse.payload or "").strip()
    label = f"Reminder: {payload}" if payload else "Reminder"
    due = _due(parse, ctx)
    if due is None:
        what = f" to {payload}" if payload else ""
        return refused(
            parse.intent,
            f"When should I remind you{what}? Say a time, e.g. “tomorrow at 3 pm”.",
            f"{label} — no time given",
            payload=payload,
        )
    summary = f"{label} — {describe_moment(due, ctx.now)}"
    if _is_past(due, ctx):
        return refused(parse.intent, f"{summary}: that time has already passed.", summary, payload=payload)
    return _store(
        "reminder",
        payload,
        due,
        parse,
        ctx,
        summary,
        f"Reminder set: {summary[len('Reminder: ') :]}."
        if payload
        else f"Reminder set for {describe_moment(due, ctx.now)}.",
        {"payload": payload},
    )


def set_timer(parse: ParseResult, ctx: ActionContext) -> ActionResult:
    """Start a countdown of ``in_<N>_minutes`` or ``in_<N>_seconds``.

    Reply: "Timer set: 10 minutes — ends today 18:15.", "Timer set: 30 seconds — ends today 18:05."
    ``data``: ``id``, ``seconds`` (the length), ``minutes`` (the length in whole minutes, rounded down),
    ``due_at``.
    """
    seconds = offset_seconds(list(parse.date_keys))
    if seconds is None or seconds <= 0:
        return refused(parse.intent, "For how long? Say e.g. “a timer for 10 minutes”.", "Timer — no duration")
    if seconds > MAX_TIMER_SECONDS:
        return refused(
            parse.intent,
            "A timer can run for at most a week; use a reminder for later times.",
            f"Timer: {format_duration(seconds)}",
        )
    due = ctx.clock_base() + timedelta(seconds=seconds)
    duration = format_duration(seconds)
    summary = f"Timer: {duration} — {describe_moment(due, ctx.now)}"
    return _store(
        "timer",
        duration,
        due,
        parse,
        ctx,
        summary,
        f"Timer set: {duration} — ends {describe_moment(due, ctx.now)}.",
        {"seconds": seconds, "minutes": seconds // 60},
    )


def set_alarm(parse: ParseResult, ctx: ActionContext) -> ActionResult:
    """Set an alarm at a clock time (or part of day) on an optional day.

    Reply: "Alarm set for tomorrow 06:30." ``data``: ``id``, ``due_at``.
    """
    keys = list(parse.date_keys)
    due = _due(parse, ctx) if has_time_of_day(keys) else None
    if due is None:
        return refused(
            parse.intent,
            "What time should the alarm ring? Say e.g. “wake me up at 7 tomorrow”.",
            "Alarm — no time given",
        )
    moment = describe_moment(due, ctx.now)
    summary = f"Alarm — {moment}"
    if _is_past(due, ctx):
        return refused(parse.intent, f"Alarm for {moment}: that time has already passed.", summary)
    title = (parse.payload or "").strip()
    return _store("alarm", title, due, parse, ctx, summary, f"Alarm set for {moment}.", {})
