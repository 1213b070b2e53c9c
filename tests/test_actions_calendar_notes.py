"""Calendar events (.ics round trip with the icalendar library) and notes (Markdown export, undo)."""

from __future__ import annotations

import json
import os
import time
from datetime import datetime, timedelta, timezone

import pytest
from actions_helpers import act, ctx_fixture, parsed  # noqa: F401 - ctx_fixture provides "ctx"
from cli_helpers import run_cli

from jarvis_desktop.actions import ActionContext
from jarvis_desktop.actions.calendar import export_ics, import_ics
from jarvis_desktop.actions.notes import export_notes
from jarvis_desktop.errors import BadInputError
from jarvis_desktop.store.db import Database
from jarvis_desktop.store.schedule import ScheduleStore

NOW = datetime(2030, 3, 4, 18, 5)


def test_calendar_set_stores_a_one_hour_event(ctx):
    r = act(
        ctx,
        parsed(
            "schedule a meeting with Ana next tuesday at 2 pm",
            "calendar_set",
            ["next_tuesday", "at_2pm"],
            "2030-03-12T14:00",
            "meeting with Ana",
        ),
        NOW,
    )
    assert r.kind == "done" and r.text == "Event added: meeting with Ana — Tue 12 Mar 14:00."
    ev = ctx.schedule.get(r.data["id"])
    assert ev.kind == "event" and ev.uid.endswith("@jarvis-desktop")
    assert ev.end_at - ev.due_at == timedelta(hours=1)
    listed = act(
        ctx, parsed("what do I have next tuesday", "schedule_query", ["next_tuesday"], "2030-03-12T09:00"), NOW
    )
    assert "event “meeting with Ana”" in listed.text


@pytest.mark.slow
def test_ics_export_then_import_round_trips_every_field(ctx, tmp_path):
    store = ctx.schedule
    start = datetime(2030, 5, 6, 9, 30, tzinfo=timezone.utc)
    store.add(
        "event",
        "Dentist; bring forms",
        start,
        end_at=start + timedelta(minutes=45),
        uid="dentist-1@test",
        location="Rua Augusta 12, Lisbon",
        description="Line one\nline two",
    )
    store.add(
        "event",
        "Holiday",
        datetime(2030, 8, 1, 0, 0).astimezone(),
        end_at=datetime(2030, 8, 3).astimezone(),
        all_day=True,
        uid="holiday@test",
    )
    store.add("reminder", "not an event", start)  # reminders are not exported
    path = tmp_path / "cal.ics"
    assert export_ics(store, path) == 2
    text = path.read_text()
    assert text.startswith("BEGIN:VCALENDAR") and "SUMMARY:Dentist\\; bring forms" in text

    with Database(tmp_path / "other.sqlite3") as db:  # another machine's Jarvis
        other = ScheduleStore(db)
        report = import_ics(other, path)
        assert len(report.added) == 2 and report.skipped_existing == 0
        got = {e.uid: e for e in other.events()}
        dentist = got["dentist-1@test"]
        assert (dentist.title, dentist.due_at, dentist.end_at, dentist.location, dentist.description) == (
            "Dentist; bring forms",
            start,
            start + timedelta(minutes=45),
            "Rua Augusta 12, Lisbon",
            "Line one\nline two",
        )
        holiday = got["holiday@test"]
        assert holiday.all_day and holiday.local_due().date().isoformat() == "2030-08-01"
        again = import_ics(other, path)  # importing twice adds nothing
        assert again.added == [] and again.skipped_existing == 2


def test_import_of_a_past_event_does_not_notify_and_bad_files_are_refused(ctx, tmp_path):
    ics = tmp_path / "old.ics"
    ics.write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\nUID:old@test\r\n"
        "DTSTAMP:20200101T000000Z\r\nDTSTART:20200101T100000Z\r\nDTEND:20200101T110000Z\r\n"
        "SUMMARY:Old\r\nRRULE:FREQ=WEEKLY\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    report = import_ics(ctx.schedule, ics)
    assert report.recurring == 1 and "recurring" in report.sentence()
    assert ctx.schedule.get(report.added[0]).status == "fired"  # already over: no "missed" notification
    assert ctx.schedule.pending() == []
    bad = tmp_path / "bad.ics"
    bad.write_text("this is not a calendar")
    with pytest.raises(BadInputError, match="not an iCalendar"):
        import_ics(ctx.schedule, bad)
    with pytest.raises(BadInputError, match="cannot read"):
        import_ics(ctx.schedule, tmp_path / "missing.ics")


def test_note_is_saved_exported_as_markdown_and_undo_removes_it(ctx, tmp_path):
    r = act(ctx, parsed("take a note: buy milk", "note_create", payload="buy milk"), NOW)
    assert r.kind == "done" and r.text == "Noted: buy milk."
    act(
        ctx,
        parsed(
            "note that the wifi password is on the fridge", "note_create", payload="the wifi password is on the fridge"
        ),
        NOW,
    )
    assert [n.text for n in ctx.notes.list()] == ["the wifi password is on the fridge", "buy milk"]
    out = tmp_path / "notes.md"
    assert export_notes(ctx.notes, out) == 2
    md = out.read_text()
    assert md.startswith("# Notes\n") and "## " in md
    assert md.index("buy milk") < md.index("wifi password")  # oldest first
    undo = act(ctx, parsed("undo", "general_chat"), NOW)
    assert undo.kind == "done" and [n.text for n in ctx.notes.list()] == ["buy milk"]


def test_empty_note_is_refused(ctx):
    r = act(ctx, parsed("take a note", "note_create"), NOW)
    assert r.kind == "refused" and "What should the note say" in r.text
    assert ctx.notes.list() == []


def test_context_without_a_database_opens_the_app_database(tmp_path, monkeypatch):
    monkeypatch.setenv("JARVIS_DESKTOP_HOME", str(tmp_path))
    c = ActionContext(now=NOW)
    act(c, parsed("take a note: call the bank", "note_create", payload="call the bank"), NOW)
    c.close()
    assert (tmp_path / "jarvis.sqlite3").is_file()
    with Database(tmp_path / "jarvis.sqlite3") as db:
        assert [r["text"] for r in db.query("SELECT text FROM notes")] == ["call the bank"]


def _vevent(uid: str, start: str, summary: str) -> str:
    """One VEVENT as iCalendar text (6 lines)."""
    return (
        f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20200101T000000Z\r\nDTSTART:{start}\r\n"
        f"SUMMARY:{summary}\r\nEND:VEVENT\r\n"
    )


def test_cli_calendar_import_is_all_or_nothing_and_names_the_bad_event(tmp_path):
    env = {"JARVIS_DESKTOP_HOME": str(tmp_path / "home")}
    ics = tmp_path / "mixed.ics"
    ics.write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n"
        + _vevent("good-1@test", "20300101T100000Z", "Good one")
        + _vevent("bad@test", "not-a-date", "Broken")
        + _vevent("good-2@test", "20300102T100000Z", "Good two")
        + "END:VCALENDAR\r\n"
    )
    done = run_cli("calendar", "import", str(ics), env=env)
    assert done.returncode == 2, done.stderr
    assert "event 2" in done.stderr and "line 10" in done.stderr and "bad@test" in done.stderr
    assert "nothing was imported" in done.stderr
    listed = run_cli("calendar", "--json", env=env)
    assert listed.returncode == 0 and json.loads(listed.stdout) == []
    ics.write_text(ics.read_text().replace("not-a-date", "20300103T100000Z"))  # fixed: all three go in
    done = run_cli("calendar", "import", str(ics), "--json", env=env)
    assert done.returncode == 0 and json.loads(done.stdout)["added"] == 3


def test_cli_calendar_import_refuses_devices_fifos_and_huge_files_quickly(tmp_path):
    env = {"JARVIS_DESKTOP_HOME": str(tmp_path / "home")}
    fifo = tmp_path / "pipe.ics"
    os.mkfifo(fifo)
    huge = tmp_path / "huge.ics"
    with huge.open("wb") as handle:  # 25 MB of real (repeated) events
        event = _vevent("x@test", "20300101T100000Z", "Filler").encode()
        handle.write(b"BEGIN:VCALENDAR\r\n" + event * (25 * 1024 * 1024 // len(event)) + b"END:VCALENDAR\r\n")
    for path, message in (("/dev/zero", "device"), (str(fifo), "FIFO"), (str(huge), "larger than 20 MB")):
        started = time.monotonic()
        done = run_cli("calendar", "import", path, env=env, timeout=60)
        assert done.returncode == 2 and message in done.stderr, (path, done.stderr)
        assert time.monotonic() - started < 30
