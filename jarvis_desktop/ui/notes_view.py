"""The Notes tab: the user's notes, newest first, with Delete and Export-to-Markdown.

Pure view: the window feeds it with :meth:`NotesView.set_notes` (from a ``NotesListWorker``) and turns
``delete_requested(id)``, ``export_requested(path)`` and ``refresh_requested()`` into engine jobs.
"""

from __future__ import annotations

from datetime import tzinfo

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from jarvis_desktop.store.notes import Note


class NotesView(QWidget):
    """Signals: ``delete_requested(int)``, ``export_requested(str)`` (a .md path), ``refresh_requested()``."""

    delete_requested = Signal(int)
    export_requested = Signal(str)
    refresh_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("notesView")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 8, 4, 4)
        top = QHBoxLayout()
        self.title = QLabel("Notes")
        self.title.setObjectName("sectionTitle")
        top.addWidget(self.title, 1)
        self.delete_button = QPushButton("Delete")
        self.delete_button.setEnabled(False)
        self.delete_button.clicked.connect(self._delete_selected)
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip("Save all notes as a Markdown file")
        self.export_button.clicked.connect(self._choose_export_path)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh_requested.emit)
        for button in (self.delete_button, self.export_button, self.refresh_button):
            top.addWidget(button)
        layout.addLayout(top)
        self.list = QListWidget()
        self.list.setObjectName("notesList")
        self.list.setWordWrap(True)
        self.list.currentItemChanged.connect(lambda cur, _prev: self.delete_button.setEnabled(cur is not None))
        layout.addWidget(self.list, 1)
        self.empty_hint = QLabel("No notes yet. Try “take a note: buy milk”.")
        self.empty_hint.setObjectName("emptyHint")
        self.empty_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.empty_hint)
        self.set_notes([])

    def set_notes(self, notes: list[Note], tz: tzinfo | None = None) -> None:
        """Show ``notes`` (``Note``: ``id``, ``text``, ``created_at`` aware UTC), in the order given."""
        self.list.clear()
        for note in notes:
            local = note.created_at.astimezone(tz) if tz else note.created_at.astimezone()
            item = QListWidgetItem(f"{note.text}\n{local.strftime('%a %d %b %Y %H:%M')}")
            item.setData(Qt.ItemDataRole.UserRole, note.id)
            self.list.addItem(item)
        self.empty_hint.setVisible(not notes)
        self.list.setVisible(bool(notes))
        self.delete_button.setEnabled(False)

    def texts(self) -> list[str]:
        """The note texts shown, top to bottom (test hook)."""
        return [self.list.item(i).text().split("\n", 1)[0] for i in range(self.list.count())]

    def select(self, row: int) -> None:
        """Select the note in ``row`` (test hook and keyboard users)."""
        self.list.setCurrentRow(row)

    def _delete_selected(self) -> None:
        item = self.list.currentItem()
        if item is not None:
            self.delete_requested.emit(int(item.data(Qt.ItemDataRole.UserRole)))

    def _choose_export_path(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export notes", "notes.md", "Markdown (*.md);;All files (*)")
        if path:
            self.export_requested.emit(path)
