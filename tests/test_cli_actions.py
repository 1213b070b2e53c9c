"""The action sub-commands of the real CLI: do (with --dry-run), schedule, notes, calendar, undo."""

from __future__ import annotations

import json

import pytest
from cli_helpers import run_cli

pytestmark = pytest.mark.slow

NOW = "2030-03-04T18:05"  # a Monday evening in the future of any test run


@pytest.fixture()
def env(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "settings.toml").write_text("[actions]\nsound = false\nnotify_command = false\n")
    return {"JARVIS_DESKTOP_HOME": str(home)}


def do(env, text, *flags):
    res = run_cli("do", text, "--now", NOW, "--json", *flags, env=env)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


def test_remind_me_to_call_mom_is_stored_listed_and_cancelled(env):
    dry = do(env, "remind me to call mom tomorrow at three pm", "--dry-run")
    assert dry["reply"]["kind"] == "dry_run" and "call mom" in dry["reply"]["text"]
    assert json.loads(run_cli("schedule", "--json", env=env).stdout) == []  # dry run stored nothing

    out = do(env, "remind me to call mom tomorrow at three pm")
    assert out["intent"] == "reminder_set" and out["when"] == "2030-03-05T15:00"
    assert out["reply"]["kind"] == "done"
    assert out["reply"]["text"] == "Reminder set: call mom — tomorrow 15:00."
    listed = json.loads(run_cli("schedule", "--json", env=env).stdout)
    assert [(i["kind"], i["title"], i["due_at"][:16]) for i in listed] == [("reminder", "call mom", "2030-03-05T15:00")]
    text = run_cli("schedule", env=env).stdout
    assert "call mom" in text and f"#{listed[0]['id']}" in text

    res = run_cli("schedule", "cancel", str(listed[0]["id"]), env=env)
    assert res.returncode == 0 and res.stdout.startswith("Cancelled the reminder “call mom”")
    assert json.loads(run_cli("schedule", "--json", env=env).stdout) == []
    again = run_cli("schedule", "cancel", str(listed[0]["id"]), env=env)
    assert again.returncode == 2 and "already cancelled" in again.stderr
    assert run_cli("schedule", "cancel", "999", env=env).returncode == 2

    undo = run_cli("undo", env=env)  # undo works across CLI calls: the cancel is reversed
    assert undo.returncode == 0 and undo.stdout.startswith("Undone: Cancelled")
    assert len(json.loads(run_cli("schedule", "--json", env=env).stdout)) == 1


def test_notes_from_do_listed_and_exported(env, tmp_path):
    out = do(env, "take a note: buy milk")
    assert out["intent"] == "note_create" and out["reply"]["text"] == "Noted: buy milk."
    notes = json.loads(run_cli("notes", "--json", env=env).stdout)
    assert [n["text"] for n in notes] == ["buy milk"]
    md = tmp_path / "notes.md"
    res = run_cli("notes", "export", str(md), env=env)
    assert res.returncode == 0 and "- " in md.read_text() and "buy milk" in md.read_text()


def test_calendar_export_and_import(env, tmp_path):
    out = do(env, "schedule a meeting with the design team next tuesday at two pm")
    assert out["intent"] == "calendar_set" and out["reply"]["kind"] == "done"
    ics = tmp_path / "cal.ics"
    assert run_cli("calendar", "export", str(ics), env=env).returncode == 0
    assert "SUMMARY:meeting with the design team" in ics.read_text()
    other = dict(env, JARVIS_DESKTOP_HOME=str(tmp_path / "other"))
    res = run_cli("calendar", "import", str(ics), "--json", env=other)
    assert res.returncode == 0 and json.loads(res.stdout)["added"] == 1
    events = json.loads(run_cli("calendar", "--json", env=other).stdout)
    assert [e["title"] for e in events] == ["meeting with the design team"]
    bad = tmp_path / "bad.ics"
    bad.write_text("hello")
    res = run_cli("calendar", "import", str(bad), env=other)
    assert res.returncode == 2 and res.stderr.startswith("error:") and "iCalendar" in res.stderr


def test_past_time_is_refused_from_the_cli(env):
    out = do(env, "remind me to call mom yesterday at three pm")
    assert out["reply"]["kind"] == "refused" and "already passed" in out["reply"]["text"]


def test_schedule_run_once_fires_what_is_due(env):
    res = run_cli("do", "set a timer for one minute", "--now", "2020-01-01T10:00", "--json", env=env)
    assert res.returncode == 0, res.stderr  # a simulated past "now": the timer is long overdue
    fired = run_cli("schedule", "run", "--once", "--json", env=env)
    assert fired.returncode == 0, fired.stderr
    rows = [json.loads(line) for line in fired.stdout.splitlines()]
    assert len(rows) == 1 and rows[0]["kind"] == "timer" and rows[0]["missed"]
    assert "(missed at" in rows[0]["message"]
    assert run_cli("schedule", "run", "--once", env=env).stdout.strip() == "Nothing due."
