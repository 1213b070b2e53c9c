"""Describe an understood command back to the user: "Reminder: call mom — tomorrow 15:00".

v0 behaviour for the intents whose handlers are not built yet: the user sees exactly what was
understood (intent, payload, resolved time), so a wrong parse is visible at once.
"""

from __future__ import annotations

from datetime import datetime

from jarvis_desktop.actions.result import ActionResult
from jarvis_desktop.actions.timefmt import describe_moment, format_duration
from jarvis_desktop.nlu import vocab
from jarvis_desktop.nlu.resolve import parse_when

LABELS = {
    "reminder_set": "Reminder",
    "timer_set": "Timer",
    "alarm_set": "Alarm",
    "schedule_query": "Schedule",
    "schedule_remove": "Cancel",
    "calendar_set": "Event",
    "weather_query": "Weather",
    "app_open": "Open",
    "volume_set": "Volume",
    "media_control": "Media",
    "note_create": "Note",
    "web_search": "Search",
}
_NEEDS_FUTURE = {"reminder_set", "timer_set", "alarm_set", "calendar_set"}


def _when(parse, now: datetime) -> datetime | None:
    if not parse.when:
        return None
    when = parse_when(parse.when)
    return when.replace(tzinfo=now.tzinfo) if now.tzinfo else when


def describe_command(parse, now: datetime) -> ActionResult:
    """An "understood" (or "refused") result for intents other than chat, time and status.

    Args:
        parse: the parsed utterance (``intent``, ``payload``, ``date_keys``, ``when``).
        now: current local time, for relative wording ("tomorrow 15:00").

    A command that needs a future time but resolves to the past is "refused" with
    "that time has already passed".
    """
    label = LABELS.get(parse.intent, parse.intent)
    when = _when(parse, now)
    payload = (parse.payload or "").strip()
    pieces = [f"{label}: {payload}" if payload else label]
    data: dict = {"when": parse.when, "date_keys": list(parse.date_keys), "payload": payload}
    if parse.intent == "timer_set":
        seconds = next((n for k in parse.date_keys if (n := vocab.offset_seconds(k)) is not None), None)
        if seconds is not None:
            pieces = [f"{label}: {format_duration(seconds)}"]
            data["seconds"] = seconds
            data["minutes"] = seconds // 60
    if when is not None:
        pieces.append(describe_moment(when, now))
    elif parse.intent in _NEEDS_FUTURE:
        pieces.append("no time given")
    summary = " — ".join(pieces)
    if parse.intent in _NEEDS_FUTURE and when is not None and when < now.replace(second=0, microsecond=0):
        return ActionResult(
            intent=parse.intent,
            kind="refused",
            summary=summary,
            data=data,
            text=f"{summary}: that time has already passed.",
        )
    return ActionResult(
        intent=parse.intent,
        kind="understood",
        summary=summary,
        data=data,
        text=f"Understood. {summary}. (Carrying out this command comes in a later version.)",
    )
