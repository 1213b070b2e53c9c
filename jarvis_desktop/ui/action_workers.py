"""Engine-thread jobs for the Schedule and Notes views, undo, and the scheduler's bridge to Qt.

Each job is a :class:`~jarvis_desktop.ui.workers.Worker` submitted with ``EngineThread.submit``: it runs on
the engine thread (never blocking the GUI) and reports with signals. The scheduler runs on its own
thread; :class:`SchedulerBridge` is a GUI-thread QObject whose ``fired`` signal the scheduler emits, so Qt
queues each :class:`~jarvis_desktop.actions.scheduler.Firing` to the GUI thread.

The operations themselves (delete a note with its undo, cancel an item, undo, export) are the Assistant's,
the same ones the CLI calls; these jobs only run them off the GUI thread and report.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal

from jarvis_desktop.ui.workers import AssistantGetter, Worker


class SchedulerBridge(QObject):
    """``fired(object)``: a Firing, delivered on the GUI thread."""

    fired = Signal(object)


class StartSchedulerWorker(Worker):
    """Starts the Assistant's scheduler with ``bridge.fired.emit`` as its callback.

    ``desktop_notify``: also use notify-send (the GUI passes False when its tray shows the message).
    Signal ``started()``.
    """

    started = Signal()

    def __init__(self, bridge: SchedulerBridge, desktop_notify: bool) -> None:
        super().__init__()
        self.bridge = bridge
        self.desktop_notify = desktop_notify

    def execute(self, get: AssistantGetter) -> None:
        get().start_scheduler(on_fire=self.bridge.fired.emit, desktop_notify=self.desktop_notify)
        self.started.emit()


class ScheduleListWorker(Worker):
    """``finished(list, object)``: upcoming ScheduledItems (soonest first) and the user's zone (or None)."""

    finished = Signal(list, object)

    def execute(self, get: AssistantGetter) -> None:
        ctx = get().action_context()
        self.finished.emit(ctx.schedule.upcoming(), ctx.tz)


class CancelItemWorker(Worker):
    """Cancels one scheduled item by id: ``finished(object)`` with the ActionResult (undoable)."""

    finished = Signal(object)

    def __init__(self, item_id: int) -> None:
        super().__init__()
        self.item_id = item_id

    def execute(self, get: AssistantGetter) -> None:
        self.finished.emit(get().cancel_schedule_item(self.item_id))


class NotesListWorker(Worker):
    """``finished(list, object)``: notes (newest first) and the user's zone (or None)."""

    finished = Signal(list, object)

    def execute(self, get: AssistantGetter) -> None:
        ctx = get().action_context()
        self.finished.emit(ctx.notes.list(), ctx.tz)


class NoteDeleteWorker(Worker):
    """Deletes one note (soft delete, undo recorded): ``finished(int)`` with its id; ``failed`` for an unknown id."""

    finished = Signal(int)

    def __init__(self, note_id: int) -> None:
        super().__init__()
        self.note_id = note_id

    def execute(self, get: AssistantGetter) -> None:
        get().delete_note(self.note_id)
        self.finished.emit(self.note_id)


class NotesExportWorker(Worker):
    """Writes all notes to ``path`` as Markdown: ``finished(int, str)`` with the count and the path."""

    finished = Signal(int, str)

    def __init__(self, path: str | Path) -> None:
        super().__init__()
        self.path = str(path)

    def execute(self, get: AssistantGetter) -> None:
        self.finished.emit(get().export_notes(self.path), self.path)


class UndoWorker(Worker):
    """Reverses the last undoable action: ``finished(object)`` with the ActionResult."""

    finished = Signal(object)

    def execute(self, get: AssistantGetter) -> None:
        self.finished.emit(get().undo())
