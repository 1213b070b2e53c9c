"""Human wording of a moment relative to now: "today 15:00", "tomorrow 07:00", "Fri 27 Nov 09:00"."""

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
