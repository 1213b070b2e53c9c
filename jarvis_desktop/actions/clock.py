"""``datetime_query``: the current time, date or day of week, answered from the system clock."""

from __future__ import annotations

import re
from datetime import datetime

from jarvis_desktop.actions.result import ActionResult
from jarvis_desktop.nlu.resolve import parse_when

_TIME_WORDS = re.compile(r"\b(time|clock|hour|o'?clock)\b", re.I)
_DAY_WORDS = re.compile(r"\b(date|day|weekday|today|tomorrow|yesterday|month|year|week)\b", re.I)


def _long_date(moment: datetime) -> str:
    return f"{moment.strftime('%A')}, {moment.day} {moment.strftime('%B %Y')}"


def answer_datetime(parse, now: datetime) -> ActionResult:
    """Answer "what time is it", "what's the date today", "what day is it tomorrow".

    Args:
        parse: the parsed utterance (``text``, ``date_keys``, ``when``).
        now: the current local time.

    Returns:
        An "answer" result; ``data`` holds ``now`` (ISO, to the minute) and, for a day question
        about another day, ``date`` (ISO date).
    """
    text = parse.text or ""
    wants_time = bool(_TIME_WORDS.search(text))
    wants_day = bool(_DAY_WORDS.search(text)) or not wants_time
    data = {"now": now.strftime("%Y-%m-%dT%H:%M")}
    target = None
    if parse.when:
        target = parse_when(parse.when)
        if target.date() == now.date():
            target = None
    if target is not None and wants_day:
        days = (target.date() - now.date()).days
        lead = {1: "Tomorrow", -1: "Yesterday"}.get(days, _long_date(target).split(",")[0])
        verb = "was" if days < 0 else "is"
        text_out = (
            f"{lead} {verb} {_long_date(target)}."
            if lead in ("Tomorrow", "Yesterday")
            else f"That {verb} {_long_date(target)}."
        )
        data["date"] = target.strftime("%Y-%m-%d")
    elif wants_time and not _DAY_WORDS.search(text):
        text_out = f"It's {now.strftime('%H:%M')}."
    elif wants_time:
        text_out = f"It's {now.strftime('%H:%M')} on {_long_date(now)}."
    else:
        text_out = f"Today is {_long_date(now)}."
    return ActionResult(intent="datetime_query", kind="answer", text=text_out, summary=text_out.rstrip("."), data=data)
