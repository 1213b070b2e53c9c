"""Actions for understood intents.

v0: ``datetime_query`` and ``system_status`` are answered directly; ``general_chat`` is not an action
(the assistant streams it from the chat model); every other intent is described back to the user
("Reminder: call mom — tomorrow 15:00") until its handler lands.
"""

from __future__ import annotations

from datetime import datetime

from jarvis_desktop.actions.result import ActionResult
from jarvis_desktop.actions.clock import answer_datetime
from jarvis_desktop.actions.system_status import answer_system_status
from jarvis_desktop.actions.summary import describe_command

__all__ = ["ActionResult", "run_action"]


def run_action(parse, now: datetime, loaded_models: list[str] | None = None) -> ActionResult | None:
    """Run the action for a parsed utterance.

    Args:
        parse: a :class:`jarvis_desktop.nlu.engine.ParseResult`.
        now: the current local time (aware or naive), used for relative wording.
        loaded_models: names of models in memory, for "which models are loaded".

    Returns:
        The action's result, or None for ``general_chat`` (the caller asks the chat model).
    """
    if parse.intent == "general_chat":
        return None
    if parse.intent == "datetime_query":
        return answer_datetime(parse, now)
    if parse.intent == "system_status":
        return answer_system_status(parse.text, loaded_models or [])
    return describe_command(parse, now)
