"""The Knowledge tab: the folders Jarvis answers from, the index's status, pause/resume and a search box.

Layout, top to bottom (docs/knowledge.md, "The Knowledge tab"; screenshot ``docs/images/knowledge_tab.png``):

* **Folders**: the folder list with *Add folder…* (a directory dialog) and *Remove folder*; with no folder, a hint
  saying what adding one does (notes, chats and the schedule are searched anyway).
* **Index**: the figures (files, notes and messages, chunks, last update, search mode: "words and meaning" or
  "words only" with the reason), the indexer's state ("Up to date"; a progress bar "Indexing: 4 of 10 files"; "Paused:
  6 files waiting") beside *Pause indexing* / *Resume indexing*, and the skipped files, one line each: the file's
  name, why it was skipped, and its folder (the full path in the tooltip).
* **Search**: Enter searches; each result shows its title (a link that opens the source), where it comes from
  (file name, page, heading; the line for Markdown and text), and the snippet with the query's words in bold. Before
  a search, a hint says what is searched.

Every engine call goes through :class:`~.controller.KnowledgeController` (worker threads); the GUI thread only
renders. :meth:`attach` wires the tab to the main window (a clicked source opens the file, or switches to the note
or conversation) and :meth:`start_service` has its engine thread hand over the Assistant's knowledge service.

Test hooks: ``add_folder(path)``, ``remove_folder(path)``, ``search(query)``, ``folders()``, ``status_text()``,
``problem_texts()``, ``result_texts()``, ``open_result(n)``, ``last_status``, ``last_results``, ``opened``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QFont, QPalette
from PySide6.QtWidgets import (
    QFileDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QProgressBar,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from jarvis_desktop.knowledge.types import Citation, IndexStatus, SearchHit
from jarvis_desktop.ui.knowledge_tab.controller import KnowledgeController
from jarvis_desktop.ui.knowledge_tab.sources import SourcesList, open_file
from jarvis_desktop.ui.knowledge_tab.workers import ChatSourceWorker, KnowledgeServiceWorker
from jarvis_desktop.ui.style import current_colors

#: shown instead of the folder list while it is empty
NO_FOLDERS_HINT = (
    "No folders yet. Your notes, chats and schedule are searched already; add a folder of documents (Markdown, "
    "text, HTML, PDF, Word) and Jarvis answers from them too, citing the file and page."
)
#: shown in the results area before the first search
SEARCH_HINT = (
    "Type words or a question and press Enter. Your notes, chats, schedule and the folders above are searched; "
    "click a result's title to open it."
)
#: file kinds whose ``line`` is a line of the file itself (HTML's is a line of the extracted text: not shown)
_LINE_SUFFIXES = {".md", ".markdown", ".txt", ".text", ".rst"}
_KIND_NAMES = {"note": "note", "chat": "chat message", "schedule": "schedule"}
_WORD = re.compile(r"\w+")
_QUIET_WORDS = {"the", "and", "for", "are", "was", "what", "how", "who", "when", "where", "why", "with", "did", "does"}


def when_text(moment: datetime | None, now: datetime | None = None) -> str:
    """ "today 14:02", "yesterday 09:10", "3 Dec 14:02" (local time), "3 Dec 2025" a past year; "—" for None."""
    if moment is None:
        return "—"
    local = moment.astimezone()
    today = (now or datetime.now().astimezone()).date()
    days = (today - local.date()).days
    if days == 0:
        return f"today {local:%H:%M}"
    if days == 1:
        return f"yesterday {local:%H:%M}"
    if local.year == today.year:
        return f"{local.day} {local:%b %H:%M}"
    return f"{local.day} {local:%b %Y}"


def status_line(status: IndexStatus) -> str:
    """One line: "12 files · 30 notes and messages · 140 chunks · updated today 14:02 · 3 waiting · paused"."""
    parts = [f"{status.files} file{'s' if status.files != 1 else ''}", f"{status.records} notes and messages"]
    parts.append(f"{status.chunks} chunks")
    if status.last_update is not None and status.chunks:
        parts.append(f"updated {when_text(status.last_update)}")
    if status.pending:
        parts.append(f"{status.pending} waiting")
    if status.paused:
        parts.append("paused")
    if not status.vectors:
        parts.append("keyword search only" + (f" ({status.vectors_note})" if status.vectors_note else ""))
    return " · ".join(parts)


def problem_line(path: str, reason: str) -> str:
    """ "scan.pdf — malformed PDF: … · /home/me/docs": the name first, then why, then where."""
    p = Path(path)
    return f"{p.name} — {reason} · {p.parent}"


def hit_place(hit: SearchHit) -> str:
    """Where a hit comes from, for the results: "lease.pdf · page 3 · Rent", "notes.md · line 12 · Term",
    "datetime.html · datetime Objects" (HTML: the extracted text's line means nothing to a user; the heading path
    without the page title it repeats), "note · 3 Dec 14:02"."""
    loc = hit.location
    parts: list[str] = []
    if hit.kind == "file":
        name = Path(hit.source_id).name
        if name != hit.title:  # a text file's title is its name when it has no heading
            parts.append(name)
        if loc.page is not None:
            parts.append(f"page {loc.page}")
        if loc.line is not None and Path(name).suffix.lower() in _LINE_SUFFIXES:
            parts.append(f"line {loc.line}")
    else:
        parts.append(_KIND_NAMES.get(hit.kind, hit.kind))
        if hit.created is not None:
            parts.append(when_text(hit.created))
    heading = [h for h in loc.heading.split(" > ") if h]
    if heading and hit.title and hit.title.startswith(heading[0]):
        heading = heading[1:]  # the page's own title again
    if heading:
        parts.append(" › ".join(heading))
    return " · ".join(parts)


def _highlight(snippet: str, query: str) -> str:
    """``snippet`` as HTML with the query's content words in bold."""
    words = {w.lower() for w in _WORD.findall(query) if len(w) > 2 and w.lower() not in _QUIET_WORDS}
    text = " ".join(snippet.split())
    out: list[str] = []
    last = 0
    for m in _WORD.finditer(text):
        if m.group().lower() in words:
            out.append(html.escape(text[last : m.start()]))
            out.append(f"<b>{html.escape(m.group())}</b>")
            last = m.end()
    out.append(html.escape(text[last:]))
    return "".join(out)


def _fit_rows(view: QListWidget, most: int) -> None:
    """Make ``view`` as tall as its rows, up to ``most`` rows (then it scrolls): the results get the room."""
    row = view.sizeHintForRow(0) if view.count() else view.fontMetrics().height() + 4
    view.setFixedHeight(row * max(1, min(most, view.count())) + 2 * view.frameWidth() + 4)


class _Figure(QWidget):
    """A figure of the index: the value in bold over a small caption."""

    def __init__(self, caption: str) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 18, 0)
        layout.setSpacing(0)
        self.value = QLabel("—")
        font = QFont(self.value.font())
        font.setPointSizeF(font.pointSizeF() * 1.25)
        font.setBold(True)
        self.value.setFont(font)
        self.value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.caption = QLabel(caption)
        self.caption.setObjectName("badge")
        layout.addWidget(self.value)
        layout.addWidget(self.caption)

    def set(self, value: str, tooltip: str = "") -> None:
        self.value.setText(value)
        self.setToolTip(tooltip)

    def text(self) -> str:
        return f"{self.value.text()} {self.caption.text()}"


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
        self._pass: tuple[int, int] | None = None  # while files wait: (files + skipped when it began, its total)
        self._results_plain: list[str] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        layout.addWidget(self._folders_group())
        layout.addWidget(self._index_group())
        layout.addWidget(self._search_group(), 1)
        self.error_label = QLabel()
        self.error_label.setObjectName("knowledgeError")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(f"color: {current_colors().danger};")
        self.error_label.hide()
        layout.addWidget(self.error_label)

        self.controller.status_changed.connect(self.show_status)
        self.controller.results.connect(self.show_results)
        self.controller.failed.connect(self.show_error)
        self._set_folders([])
        self._set_problems([])
        self._show_search_hint()

    # ---- building ------------------------------------------------------------------------------------------------
    def _folders_group(self) -> QGroupBox:
        group = QGroupBox("Folders Jarvis answers from")
        row = QHBoxLayout(group)
        self.add_button = QPushButton("Add folder…")
        self.add_button.setToolTip("Choose a folder of documents to search and cite; it is indexed in the background")
        self.add_button.clicked.connect(self._choose_folder)
        self.remove_button = QPushButton("Remove folder")
        self.remove_button.setToolTip("Stop answering from the selected folder (its files are not touched)")
        self.remove_button.setEnabled(False)
        self.remove_button.clicked.connect(self._remove_selected)
        left = QVBoxLayout()
        self.folder_list = QListWidget()
        self.folder_list.setObjectName("knowledgeFolders")
        self.folder_list.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # a long path keeps its last folder visible
        self.folder_list.currentItemChanged.connect(lambda cur, _prev: self.remove_button.setEnabled(cur is not None))
        left.addWidget(self.folder_list)
        self.folders_hint = QLabel(NO_FOLDERS_HINT)
        self.folders_hint.setObjectName("emptyHint")
        self.folders_hint.setWordWrap(True)
        left.addWidget(self.folders_hint)
        row.addLayout(left, 1)
        row.addWidget(self.add_button, 0, Qt.AlignmentFlag.AlignTop)
        row.addWidget(self.remove_button, 0, Qt.AlignmentFlag.AlignTop)
        return group

    def _index_group(self) -> QGroupBox:
        group = QGroupBox("Index")
        box = QVBoxLayout(group)
        figures = QHBoxLayout()
        self.figures = {
            "files": _Figure("files"),
            "records": _Figure("notes and messages"),
            "chunks": _Figure("passages (chunks)"),
            "updated": _Figure("last update"),
            "search": _Figure("search"),
        }
        for figure in self.figures.values():
            figures.addWidget(figure)
        figures.addStretch(1)
        box.addLayout(figures)

        state = QGridLayout()
        self.status_label = QLabel("Reading the index…")
        self.status_label.setObjectName("knowledgeStatus")
        self.status_label.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.hide()
        self.pause_button = QPushButton("Pause indexing")
        self.pause_button.setCheckable(True)
        self.pause_button.setToolTip("Stop indexing new and changed files until you resume (search still works)")
        self.pause_button.toggled.connect(self._on_pause_toggled)
        state.addWidget(self.status_label, 0, 0)
        state.addWidget(self.progress, 0, 0)
        state.addWidget(self.pause_button, 0, 1)
        state.setColumnStretch(0, 1)
        box.addLayout(state)

        self.problems_label = QLabel("Skipped files")
        box.addWidget(self.problems_label)
        self.problem_list = QListWidget()
        self.problem_list.setObjectName("knowledgeProblems")
        box.addWidget(self.problem_list)
        return group

    def _search_group(self) -> QGroupBox:
        group = QGroupBox("Search")
        box = QVBoxLayout(group)
        self.query = QLineEdit()
        self.query.setObjectName("knowledgeSearch")
        self.query.setPlaceholderText("Search your notes, chats and folders… (Enter)")
        self.query.setClearButtonEnabled(True)
        self.query.returnPressed.connect(lambda: self.search(self.query.text()))
        box.addWidget(self.query)
        self.result_view = QTextBrowser()
        self.result_view.setObjectName("knowledgeResults")
        self.result_view.setOpenLinks(False)
        self.result_view.anchorClicked.connect(self._on_anchor)
        box.addWidget(self.result_view, 1)
        return group

    # ---- actions (GUI thread; engine work on the controller's threads) ----------------------------------------
    def add_folder(self, path: str) -> None:
        """Add ``path`` to the indexed folders (the background indexer indexes it)."""
        self.error_label.hide()
        self.status_label.setText(f"Adding {path}…")
        self.status_label.show()
        self.progress.hide()
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
        """Render an :class:`IndexStatus` (folders, figures, progress, pause state, skipped files)."""
        self.last_status = status
        self._set_folders(list(status.folders))
        empty = status.chunks == 0
        self.figures["files"].set(f"{status.files:,}")
        self.figures["records"].set(f"{status.records:,}")
        self.figures["chunks"].set(f"{status.chunks:,}")
        updated = None if empty else status.last_update
        self.figures["updated"].set(
            when_text(updated), f"{updated.astimezone():%A %d %B %Y, %H:%M}" if updated is not None else ""
        )
        if status.vectors:
            self.figures["search"].set("words and meaning", "keyword search (BM25) and embeddings, fused")
        else:
            why = status.vectors_note or "no embedding model"
            self.figures["search"].set("words only", f"keyword search only: {why}")

        # this pass's progress: the files finished since it began (indexed or skipped; a re-indexed file changes no
        # count, so the total is at least the most files ever seen waiting) of those plus the ones still waiting
        handled = status.files + len(status.problems)
        if status.pending:
            start, peak = self._pass or (handled, 0)
            total = max(peak, max(0, handled - start) + status.pending)
            self._pass = (start, total)
            done = total - status.pending
            self.progress.setRange(0, total)
            self.progress.setValue(done)
            total_text = f"{total} file{'s' if total != 1 else ''}"
            if status.paused:
                waiting = f"{status.pending} file{'s' if status.pending != 1 else ''}"
                self.progress.setFormat(f"Paused: {waiting} waiting ({done} of {total_text} done)")
            else:
                self.progress.setFormat(f"Indexing: {done} of {total_text}…")
            self.progress.show()
            self.status_label.hide()
        else:
            self._pass = None
            self.progress.hide()
            if status.paused:
                self.status_label.setText("Paused: new and changed files wait until you resume.")
            elif not status.folders and empty:
                self.status_label.setText("Nothing indexed yet.")
            else:
                self.status_label.setText("Up to date: changes in the folders are picked up as they happen.")
            self.status_label.show()
        self.pause_button.blockSignals(True)
        self.pause_button.setChecked(status.paused)
        self.pause_button.setText("Resume indexing" if status.paused else "Pause indexing")
        self.pause_button.blockSignals(False)
        self._set_problems([(p.path, p.reason) for p in status.problems])
        self.status_shown.emit(status)

    def _set_folders(self, folders: list[str]) -> None:
        if self.folders() != folders:
            current = self.folder_list.currentItem()
            selected = current.text() if current is not None else None
            self.folder_list.clear()
            for folder in folders:
                self.folder_list.addItem(folder)
                self.folder_list.item(self.folder_list.count() - 1).setToolTip(folder)
                if folder == selected:
                    self.folder_list.setCurrentRow(self.folder_list.count() - 1)
            self.remove_button.setEnabled(self.folder_list.currentItem() is not None)
        self.folder_list.setVisible(bool(folders))
        _fit_rows(self.folder_list, 3)
        self.folders_hint.setVisible(not folders)

    def _set_problems(self, problems: list[tuple[str, str]]) -> None:
        lines = [problem_line(path, reason) for path, reason in problems]
        if lines != self.problem_texts():
            self.problem_list.clear()
            for (path, reason), line in zip(problems, lines, strict=True):
                self.problem_list.addItem(line)
                self.problem_list.item(self.problem_list.count() - 1).setToolTip(f"{path}\n{reason}")
        self.problems_label.setText(
            f"Skipped files ({len(lines)}): not searchable until they change" if lines else "Skipped files: none"
        )
        self.problem_list.setVisible(bool(lines))
        _fit_rows(self.problem_list, 3)

    def _muted(self) -> str:
        return self.palette().color(QPalette.ColorRole.PlaceholderText).name()

    def _show_search_hint(self) -> None:
        self._results_plain = []
        self.result_view.setHtml(f'<p style="color:{self._muted()}">{html.escape(SEARCH_HINT)}</p>')

    def show_results(self, query: str, hits: list[SearchHit]) -> None:
        """Render a search's hits: the title (a link that opens it), where it comes from, the snippet."""
        self.last_results = list(hits)
        self._results_plain = []
        muted = self._muted()
        blocks: list[str] = []
        for n, hit in enumerate(hits):
            title = hit.title or Path(hit.source_id).name or hit.source_id
            place = hit_place(hit)
            snippet = " ".join(hit.snippet.split())
            self._results_plain.append(f"{title} · {place}\n{snippet}")
            blocks.append(
                f'<p style="margin-bottom:10px"><a href="hit:{n}"><b>{html.escape(title)}</b></a><br>'
                f'<span style="color:{muted}">{html.escape(place)}</span><br>{_highlight(snippet, query)}</p>'
            )
        if not hits:
            self._results_plain.append(f"Nothing found for “{query}”.")
            blocks.append(
                f"<p>Nothing found for “{html.escape(query)}”.</p>"
                f'<p style="color:{muted}">Try other words; files still waiting to be indexed are not searched yet.</p>'
            )
        self.result_view.setHtml("".join(blocks))
        self.results_shown.emit(query, len(hits))

    def show_error(self, message: str) -> None:
        self.error_label.setText(message)
        self.error_label.show()
        if self.last_status is not None:
            self.show_status(self.last_status)

    def folders(self) -> list[str]:
        return [self.folder_list.item(i).text() for i in range(self.folder_list.count())]

    def status_text(self) -> str:
        """What the Index box says, in one line: the figures, then the indexer's state."""
        figures = " · ".join(f.text() for f in self.figures.values())
        state = self.progress.format() if not self.progress.isHidden() else self.status_label.text()
        return f"{figures} · {state}"

    def problem_texts(self) -> list[str]:
        return [self.problem_list.item(i).text() for i in range(self.problem_list.count())]

    def result_texts(self) -> list[str]:
        """Each result as "title · place\nsnippet" (or the "Nothing found" line)."""
        return list(self._results_plain)

    def open_result(self, n: int) -> None:
        """Open the ``n``-th result (0-based), as a click on its title does."""
        self._on_anchor(QUrl(f"hit:{n}"))

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

    def _on_anchor(self, url: QUrl) -> None:
        text = url.toString()
        if text.startswith("hit:") and text[4:].isdigit() and int(text[4:]) < len(self.last_results):
            self.open_source(self.last_results[int(text[4:])])

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
