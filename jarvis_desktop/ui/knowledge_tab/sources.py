"""The numbered sources under a grounded reply, and opening a source.

:class:`SourcesList` shows "Sources" and one button per citation ("[1] lease.pdf, page 3"); a click emits
``open_requested(SearchHit)``. :func:`open_file` opens an indexed file with the desktop's default application
(``QDesktopServices.openUrl``, i.e. xdg-open on Linux). **Limit**: xdg-open has no portable way to say "at page 3"
or "at line 12" (a ``#page=3`` fragment is honoured by browsers' PDF viewers but makes some desktop viewers fail to
find the file), so the file opens at its start and the page or line stays in the label and the tooltip. A note
switches to the Notes tab with the note selected; a chat message to its conversation; a schedule item to the
Schedule tab (the window does that part: :meth:`KnowledgeTab.open_source`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QVBoxLayout, QWidget

from jarvis_desktop.knowledge.types import Citation, SearchHit


def location_text(hit: SearchHit) -> str:
    """ "page 3", "line 12 · Term" (line and heading), or "" (records without a place)."""
    loc = hit.location
    parts = [f"page {loc.page}" if loc.page is not None else "", f"line {loc.line}" if loc.line is not None else ""]
    parts.append(loc.heading)
    return " · ".join(p for p in parts if p)


def open_file(hit: SearchHit) -> bool:
    """Open a cited file with the desktop's default application (see the module doc for the page/line limit);
    False when it is not a file or no longer exists."""
    if hit.kind != "file" or not Path(hit.source_id).is_file():
        return False
    return bool(QDesktopServices.openUrl(QUrl.fromLocalFile(hit.source_id)))


class SourcesList(QWidget):
    """The numbered sources of one grounded reply. ``buttons``: one per citation, in order (test hook)."""

    open_requested = Signal(object)  # the SearchHit of the clicked source

    def __init__(self, citations: Sequence[Citation], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("replySources")
        self.citations = list(citations)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 2, 0, 0)
        layout.setSpacing(0)
        title = QLabel("Sources")
        title.setObjectName("badge")
        layout.addWidget(title)
        self.buttons: list[QToolButton] = []
        for citation in self.citations:
            row = QHBoxLayout()
            row.setContentsMargins(0, 0, 0, 0)
            button = QToolButton()
            button.setObjectName("sourceLink")
            button.setAutoRaise(True)
            button.setText(f"[{citation.number}] {citation.label}")
            where = location_text(citation.hit)
            button.setToolTip(f"{citation.hit.source_id}{' · ' + where if where else ''}\n{citation.hit.snippet}")
            button.clicked.connect(lambda _checked=False, hit=citation.hit: self.open_requested.emit(hit))
            row.addWidget(button)
            row.addStretch(1)
            layout.addLayout(row)
            self.buttons.append(button)

    def labels(self) -> list[str]:
        """The buttons' texts, e.g. ``["[1] your note of March 3"]`` (test hook)."""
        return [b.text() for b in self.buttons]
