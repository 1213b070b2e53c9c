"""``calendar_set`` and the local calendar's iCalendar (.ics, RFC 5545) export and import.

Events are ``scheduled_items`` rows of kind "event" (start = ``due_at``, ``end_at``, ``uid``, ``location``):
they are listed and cancelled like reminders, and notify when they start. Without an end, an event lasts
:data:`DEFAULT_DURATION`.

Export writes every event that is not cancelled (past ones too) as VEVENTs with UTC times (all-day events
as DATE values), atomically through :func:`jarvis_desktop.safe_write.write_atomically` (never through a symlink).

Import adds each VEVENT whose UID is not there yet: floating times are read in the user's
zone, an event that has already begun is stored as past (it will not notify), a recurring event is imported as its
first occurrence (the answer says how many). Import is all or nothing: every event is parsed and checked first,
then all are inserted in one database transaction; one bad event (a DTSTART that is not a date) imports nothing
and the error names it. Only regular files of at most :data:`MAX_IMPORT_BYTES` (20 MB) are read: a FIFO, a device
(``/dev/zero``) or a directory is refused before anything is read.
"""

from __future__ import annotations

import os
import re
import stat
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
from jarvis_desktop.safe_write import file_kind, write_atomically
from jarvis_desktop.store.schedule import ScheduleStore, due_utc_text, to_utc_text, utc_now

DEFAULT_DURATION = timedelta(hours=1)
PRODID = "-//Jarvis Desktop//jarvis-desktop//EN"
MAX_IMPORT_BYTES = 20 * 1024 * 1024
"""Largest .ics file :func:`import_ics` reads (20 MiB, about 50 000 events); a larger one is refused."""


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
    """Write all events to ``path`` atomically (:func:`~jarvis_desktop.safe_write.write_atomically`: an
    unpredictable temp file, then rename; never through a symlink); returns how many.

    Raises:
        BadInputError: a bad target: an empty name, ``.``, ``/``, a name too long, a missing directory, an existing
            symlink, a directory, FIFO or device (CLI exit 2).
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
    write_atomically(path, cal.to_ical())
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


def read_ics_bytes(path: Path | str, limit: int = MAX_IMPORT_BYTES) -> bytes:
    """The bytes of the regular file ``path``, at most ``limit`` bytes; never blocks on a FIFO.

    Raises:
        BadInputError: missing or unreadable, not a regular file (FIFO, device such as /dev/zero, directory),
            or larger than ``limit`` bytes.
    """
    path = Path(path).expanduser()
    try:  # O_NONBLOCK: opening a FIFO returns at once instead of waiting for a writer
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise BadInputError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise BadInputError(f"cannot import {path}: it is {file_kind(info.st_mode)}, not a regular .ics file")
        too_big = BadInputError(
            f"cannot import {path}: larger than {limit // (1024 * 1024)} MB",
            hint="split the calendar into smaller files",
        )
        if info.st_size > limit:
            raise too_big
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:  # the file grew while being read
            raise too_big
        return b"".join(chunks)
    except OSError as exc:
        raise BadInputError(f"cannot read {path}: {exc.strerror or exc}") from exc
    finally:
        os.close(fd)


def _vevent_lines(raw: bytes) -> list[int]:
    """1-based line numbers of the ``BEGIN:VEVENT`` lines of ``raw``, in order."""
    return [
        number
        for number, line in enumerate(raw.splitlines(), 1)
        if re.fullmatch(rb"\s*BEGIN:VEVENT\s*", line, re.IGNORECASE)
    ]


@dataclass
class _Row:
    """One checked VEVENT, ready to insert."""

    uid: str
    title: str
    start: datetime
    end: datetime
    all_day: bool
    location: str
    description: str
    status: str


def _when(ev: Any, name: str, tz: tzinfo | None, label: str) -> tuple[datetime, bool]:
    if isinstance(ev.get(name), list):  # the property given twice: which one is meant cannot be known
        raise BadInputError(f"{label}: {name.upper()} is given {len(ev.get(name))} times; nothing was imported")
    value = ev.decoded(name)
    if not isinstance(value, date):  # a broken value is left as its text, a TIME or a PERIOD is no moment
        raise BadInputError(
            f"{label}: {name.upper()} {str(ev.get(name).to_ical(), 'utf-8', 'replace')!r} "
            "is not a date or date-time; nothing was imported"
        )
    return _as_datetime(value, tz)


def import_ics(store: ScheduleStore, path: Path | str, tz: tzinfo | None = None) -> ImportReport:
    """Add the VEVENTs of ``path`` that are not in the calendar yet (matched by UID), all or nothing.

    Every VEVENT is parsed and checked before anything is written; then all are inserted in one transaction.

    Raises:
        BadInputError: missing or unreadable file, not a regular file (FIFO, device, directory), larger than
            :data:`MAX_IMPORT_BYTES`, not iCalendar data, or an event with a bad DTSTART / DTEND / DURATION (the
            message names the event: its number, line, UID and summary; nothing is imported).
        JarvisError: the database cannot be written (nothing is imported).
    """
    ical = _icalendar()
    path = Path(path).expanduser()
    raw = read_ics_bytes(path)
    try:
        cal = ical.Calendar.from_ical(raw)
    except (ValueError, IndexError, KeyError, TypeError) as exc:
        raise BadInputError(f"{path} is not an iCalendar (.ics) file: {exc}") from exc
    report = ImportReport(added=[])
    now = datetime.now(timezone.utc)
    lines = _vevent_lines(raw)
    events = cal.walk("VEVENT")
    rows: list[_Row] = []
    seen: set[str] = set()
    for index, ev in enumerate(events):
        uid = str(ev.get("uid") or new_uid())
        title = str(ev.get("summary") or "Event")
        line = f", line {lines[index]}" if len(lines) == len(events) else ""
        label = f"{path.name}: event {index + 1}{line} (UID {uid}, “{title}”)"
        if uid in seen or store.find_uid(uid) is not None:
            report.skipped_existing += 1
            continue
        if ev.get("dtstart") is None:
            report.without_start += 1
            continue
        try:
            start, all_day = _when(ev, "dtstart", tz, label)
            if ev.get("dtend") is not None:
                end, _ = _when(ev, "dtend", tz, label)
            elif ev.get("duration") is not None:
                duration = ev.decoded("duration")
                if not isinstance(duration, timedelta):
                    raise BadInputError(f"{label}: DURATION is not a duration; nothing was imported")
                end = start + duration
            else:
                end = start + (timedelta(days=1) if all_day else DEFAULT_DURATION)
            _stored = (due_utc_text(start), to_utc_text(max(end, start)))  # bad years fail here, not mid-insert
        except (ValueError, TypeError, OverflowError) as exc:
            raise BadInputError(f"{label}: {exc}; nothing was imported") from exc
        seen.add(uid)
        if ev.get("rrule") is not None:
            report.recurring += 1
        rows.append(
            _Row(
                uid=uid,
                title=title,
                start=start,
                end=max(end, start),
                all_day=all_day,
                location=str(ev.get("location") or ""),
                description=str(ev.get("description") or ""),
                status="fired" if start <= now else "pending",  # one already begun does not notify
            )
        )
    report.added = _insert_all(store, rows, f"imported from {path.name}")
    return report


def _insert_all(store: ScheduleStore, rows: list[_Row], source_text: str) -> list[int]:
    """Insert ``rows`` as events in one transaction (all or none); returns their ids.

    The columns are those :meth:`ScheduleStore.add` writes, which checks one item per transaction.
    """
    if not rows:
        return []
    stamp = to_utc_text(utc_now())
    ids: list[int] = []
    with store.db.transaction() as conn:
        for row in rows:
            cursor = conn.execute(
                "INSERT INTO scheduled_items (kind, title, due_at, end_at, all_day, status, created_at, fired_at, "
                "source_text, uid, location, description) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    "event",
                    row.title.strip(),
                    due_utc_text(row.start),
                    to_utc_text(row.end),
                    int(row.all_day),
                    row.status,
                    stamp,
                    stamp if row.status == "fired" else None,
                    source_text,
                    row.uid,
                    row.location,
                    row.description,
                ),
            )
            if cursor.lastrowid is None:
                raise JarvisError("the database did not return the new event's id")
            ids.append(int(cursor.lastrowid))
    return ids
