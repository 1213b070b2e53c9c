"""The operations the CLI and the GUI share live once on the Assistant: delete a note, cancel a scheduled
item, undo (each recorded in the action log so the one undo path reverses it)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from jarvis_desktop.assistant import Assistant
from jarvis_desktop.config import Settings
from jarvis_desktop.errors import BadInputError


@pytest.fixture()
def assistant(tmp_path, monkeypatch):
    monkeypatch.setenv("JARVIS_DESKTOP_HOME", str(tmp_path))
    settings = Settings()
    settings.actions.sound = False
    settings.actions.notify_command = False
    engine = Assistant(settings, record_history=False)
    yield engine
    engine.close()


def test_delete_note_records_its_undo_and_undo_restores_it(assistant):
    notes = assistant.action_context().notes
    note = notes.add("buy milk")
    result = assistant.delete_note(note.id)
    assert result.kind == "done" and result.text == f"Deleted note #{note.id}."
    assert result.summary == "Deleted note: buy milk" and result.data["deleted"] == [note.id]
    assert notes.list() == []
    undone = assistant.undo()
    assert undone.kind == "done" and "restored 1 note" in undone.text
    assert [n.id for n in notes.list()] == [note.id]
    assert assistant.undo().kind == "refused"  # nothing left to undo


def test_delete_unknown_or_deleted_note_is_bad_input(assistant):
    with pytest.raises(BadInputError):
        assistant.delete_note(999)
    note = assistant.action_context().notes.add("x")
    assistant.delete_note(note.id)
    with pytest.raises(BadInputError):
        assistant.delete_note(note.id)


def test_cancel_schedule_item_records_its_undo(assistant):
    schedule = assistant.action_context().schedule
    item = schedule.add("reminder", "call mom", datetime.now(timezone.utc) + timedelta(hours=2))
    result = assistant.cancel_schedule_item(item.id)
    assert result.kind == "done" and result.data["cancelled"] == [item.id]
    assert schedule.upcoming() == []
    with pytest.raises(BadInputError):
        assistant.cancel_schedule_item(item.id)
    assert assistant.undo().kind == "done"
    assert [i.id for i in schedule.upcoming()] == [item.id]


def test_export_notes_counts_and_writes_markdown(assistant, tmp_path):
    assistant.action_context().notes.add("buy milk")
    out = tmp_path / "notes.md"
    assert assistant.export_notes(out) == 1
    assert "buy milk" in out.read_text(encoding="utf-8")
