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
