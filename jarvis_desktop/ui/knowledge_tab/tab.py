"""The Knowledge tab: the folders Jarvis answers from, the index's status, pause/resume and a search box.

Layout: the folder list with Add folder… (a directory dialog) and Remove; a status line (files, notes and
messages, chunks, last update, files waiting, paused, vectors or BM25 only) with the indexer's progress; the files
that were skipped with their reasons; a search box whose results show title, place and snippet (double-click
opens the source). Every engine call goes through :class:`~.controller.KnowledgeController` (worker threads); the
GUI thread only renders. :meth:`attach` wires the tab to the main window (its engine thread hands over the
Assistant's knowledge service; a clicked source opens the file, or switches to the note or conversation).

Test hooks: ``add_folder(path)``, ``remove_folder(path)``, ``search(query)``, ``folders()``, ``status_text()``,
``problem_texts()``, ``result_texts()``, ``last_status``, ``last_results``, ``opened``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from jarvis_desktop.knowledge.types import Citation, IndexStatus, SearchHit
from jarvis_desktop.ui.knowledge_tab.controller import KnowledgeController
from jarvis_desktop.ui.knowledge_tab.sources import SourcesList, location_text, open_file
from jarvis_desktop.ui.knowledge_tab.workers import ChatSourceWorker, KnowledgeServiceWorker


def status_line(status: IndexStatus) -> str:
    """ "12 files · 30 notes and messages · 140 chunks · updated 14:02 · 3 waiting · paused"."""
    parts = [f"{status.files} file{'s' if status.files != 1 else ''}", f"{status.records} notes and messages"]
    parts.append(f"{status.chunks} chunks")
    if status.last_update is not None:
        local = status.last_update.astimezone()
        today = local.date() == datetime.now().astimezone().date()
        parts.append(f"updated {local:%H:%M}" if today else f"updated {local:%d %b %H:%M}")
    if status.pending:
        parts.append(f"{status.pending} waiting")
    if status.paused:
        parts.append("paused")
    if not status.vectors:
        parts.append("keyword search only" + (f" ({status.vectors_note})" if status.vectors_note else ""))
    return " · ".join(parts)


class KnowledgeTab(QWidget):
    """See the module doc. ``controller``: the :class:`KnowledgeController`. Signals: ``status_shown(object)`` after
    an :class:`IndexStatus` was rendered, ``results_shown(str, int)`` after a search's results were."""

    status_shown = Signal(object)
    results_shown = Signal(str, int)

    def __init__(self, controller: KnowledgeController | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("knowledgeTab")
        self.controller = controller or KnowledgeController(parent=self)
        self.last_status: IndexStatus | None = None
        self.last_results: list[SearchHit] = []
        self.opened: list[SearchHit] = []  # sources opened from here or a reply (test hook)
        self._window: Any = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)

        folders_row = QHBoxLayout()
        folders_row.addWidget(QLabel("Folders Jarvis answers from"), 1)
        self.add_button = QPushButton("Add folder…")
        self.add_button.clicked.connect(self._choose_folder)
        self.remove_button = QPushButton("Remove")
        self.remove_button.setEnabled(False)
        self.remove_button.clicked.connect(self._remove_selected)
        self.pause_button = QPushButton("Pause indexing")
        self.pause_button.setCheckable(True)
        self.pause_button.toggled.connect(self._on_pause_toggled)
        for button in (self.add_button, self.remove_button, self.pause_button):
            folders_row.addWidget(button)
        layout.addLayout(folders_row)
        self.folder_list = QListWidget()
        self.folder_list.setObjectName("knowledgeFolders")
        self.folder_list.setMaximumHeight(110)
        self.folder_list.currentItemChanged.connect(lambda cur, _prev: self.remove_button.setEnabled(cur is not None))
        layout.addWidget(self.folder_list)

        self.status_label = QLabel("Reading the index…")
        self.status_label.setObjectName("knowledgeStatus")
        self.status_label.setWordWrap(True)
        layout.addWidget(self.status_label)
        self.progress = QProgressBar()
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(6)
        self.progress.hide()
        layout.addWidget(self.progress)
        self.problems_label = QLabel("Skipped files")
        layout.addWidget(self.problems_label)
        self.problem_list = QListWidget()
        self.problem_list.setObjectName("knowledgeProblems")
        self.problem_list.setMaximumHeight(90)
        layout.addWidget(self.problem_list)

        self.query = QLineEdit()
        self.query.setObjectName("knowledgeSearch")
        self.query.setPlaceholderText("Search your notes, chats and folders… (Enter)")
        self.query.setClearButtonEnabled(True)
        self.query.returnPressed.connect(lambda: self.search(self.query.text()))
        layout.addWidget(self.query)
        self.result_list = QListWidget()
        self.result_list.setObjectName("knowledgeResults")
        self.result_list.setWordWrap(True)
        self.result_list.itemActivated.connect(self._open_item)
        layout.addWidget(self.result_list, 1)
        self.error_label = QLabel()
        self.error_label.setObjectName("knowledgeError")
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        layout.addWidget(self.error_label)

        self.controller.status_changed.connect(self.show_status)
        self.controller.results.connect(self.show_results)
        self.controller.failed.connect(self.show_error)
        self._set_problems([])

    # ---- actions (GUI thread; engine work on the controller's threads) ----------------------------------------
    def add_folder(self, path: str) -> None:
        """Add ``path`` to the indexed folders (the background indexer indexes it)."""
        self.error_label.hide()
        self.status_label.setText(f"Adding {path}…")
        self.controller.add_folder(path)

    def remove_folder(self, path: str) -> None:
        """Forget ``path``: its files leave the index."""
        self.error_label.hide()
        self.controller.remove_folder(path)

    def search(self, query: str) -> None:
        """Search the index; the results replace the list when they arrive."""
        if query.strip():
            self.error_label.hide()
            self.controller.search(query.strip())

    def _choose_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Add a folder to answer from")
        if path:
            self.add_folder(path)

    def _remove_selected(self) -> None:
        item = self.folder_list.currentItem()
        if item is not None:
            self.remove_folder(item.text())

    def _on_pause_toggled(self, paused: bool) -> None:
        self.pause_button.setText("Resume indexing" if paused else "Pause indexing")
        self.controller.set_paused(paused)

    # ---- rendering -------------------------------------------------------------------------------------------
    def show_status(self, status: IndexStatus) -> None:
        """Render an :class:`IndexStatus` (folders, counts, progress, skipped files)."""
        self.last_status = status
        current = self.folder_list.currentItem()
        selected = current.text() if current is not None else None
        if self.folders() != list(status.folders):
            self.folder_list.clear()
            for folder in status.folders:
                self.folder_list.addItem(folder)
                if folder == selected:
                    self.folder_list.setCurrentRow(self.folder_list.count() - 1)
        self.status_label.setText(status_line(status))
        total = status.files + status.pending
        self.progress.setVisible(status.pending > 0)
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(status.files)
        self.pause_button.blockSignals(True)
        self.pause_button.setChecked(status.paused)
        self.pause_button.setText("Resume indexing" if status.paused else "Pause indexing")
        self.pause_button.blockSignals(False)
        self._set_problems([f"{p.path} — {p.reason}" for p in status.problems])
        self.status_shown.emit(status)

    def _set_problems(self, lines: list[str]) -> None:
        if lines != self.problem_texts():
            self.problem_list.clear()
            self.problem_list.addItems(lines)
        self.problems_label.setText(f"Skipped files ({len(lines)})" if lines else "Skipped files: none")
        self.problem_list.setVisible(bool(lines))

    def show_results(self, query: str, hits: list[SearchHit]) -> None:
        """Render a search's hits: title and place on the first line, the snippet below."""
        self.last_results = list(hits)
        self.result_list.clear()
        for hit in hits:
            where = location_text(hit)
            head = f"{hit.title or hit.source_id}{' · ' + where if where else ''} ({hit.kind})"
            item = QListWidgetItem(f"{head}\n{' '.join(hit.snippet.split())}")
            item.setToolTip(hit.source_id)
            item.setData(Qt.ItemDataRole.UserRole, self.result_list.count())
            self.result_list.addItem(item)
        if not hits:
            self.result_list.addItem(f"Nothing found for “{query}”.")
        self.results_shown.emit(query, len(hits))

    def show_error(self, message: str) -> None:
        self.error_label.setText(message)
        self.error_label.show()
        if self.last_status is not None:
            self.status_label.setText(status_line(self.last_status))

    def folders(self) -> list[str]:
        return [self.folder_list.item(i).text() for i in range(self.folder_list.count())]

    def status_text(self) -> str:
        return self.status_label.text()

    def problem_texts(self) -> list[str]:
        return [self.problem_list.item(i).text() for i in range(self.problem_list.count())]

    def result_texts(self) -> list[str]:
        return [self.result_list.item(i).text() for i in range(self.result_list.count())]

    # ---- the window --------------------------------------------------------------------------------------------
    def attach(self, window: Any, *, start: bool = True) -> None:
        """Wire the tab to the main window: opened sources switch the window's tabs; with ``start``, also
        :meth:`start_service` now (the window calls that later itself). Call once."""
        self._window = window
        if start:
            self.start_service()

    def start_service(self) -> None:
        """The window's engine thread hands over the Assistant's knowledge service (the background indexer then
        starts and the embedding model loads in its child process). Call once, after :meth:`attach`."""
        window = self._window
        worker = KnowledgeServiceWorker()
        worker.ready.connect(self.controller.set_service)
        worker.failed.connect(self.show_error)
        window.engine.submit(worker)

    def show_sources(self, bubble: QWidget, citations: Sequence[Citation]) -> SourcesList | None:
        """Put the numbered sources under a grounded reply's bubble (above its badge); None without citations."""
        if not citations:
            return None
        sources = SourcesList(citations)
        sources.open_requested.connect(self.open_source)
        layout = bubble.layout()
        if isinstance(layout, QVBoxLayout):
            layout.insertWidget(1, sources)
        return sources

    def _open_item(self, item: QListWidgetItem) -> None:
        row = item.data(Qt.ItemDataRole.UserRole)
        if isinstance(row, int) and 0 <= row < len(self.last_results):
            self.open_source(self.last_results[row])

    def open_source(self, hit: SearchHit) -> None:
        """Open a source: a file with the desktop's application (at its start: see :mod:`.sources`), a note in
        the Notes tab (selected), a chat message's conversation, a schedule item in the Schedule tab."""
        self.opened.append(hit)
        if hit.kind == "file":
            if not open_file(hit):
                self.show_error(f"Cannot open {hit.source_id}: it is no longer there.")
            return
        window = self._window
        if window is None:
            return
        record_id = int(hit.source_id.split(":", 1)[1]) if ":" in hit.source_id else -1
        if hit.kind == "note":
            window.tabs.setCurrentWidget(window.notes_view)
            notes = window.notes_view.list
            for row in range(notes.count()):
                if notes.item(row).data(Qt.ItemDataRole.UserRole) == record_id:
                    notes.setCurrentRow(row)
        elif hit.kind == "schedule":
            window.tabs.setCurrentWidget(window.schedule_view)
        elif hit.kind == "chat":
            worker = ChatSourceWorker(record_id)
            worker.found.connect(lambda cid: (window.tabs.setCurrentIndex(0), window.conversations.switch_to(cid)))
            window.engine.submit(worker)
