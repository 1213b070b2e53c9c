"""The conversations sidebar: New chat, a search field and the list of conversations (most recent first).

The sidebar only renders :class:`~jarvis_desktop.store.conversations.ConversationRecord` lists and reports what
the user asked for with signals; the window runs the engine calls on its worker thread:

* ``new_requested()``: the New chat button (or Ctrl+N in the window);
* ``selected(int)``: a conversation clicked;
* ``rename_requested(int, str)``: a title edited in place (double-click, F2 or "Rename");
* ``delete_requested(int)``: "Delete" in the context menu;
* ``export_requested(int)``: "Export…" in the context menu (the window asks where);
* ``search_changed(str)``: the search text, 250 ms after the last key.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from jarvis_desktop.store.conversations import ConversationRecord

ID_ROLE = Qt.ItemDataRole.UserRole


class ConversationSidebar(QWidget):
    """New chat, search, and the conversation list (see the module docstring for its signals)."""

    new_requested = Signal()
    selected = Signal(int)
    rename_requested = Signal(int, str)
    delete_requested = Signal(int)
    export_requested = Signal(int)
    search_changed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("conversationSidebar")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.setSpacing(6)
        self.new_button = QPushButton("New chat")
        self.new_button.setObjectName("newChat")
        self.new_button.setToolTip("Start a new conversation (Ctrl+N)")
        self.new_button.clicked.connect(self.new_requested.emit)
        layout.addWidget(self.new_button)
        self.search = QLineEdit()
        self.search.setObjectName("conversationSearch")
        self.search.setPlaceholderText("Search chats…")
        self.search.setClearButtonEnabled(True)
        layout.addWidget(self.search)
        self.list = QListWidget()
        self.list.setObjectName("conversationList")
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)  # long titles end in "…"; the tooltip has more
        self.list.setEditTriggers(QListWidget.EditTrigger.DoubleClicked | QListWidget.EditTrigger.EditKeyPressed)
        layout.addWidget(self.list, 1)
        self.current_id: int | None = None
        self._filling = False
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(250)
        self._search_timer.timeout.connect(lambda: self.search_changed.emit(self.search.text().strip()))
        self.search.textChanged.connect(lambda _text: self._search_timer.start())
        self.list.itemClicked.connect(self._on_clicked)
        self.list.itemChanged.connect(self._on_item_changed)
        self.list.customContextMenuRequested.connect(self._on_menu)

    def show_conversations(self, records: list[ConversationRecord], current_id: int | None) -> None:
        """Replace the list with ``records`` (most recent first) and highlight ``current_id``."""
        self._filling = True
        self.current_id = current_id
        self.list.clear()
        for record in records:
            item = QListWidgetItem(record.title or "New chat")
            item.setData(ID_ROLE, record.id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
            local = record.updated_at.astimezone()
            item.setToolTip(f"{record.title}\n{record.message_count} messages · last used {local:%Y-%m-%d %H:%M}")
            self.list.addItem(item)
            if record.id == current_id:
                item.setSelected(True)
                self.list.setCurrentItem(item)
        self._filling = False

    def titles(self) -> list[str]:
        """The titles shown, top to bottom."""
        return [self.list.item(i).text() for i in range(self.list.count())]

    def item_for(self, conversation_id: int) -> QListWidgetItem | None:
        """The list row of a conversation, or None when it is not shown (filtered out)."""
        for i in range(self.list.count()):
            item = self.list.item(i)
            if item.data(ID_ROLE) == conversation_id:
                return item
        return None

    def _on_clicked(self, item: QListWidgetItem) -> None:
        conversation_id = int(item.data(ID_ROLE))
        if conversation_id != self.current_id:
            self.selected.emit(conversation_id)

    def _on_item_changed(self, item: QListWidgetItem) -> None:
        if self._filling:
            return
        title = " ".join(item.text().split())
        if title:
            self.rename_requested.emit(int(item.data(ID_ROLE)), title)

    def _on_menu(self, pos: QPoint) -> None:
        item = self.list.itemAt(pos)
        if item is None:
            return
        conversation_id = int(item.data(ID_ROLE))
        menu = QMenu(self)
        menu.addAction("Rename", lambda: self.list.editItem(item))
        menu.addAction("Export…", lambda: self.export_requested.emit(conversation_id))
        menu.addSeparator()
        menu.addAction("Delete", lambda: self.delete_requested.emit(conversation_id))
        menu.popup(self.list.viewport().mapToGlobal(pos))
