"""Actions: one handler per intent, ``handler(parse, ctx) -> ActionResult`` (no Qt anywhere here).

=================  ==============================================  =====================
intent             handler                                         module
=================  ==============================================  =====================
reminder_set       store a reminder; the scheduler fires it         reminders.py
timer_set          store a countdown                                reminders.py
alarm_set          store an alarm (rings)                           reminders.py
schedule_query     list reminders, timers, alarms, events           schedule.py
schedule_remove    cancel by time, kind or words                    schedule.py
calendar_set       store an event (.ics export/import)              calendar.py
note_create        save a note (Markdown export)                    notes.py
app_open           launch a desktop application or open a URL       apps.py
volume_set         pactl / wpctl / osascript                        volume.py
media_control      playerctl (MPRIS)                                media.py
web_search         default browser on the configured search URL     search.py
weather_query      pluggable provider (Open-Meteo)                  weather.py
datetime_query     the clock                                        clock.py
system_status      psutil figures, loaded models                    system_status.py
general_chat       not an action: the assistant streams a chat reply
=================  ==============================================  =====================

"undo" (typed or said) reverses the last undoable action whatever intent the sentence was given
(:mod:`.undo`). Every carried-out action is written to the action log. The scheduler that fires the stored
items is :class:`jarvis_desktop.actions.scheduler.Scheduler`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from jarvis_desktop.actions.apps import open_app
from jarvis_desktop.actions.calendar import add_event
from jarvis_desktop.actions.clock import answer_datetime
from jarvis_desktop.actions.context import ActionContext
from jarvis_desktop.actions.media import control_media
from jarvis_desktop.actions.notes import create_note
from jarvis_desktop.actions.reminders import set_alarm, set_reminder, set_timer
from jarvis_desktop.actions.result import ActionResult
from jarvis_desktop.actions.schedule import query_schedule, remove_from_schedule
from jarvis_desktop.actions.search import web_search
from jarvis_desktop.actions.summary import describe_command
from jarvis_desktop.actions.system_status import answer_system_status
from jarvis_desktop.actions.undo import is_undo_command, undo_last
from jarvis_desktop.actions.volume import set_volume
from jarvis_desktop.actions.weather import answer_weather
from jarvis_desktop.errors import JarvisError
from jarvis_desktop.nlu.result import ParseResult

__all__ = ["ActionContext", "ActionResult", "HANDLERS", "run_action"]


def _datetime(parse: ParseResult, ctx: ActionContext) -> ActionResult:
    return answer_datetime(parse, ctx.now)


def _status(parse: ParseResult, ctx: ActionContext) -> ActionResult:
    return answer_system_status(parse.text, ctx.loaded_models)


#: ``handler(parse, ctx) -> ActionResult``.
Handler = Callable[[ParseResult, ActionContext], ActionResult]

HANDLERS: dict[str, Handler] = {
    "reminder_set": set_reminder,
    "timer_set": set_timer,
    "alarm_set": set_alarm,
    "schedule_query": query_schedule,
    "schedule_remove": remove_from_schedule,
    "calendar_set": add_event,
    "note_create": create_note,
    "app_open": open_app,
    "volume_set": set_volume,
    "media_control": control_media,
    "web_search": web_search,
    "weather_query": answer_weather,
    "datetime_query": _datetime,
    "system_status": _status,
}


def run_action(
    parse: ParseResult, now: datetime, loaded_models: list[str] | None = None, *, context: ActionContext | None = None
) -> ActionResult | None:
    """Run the action for a parsed utterance.

    Args:
        parse: a :class:`jarvis_desktop.nlu.engine.ParseResult`.
        now: the current local time (aware or naive); overrides ``context.now``.
        loaded_models: names of models in memory, for "which models are loaded".
        context: stores, settings, scheduler wake-up, dry-run. None: a context on the app database,
            opened for this call and closed after it.

    Returns:
        The action's result, or None for ``general_chat`` (the caller asks the chat model).

    Raises:
        JarvisError: the database could not save what was asked (full disk, locked, read-only): the
            request is reported as failed, never dropped silently.
    """
    undo = is_undo_command(parse.text)
    if parse.intent == "general_chat" and not undo:
        return None
    own = context is None
    ctx = context or ActionContext(now=now)
    ctx.now = now
    if loaded_models is not None:
        ctx.loaded_models = list(loaded_models)
    try:
        if undo:
            return undo_last(ctx, parse.text)
        handler = HANDLERS.get(parse.intent)
        if handler is None:
            return describe_command(parse, now)
        result = handler(parse, ctx)
        if result.kind == "done" and not ctx.dry_run:
            _log(result, parse, ctx)
        return result
    finally:
        if own:
            ctx.close()


def _log(result: ActionResult, parse: ParseResult, ctx: ActionContext) -> None:
    """Record a carried-out action; if the log cannot be written the action stands, only undo is lost."""
    try:
        ctx.action_log.record(result.intent, parse.text, result.summary, result.undo)
    except JarvisError as exc:
        result.data["undo_unavailable"] = exc.user_message()
        result.undo = None
