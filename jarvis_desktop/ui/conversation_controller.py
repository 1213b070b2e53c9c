"""Wires the conversations sidebar to the engine: every call runs as a job on the engine thread
(:mod:`.conversation_workers`) and the answers are rendered in the sidebar and the chat panel.

The window owns one :class:`ConversationController`; it refreshes the list after each turn (a first message
names its conversation and moves it to the top) and disables the sidebar while a turn runs (the engine answers
one job at a time, so a switch would wait for the reply anyway).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from jarvis_desktop.store.conversations import ConversationRecord
from jarvis_desktop.store.history import ChatMessageRecord
from jarvis_desktop.ui.chat_panel import ChatPanel
from jarvis_desktop.ui.conversation_sidebar import ConversationSidebar
from jarvis_desktop.ui.conversation_workers import (
    ConversationWorker,
    DeleteConversationWorker,
    ExportConversationWorker,
    ListConversationsWorker,
    NewConversationWorker,
    RenameConversationWorker,
    SwitchConversationWorker,
)
from jarvis_desktop.ui.workers import Worker

Submit = Callable[[Worker], object]


class ConversationController(QObject):
    """Runs the sidebar's requests on the engine thread and renders their results.

    Args:
        sidebar: the :class:`ConversationSidebar`; chat: the :class:`ChatPanel`;
        submit: hands a job to the engine thread (``EngineThread.submit``);
        on_error: shows an error message (the window's ``show_error``).

    Signals: ``exported(str)`` with the file written; ``switched()`` after another conversation is shown.
    """

    exported = Signal(str)
    switched = Signal()

    def __init__(
        self,
        sidebar: ConversationSidebar,
        chat: ChatPanel,
        submit: Submit,
        on_error: Callable[[str], None],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.sidebar = sidebar
        self.chat = chat
        self._submit = submit
        self._on_error = on_error
        self.search = ""
        self.records: list[ConversationRecord] = []
        self.current_id: int | None = None
        sidebar.new_requested.connect(self.new_conversation)
        sidebar.selected.connect(self.switch_to)
        sidebar.rename_requested.connect(self.rename)
        sidebar.delete_requested.connect(self._ask_delete)
        sidebar.export_requested.connect(self._ask_export)
        sidebar.search_changed.connect(self.set_search)

    # ---- requests ------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Re-read the list (after a turn, at start-up)."""
        self._run(ListConversationsWorker(self.search))

    def new_conversation(self) -> None:
        """Start a new chat and show it (empty)."""
        self._run(NewConversationWorker(self.search))

    def switch_to(self, conversation_id: int) -> None:
        """Show conversation ``conversation_id`` and make it the one new messages go to."""
        self._run(SwitchConversationWorker(conversation_id, self.search))

    def rename(self, conversation_id: int, title: str) -> None:
        """Give a conversation a new title."""
        self._run(RenameConversationWorker(conversation_id, title, self.search))

    def delete(self, conversation_id: int) -> None:
        """Delete a conversation and its messages (no question asked: the menu asked already)."""
        self._run(DeleteConversationWorker(conversation_id, self.search))

    def export(self, conversation_id: int, path: str | Path) -> None:
        """Write a conversation to ``path`` (``.md`` or ``.json``); ``exported(path)`` when written."""
        self._run(ExportConversationWorker(conversation_id, path, self.search))

    def set_search(self, text: str) -> None:
        """Filter the list by ``text`` (title or any message)."""
        self.search = text
        self.refresh()

    def set_enabled(self, on: bool) -> None:
        """Enable or disable the sidebar (off while a turn runs)."""
        self.sidebar.setEnabled(on)

    # ---- rendering -----------------------------------------------------------------------------
    def _run(self, worker: ConversationWorker) -> None:
        worker.listed.connect(self._on_listed)
        worker.messages.connect(self._on_messages)
        worker.exported.connect(self.exported.emit)
        worker.failed.connect(self._on_error)
        self._submit(worker)

    def _on_listed(self, records: list[ConversationRecord], current_id: object) -> None:
        self.records = list(records)
        self.current_id = current_id if isinstance(current_id, int) else None
        self.sidebar.show_conversations(self.records, self.current_id)

    def _on_messages(self, records: list[ChatMessageRecord]) -> None:
        self.chat.clear()
        self.chat.load_history(records)
        self.switched.emit()

    # ---- questions asked on the GUI thread (the user answers; nothing waits on I/O) ---------------
    def _parent_widget(self) -> QWidget | None:
        parent = self.sidebar.window()
        return parent if isinstance(parent, QWidget) else None

    def _title(self, conversation_id: int) -> str:
        return next((r.title for r in self.records if r.id == conversation_id), "this chat")

    def _ask_delete(self, conversation_id: int) -> None:
        answer = QMessageBox.question(
            self._parent_widget(),
            "Delete chat",
            f"Delete “{self._title(conversation_id)}” and all its messages? This cannot be undone.",
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.delete(conversation_id)

    def _ask_export(self, conversation_id: int) -> None:
        safe = "".join(c if c.isalnum() or c in " -_" else "_" for c in self._title(conversation_id)).strip()
        path, _ = QFileDialog.getSaveFileName(
            self._parent_widget(),
            "Export chat",
            str(Path.home() / f"{safe or 'chat'}.md"),
            "Markdown (*.md);;JSON (*.json)",
        )
        if path:
            self.export(conversation_id, path)
