"""Human wording of times: a moment relative to now ("today 15:00", "tomorrow 07:00", "Fri 27 Nov 09:00"),
a duration ("30 seconds", "1 minute 30 seconds", "1 hour 30 minutes") and the time left ("in 40 s")."""

from __future__ import annotations

from datetime import datetime


def describe_moment(when: datetime, now: datetime) -> str:
    """Short relative wording of ``when`` seen from ``now`` (both naive or both aware, same zone).

    24-hour clock; the weekday is added within the next 6 days, the date beyond that.
    """
    days = (when.date() - now.date()).days
    clock = when.strftime("%H:%M")
    if days == 0:
        return f"today {clock}"
    if days == 1:
        return f"tomorrow {clock}"
    if days == -1:
        return f"yesterday {clock}"
    if 1 < days < 7:
        return f"{when.strftime('%A')} {clock}"
    fmt = "%a %d %b" if when.year == now.year else "%a %d %b %Y"
    return f"{when.strftime(fmt)} {clock}"


def format_countdown(seconds: float) -> str:
    """Time left, short: "in 40 s", "in 12 min", "in 2 h 05 min", "in 3 days"; "due now" at or below 0."""
    seconds = int(seconds)
    if seconds <= 0:
        return "due now"
    if seconds < 60:
        return f"in {seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"in {minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"in {hours} h {minutes:02d} min" if hours < 48 else f"in {hours // 24} days"


def _unit(count: int, name: str) -> str:
    return f"{count} {name}{'s' if count != 1 else ''}"


def format_duration(seconds: int) -> str:
    """A duration of whole ``seconds`` in words for replies: "30 seconds", "1 minute", "1 minute 30 seconds",
    "10 minutes", "2 hours", "1 hour 30 minutes", "2 hours 5 minutes 10 seconds"; zero parts are left out
    ("0 seconds" for 0). Negative values raise ValueError."""
    seconds = int(seconds)
    if seconds < 0:
        raise ValueError(f"a duration cannot be negative: {seconds} s")
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [_unit(n, name) for n, name in ((hours, "hour"), (minutes, "minute"), (secs, "second")) if n]
    return " ".join(parts) or "0 seconds"
