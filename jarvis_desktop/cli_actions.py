"""CLI sub-commands for what the actions keep: ``schedule``, ``notes``, ``calendar``, ``undo``.

Registered on the main parser by :func:`add_parsers` (see :mod:`jarvis_desktop.cli`). Exit codes follow
the CLI contract: 0 success, 2 bad input (an unknown id, an unreadable file), 1 internal failure.
"""

from __future__ import annotations

import sys
import time
from datetime import datetime, timezone

from jarvis_desktop.actions.calendar import export_ics, import_ics
from jarvis_desktop.actions.scheduler import Scheduler
from jarvis_desktop.actions.timefmt import format_countdown
from jarvis_desktop.assistant import Assistant
from jarvis_desktop.cli_common import positive_id, print_json
from jarvis_desktop.store.db import corrupt_error
from jarvis_desktop.store.schedule import ScheduleStore


def _assistant(record_history: bool = False):
    return Assistant(record_history=record_history)


def _countdown(due: datetime) -> str:
    """ "in 2 h 05 min", "in 40 s", "due now"."""
    return format_countdown((due - datetime.now(timezone.utc)).total_seconds())


def _warn_if_damaged(assistant: Assistant) -> None:
    """A listing read from a damaged (read-only) database is shown, with one warning line on stderr saying why
    nothing can be changed and how to repair it (stdout stays the listing, so ``--json`` stays valid JSON)."""
    db = assistant.database()
    if db.corrupt is not None:
        print(f"warning: {corrupt_error(db.path, db.corrupt).user_message()}", file=sys.stderr)


# ---- schedule ------------------------------------------------------------------------------------
def cmd_schedule(args) -> int:
    assistant = _assistant()
    try:
        if args.schedule_command == "cancel":
            result = assistant.cancel_schedule_item(args.id)
            print_json(result.to_dict()) if args.json else print(result.text)
            return 0
        if args.schedule_command == "run":
            return _run_scheduler(args)
        ctx = assistant.action_context()
        items = ctx.schedule.upcoming()
        _warn_if_damaged(assistant)
        if args.json:
            print_json([dict(i.to_dict(ctx.tz), countdown=_countdown(i.due_at)) for i in items])
            return 0
        if not items:
            print("Nothing scheduled.")
        for item in items:
            local = ctx.local(item.due_at)
            print(
                f"#{item.id:<4} {item.kind:<8} {local.strftime('%a %d %b %H:%M'):<16} "
                f"{_countdown(item.due_at):<16} {item.title}"
            )
        return 0
    finally:
        assistant.close()


def _run_scheduler(args) -> int:
    """``schedule run``: fire reminders in the foreground (notifications via notify-send) until Ctrl-C."""
    assistant = _assistant(record_history=True)
    tz = assistant.timezone()

    def show(firing) -> None:
        stamp = datetime.now().strftime("%H:%M:%S")
        if args.json:
            print_json(
                {"fired_at": stamp, "message": firing.message(tz), **firing.item.to_dict(tz), "missed": firing.missed}
            )
            sys.stdout.flush()  # shown before the item is marked fired (a pipe's buffer dies with a kill)
        else:
            print(f"{stamp} {firing.message(tz)}", flush=True)

    try:
        if args.once:
            scheduler = Scheduler(ScheduleStore(assistant.database()), show)
            fired = scheduler.fire_due()
            if not fired and not args.json:
                print("Nothing due.")
            return 0
        assistant.start_scheduler(on_fire=show)
        if not args.json:
            print("Scheduler running; Ctrl-C stops it.", flush=True)
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            return 0
    finally:
        assistant.close()


# ---- notes ---------------------------------------------------------------------------------------
def cmd_notes(args) -> int:
    assistant = _assistant()
    try:
        if args.notes_command == "export":
            count = assistant.export_notes(args.file)
            print(f"Exported {count} note{'s' if count != 1 else ''} to {args.file}")
            return 0
        if args.notes_command == "delete":
            print(assistant.delete_note(args.id).text)
            return 0
        ctx = assistant.action_context()
        notes = ctx.notes.list()
        _warn_if_damaged(assistant)
        if args.json:
            print_json([n.to_dict(ctx.tz) for n in notes])
            return 0
        if not notes:
            print("No notes yet.")
        for note in notes:
            print(f"#{note.id:<4} {ctx.local(note.created_at).strftime('%a %d %b %H:%M')}  {note.text}")
        return 0
    finally:
        assistant.close()


# ---- calendar ------------------------------------------------------------------------------------
def cmd_calendar(args) -> int:
    assistant = _assistant()
    try:
        ctx = assistant.action_context()
        if args.calendar_command == "export":
            count = export_ics(ctx.schedule, args.file)
            print(f"Exported {count} event{'s' if count != 1 else ''} to {args.file}")
            return 0
        if args.calendar_command == "import":
            report = import_ics(ctx.schedule, args.file, ctx.tz)
            print_json(report.to_dict()) if args.json else print(report.sentence())
            return 0
        events = ctx.schedule.events()
        _warn_if_damaged(assistant)
        if args.json:
            print_json([e.to_dict(ctx.tz) for e in events])
            return 0
        if not events:
            print("No events.")
        for ev in events:
            start = ctx.local(ev.due_at)
            when = start.strftime("%a %d %b %Y") + ("" if ev.all_day else start.strftime(" %H:%M"))
            where = f"  @ {ev.location}" if ev.location else ""
            print(f"#{ev.id:<4} {when:<22} {ev.title}{where}")
        return 0
    finally:
        assistant.close()


def cmd_undo(args) -> int:
    assistant = _assistant()
    try:
        result = assistant.undo()
        print_json(result.to_dict()) if args.json else print(result.text)
        return 0 if result.kind == "done" else 2
    finally:
        assistant.close()


def add_parsers(sub) -> None:
    """Add ``schedule``, ``notes``, ``calendar`` and ``undo`` to the CLI's sub-parsers."""
    s = sub.add_parser("schedule", help="upcoming reminders, timers, alarms and events; cancel; run the scheduler")
    s.add_argument("--json", action="store_true")
    inner = s.add_subparsers(dest="schedule_command")
    c = inner.add_parser("cancel", help="cancel one item by its id (see `jarvis-desktop schedule`)")
    c.add_argument("id", type=positive_id, metavar="ID")
    c.add_argument("--json", action="store_true")
    r = inner.add_parser("run", help="fire items in the foreground (notify-send) until Ctrl-C")
    r.add_argument("--once", action="store_true", help="fire what is due now (missed ones too), then exit")
    r.add_argument("--json", action="store_true", help="one JSON object per fired item")
    s.set_defaults(func=cmd_schedule, schedule_command=None)

    s = sub.add_parser("notes", help="list, export or delete notes")
    s.add_argument("--json", action="store_true")
    inner = s.add_subparsers(dest="notes_command")
    e = inner.add_parser("export", help="write all notes to a Markdown file")
    e.add_argument("file", metavar="FILE.md")
    d = inner.add_parser("delete", help="delete one note by its id")
    d.add_argument("id", type=positive_id, metavar="ID")
    s.set_defaults(func=cmd_notes, notes_command=None)

    s = sub.add_parser("calendar", help="list events; export or import iCalendar (.ics)")
    s.add_argument("--json", action="store_true")
    inner = s.add_subparsers(dest="calendar_command")
    e = inner.add_parser("export", help="write all events to an .ics file")
    e.add_argument("file", metavar="FILE.ics")
    i = inner.add_parser("import", help="add the events of an .ics file (already imported UIDs are skipped)")
    i.add_argument("file", metavar="FILE.ics")
    i.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_calendar, calendar_command=None)

    s = sub.add_parser("undo", help="reverse the last action that can be undone")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_undo)
