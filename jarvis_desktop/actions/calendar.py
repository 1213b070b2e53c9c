"""``calendar_set`` and the local calendar's iCalendar (.ics, RFC 5545) export and import.

Events are ``scheduled_items`` rows of kind "event" (start = ``due_at``, ``end_at``, ``uid``, ``location``):
they are listed and cancelled like reminders, and notify when they start. Without an end, an event lasts
:data:`DEFAULT_DURATION`.

Export writes every event that is not cancelled (past ones too) as VEVENTs with UTC times (all-day events
as DATE values). Import adds each VEVENT whose UID is not there yet: floating times are read in the user's
zone, an event that has already begun is stored as past (it will not notify), a recurring event is imported as its
first occurrence (the answer says how many).
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Any

from jarvis_desktop.actions.context import ActionContext
from jarvis_desktop.actions.result import ActionResult, refused, would
from jarvis_desktop.actions.timefmt import describe_moment
from jarvis_desktop.errors import BadInputError, JarvisError
from jarvis_desktop.nlu.result import ParseResult
from jarvis_desktop.store.schedule import ScheduleStore, utc_now

DEFAULT_DURATION = timedelta(hours=1)
PRODID = "-//Jarvis Desktop//jarvis-desktop//EN"


def new_uid() -> str:
    """A fresh iCalendar UID."""
    return f"{uuid.uuid4()}@jarvis-desktop"


def add_event(parse: ParseResult, ctx: ActionContext) -> ActionResult:
    """Store "meeting with Ana" at ``when`` (a day alone means 09:00), lasting one hour.

    Reply: "Event added: meeting with Ana — Tuesday 14:00." ``data``: ``id``, ``uid``, ``start``, ``end``.
    """
    title = (parse.payload or "").strip() or "Event"
    start = ctx.when(parse)
    if start is None:
        return refused(
            parse.intent,
            f"When is “{title}”? Say a day and time, e.g. “next tuesday at 2 pm”.",
            f"Event: {title} — no time given",
            payload=title,
        )
    moment = describe_moment(start, ctx.now)
    summary = f"Event: {title} — {moment}"
    if start < ctx.now.replace(second=0, microsecond=0):
        return refused(parse.intent, f"{summary}: that time has already passed.", summary)
    end = start + DEFAULT_DURATION
    data: dict[str, Any] = {
        "start": start.isoformat(timespec="minutes"),
        "end": end.isoformat(timespec="minutes"),
        "payload": title,
    }
    if ctx.dry_run:
        return would(parse.intent, f"add the event {title} — {moment}", **data)
    item = ctx.schedule.add("event", title, start, end_at=end, uid=new_uid(), source_text=parse.text)
    ctx.schedule_changed()
    data.update(id=item.id, uid=item.uid)
    return ActionResult(
        intent=parse.intent,
        kind="done",
        text=f"Event added: {title} — {moment}.",
        summary=summary,
        data=data,
        undo={"op": "cancel_item", "ids": [item.id]},
    )


# ---- iCalendar -----------------------------------------------------------------------------------
def _icalendar():
    try:
        import icalendar
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise JarvisError("the icalendar package is missing", hint="pip install icalendar") from exc
    return icalendar


def export_ics(store: ScheduleStore, path: Path | str) -> int:
    """Write all events to ``path`` (written to a temp file, then renamed); returns how many.

    Raises:
        JarvisError: the file cannot be written (full disk, no permission).
    """
    ical = _icalendar()
    cal = ical.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    events = store.events()
    for item in events:
        ev = ical.Event()
        ev.add("uid", item.uid or f"jarvis-item-{item.id}@jarvis-desktop")
        ev.add("summary", item.title)
        ev.add("dtstamp", utc_now().replace(microsecond=0))
        if item.all_day:
            start = item.local_due().date()
            ev.add("dtstart", start)
            ev.add("dtend", item.end_at.astimezone().date() if item.end_at else start + timedelta(days=1))
        else:
            ev.add("dtstart", item.due_at)
            ev.add("dtend", item.end_at or item.due_at + DEFAULT_DURATION)
        if item.location:
            ev.add("location", item.location)
        if item.description:
            ev.add("description", item.description)
        cal.add_component(ev)
    path = Path(path).expanduser()
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_bytes(cal.to_ical())
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise JarvisError(f"cannot write {path}: {exc.strerror or exc}") from exc
    return len(events)


@dataclass
class ImportReport:
    """What :func:`import_ics` did: ids added, UIDs skipped (already there), recurring events cut to their
    first occurrence, VEVENTs without a start that were skipped."""

    added: list[int]
    skipped_existing: int = 0
    recurring: int = 0
    without_start: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "added": len(self.added),
            "ids": self.added,
            "skipped_existing": self.skipped_existing,
            "recurring_first_only": self.recurring,
            "without_start": self.without_start,
        }

    def sentence(self) -> str:
        """ "Imported 3 events (1 already there)."""
        extra = []
        if self.skipped_existing:
            extra.append(f"{self.skipped_existing} already there")
        if self.recurring:
            extra.append(f"{self.recurring} recurring, first occurrence only")
        if self.without_start:
            extra.append(f"{self.without_start} without a start skipped")
        tail = f" ({'; '.join(extra)})" if extra else ""
        return f"Imported {len(self.added)} event{'s' if len(self.added) != 1 else ''}{tail}."


def _as_datetime(value: date | datetime, tz: tzinfo | None) -> tuple[datetime, bool]:
    """An iCalendar DATE or DATE-TIME as an aware datetime, and whether it was a DATE (all-day)."""
    if isinstance(value, datetime):
        if value.tzinfo is None:  # floating time: the user's zone
            value = value.replace(tzinfo=tz) if tz else value.astimezone()
        return value, False
    start = datetime.combine(value, time(0, 0))
    return (start.replace(tzinfo=tz) if tz else start.astimezone()), True


def import_ics(store: ScheduleStore, path: Path | str, tz: tzinfo | None = None) -> ImportReport:
    """Add the VEVENTs of ``path`` that are not in the calendar yet (matched by UID).

    Raises:
        BadInputError: missing or unreadable file, or not iCalendar data.
        JarvisError: the database cannot be written.
    """
    ical = _icalendar()
    path = Path(path).expanduser()
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise BadInputError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        cal = ical.Calendar.from_ical(raw)
    except (ValueError, IndexError, KeyError) as exc:
        raise BadInputError(f"{path} is not an iCalendar (.ics) file: {exc}") from exc
    report = ImportReport(added=[])
    now = datetime.now(timezone.utc)
    for ev in cal.walk("VEVENT"):
        uid = str(ev.get("uid") or new_uid())
        if store.find_uid(uid) is not None:
            report.skipped_existing += 1
            continue
        if ev.get("dtstart") is None:
            report.without_start += 1
            continue
        start, all_day = _as_datetime(ev.decoded("dtstart"), tz)
        if ev.get("dtend") is not None:
            end, _ = _as_datetime(ev.decoded("dtend"), tz)
        elif ev.get("duration") is not None:
            end = start + ev.decoded("duration")
        else:
            end = start + (timedelta(days=1) if all_day else DEFAULT_DURATION)
        if ev.get("rrule") is not None:
            report.recurring += 1
        status = "fired" if start <= now else "pending"  # one already begun does not notify
        item = store.add(
            "event",
            str(ev.get("summary") or "Event"),
            start,
            end_at=max(end, start),
            all_day=all_day,
            uid=uid,
            location=str(ev.get("location") or ""),
            description=str(ev.get("description") or ""),
            status=status,
            source_text=f"imported from {path.name}",
        )
        report.added.append(item.id)
    return report
