"""Schedule and Notes tabs, scheduler notifications and Undo in the real window (offscreen), on the real
engine and a real SQLite file. The models are not preloaded (the NLU loads on the first typed command)."""

from __future__ import annotations

import os

os.environ["QT_QPA_PLATFORM"] = "offscreen"  # before any QApplication exists

from datetime import datetime, timedelta, timezone

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from actions_helpers import quiet_settings

from jarvis_desktop.assistant import Assistant
from jarvis_desktop.config import database_path
from jarvis_desktop.store.db import Database
from jarvis_desktop.store.notes import NoteStore
from jarvis_desktop.store.schedule import ScheduleStore
from jarvis_desktop.ui.main_window import MainWindow


class NoPreloadAssistant(Assistant):
    """The real Assistant; only the start-up preloading of Whisper and the chat model is skipped."""

    def warm_up(self) -> None:
        pass


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("JARVIS_DESKTOP_HOME", str(tmp_path))
    return tmp_path


@pytest.fixture
def window(qtbot, home):
    windows = []

    def make() -> MainWindow:
        w = MainWindow(assistant_factory=lambda: NoPreloadAssistant(quiet_settings()), use_tray=False)
        qtbot.addWidget(w)
        w.show()
        qtbot.waitUntil(lambda: w.engine_ready, timeout=20_000)
        windows.append(w)
        return w

    yield make
    for w in windows:
        w.shutdown()


def seed(**kw):
    """Write items/notes straight into the database file, as an earlier session or the CLI would."""
    with Database(database_path()) as db:
        schedule, notes = ScheduleStore(db), NoteStore(db)
        ids = [schedule.add(kind, title, due).id for kind, title, due in kw.get("items", [])]
        note_ids = [notes.add(text).id for text in kw.get("notes", [])]
    return ids, note_ids


def in_seconds(s: float) -> datetime:
    return datetime.now(timezone.utc) + timedelta(seconds=s)


def test_schedule_tab_lists_items_with_countdowns_and_cancel_works(qtbot, window):
    (alarm, reminder), _ = seed(items=[("alarm", "", in_seconds(3600 * 5)), ("reminder", "call mom", in_seconds(600))])
    w = window()
    qtbot.waitUntil(lambda: len(w.schedule_view.rows()) == 2, timeout=5000)
    rows = w.schedule_view.rows()
    assert [r["id"] for r in rows] == [reminder, alarm]  # soonest first
    assert rows[0]["what"] == "call mom" and rows[0]["left"].startswith(
        ("in 9 min", "in 10 min")
    )  # due times round up to the second
    assert w.tabs.tabText(1) == "Schedule (2)"
    w.schedule_view.cancel_button(reminder).click()
    qtbot.waitUntil(lambda: [r["id"] for r in w.schedule_view.rows()] == [alarm], timeout=5000)
    assert "Cancelled the reminder “call mom”" in w.chat.messages()[-1][1]
    w.undo_button.click()  # undo brings it back
    qtbot.waitUntil(lambda: len(w.schedule_view.rows()) == 2, timeout=5000)


@pytest.mark.slow
def test_a_due_reminder_and_a_missed_one_reach_the_window(qtbot, window):
    seed(items=[("reminder", "stretch", in_seconds(-900)), ("timer", "3 seconds", in_seconds(3))])
    w = window()  # the missed one fires at start-up, before the models are ready
    qtbot.waitUntil(lambda: w.last_fired is not None, timeout=5000)
    first = w.last_fired
    assert first.item.title == "stretch" and first.missed
    qtbot.waitUntil(lambda: w.last_fired is not None and w.last_fired.item.kind == "timer", timeout=8000)
    assert not w.last_fired.missed
    texts = [t for role, t in w.chat.messages() if role == "assistant"]
    assert any(t.startswith("Reminder: stretch (missed at") for t in texts)
    assert "Timer finished: 3 seconds" in texts
    qtbot.waitUntil(lambda: w.schedule_view.rows() == [], timeout=5000)


def test_notes_tab_shows_deletes_undoes_and_exports(qtbot, window, tmp_path):
    _, (milk, bank) = seed(notes=["buy milk", "call the bank"])
    w = window()
    qtbot.waitUntil(lambda: w.notes_view.texts() == ["call the bank", "buy milk"], timeout=5000)
    w.notes_view.select(1)
    w.notes_view.delete_button.click()
    qtbot.waitUntil(lambda: w.notes_view.texts() == ["call the bank"], timeout=5000)
    w.undo_last()
    qtbot.waitUntil(lambda: w.notes_view.texts() == ["call the bank", "buy milk"], timeout=5000)
    out = tmp_path / "notes.md"
    w.export_notes(str(out))
    qtbot.waitUntil(out.exists, timeout=5000)
    assert "buy milk" in out.read_text() and "Exported 2 notes" in w.status_message()


@pytest.mark.slow
def test_typed_note_and_undo_update_the_notes_tab(qtbot, window):
    w = window()
    assert w.submit_text("take a note: buy oat milk")
    qtbot.waitUntil(lambda: not w.busy, timeout=30_000)
    assert w.last_turn.reply.kind == "done", w.last_turn.reply.text
    qtbot.waitUntil(lambda: w.notes_view.texts() == ["buy oat milk"], timeout=5000)
    assert w.submit_text("undo")
    qtbot.waitUntil(lambda: not w.busy, timeout=30_000)
    assert w.last_turn.reply.text.startswith("Undone: Note: buy oat milk")
    qtbot.waitUntil(lambda: w.notes_view.texts() == [], timeout=5000)


@pytest.mark.slow
def test_a_scheduler_that_cannot_start_is_shown_not_silent(qtbot, home):
    """An unusable database (here a directory where the file should be) stops the scheduler: the window
    says that reminders will not fire instead of silently never firing them."""
    database_path().mkdir(parents=True)
    w = MainWindow(assistant_factory=lambda: NoPreloadAssistant(quiet_settings()), use_tray=False)
    qtbot.addWidget(w)
    errors: list[str] = []
    w.error_shown.connect(errors.append)
    w.show()
    try:
        qtbot.waitUntil(
            lambda: any(e.startswith("Reminders, timers and alarms will not fire") for e in errors), timeout=15_000
        )
    finally:
        w.shutdown()
