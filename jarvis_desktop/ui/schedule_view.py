"""The Schedule tab: upcoming reminders, timers, alarms and events with live countdowns and Cancel buttons.

Pure view: it never touches the database. The window feeds it with :meth:`ScheduleView.set_items` (from a
``ScheduleListWorker`` on the engine thread) and turns ``cancel_requested(id)`` / ``refresh_requested()``
into engine jobs. Countdowns are recomputed from the stored due times once a second (no I/O); when one
reaches zero the view asks for a refresh, so fired items leave the list.
"""

from __future__ import annotations

from datetime import datetime, timezone, tzinfo
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from jarvis_desktop.actions.timefmt import format_countdown
from jarvis_desktop.store.schedule import ScheduledItem

COLUMNS = ("Kind", "What", "When", "Time left", "")
KIND_LABELS = {"reminder": "Reminder", "timer": "Timer", "alarm": "Alarm", "event": "Event"}


class ScheduleView(QWidget):
    """Upcoming items. Signals: ``cancel_requested(int)`` (an item id), ``refresh_requested()``."""

    cancel_requested = Signal(int)
    refresh_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("scheduleView")
        self._items: list[ScheduledItem] = []
        self._tz: tzinfo | None = None
        self._refresh_asked = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 8, 4, 4)
        top = QHBoxLayout()
        self.title = QLabel("Upcoming reminders, timers, alarms and events")
        self.title.setObjectName("sectionTitle")
        top.addWidget(self.title, 1)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh_requested.emit)
        top.addWidget(self.refresh_button)
        layout.addLayout(top)
        self.tree = QTreeWidget()
        self.tree.setObjectName("scheduleList")
        self.tree.setColumnCount(len(COLUMNS))
        self.tree.setHeaderLabels(list(COLUMNS))
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setSelectionMode(QTreeWidget.SelectionMode.NoSelection)
        header = self.tree.header()
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        for col in (0, 2, 3, 4):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        layout.addWidget(self.tree, 1)
        self.empty_hint = QLabel(
            "Nothing scheduled. Try “remind me to call mom tomorrow at 3 pm” or “set a timer for 10 minutes”."
        )
        self.empty_hint.setObjectName("emptyHint")
        self.empty_hint.setWordWrap(True)
        self.empty_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.empty_hint)
        self.timer = QTimer(self)
        self.timer.setInterval(1000)
        self.timer.timeout.connect(self.update_countdowns)
        self.timer.start()
        self._show_empty()

    # ---- data ------------------------------------------------------------------------------------
    def set_items(self, items: list[ScheduledItem], tz: tzinfo | None = None) -> None:
        """Show ``items`` (``ScheduledItem``: ``id``, ``kind``, ``title``, ``due_at`` aware UTC, ``location``)."""
        self._items = list(items)
        self._tz = tz
        self._refresh_asked = False
        self.tree.clear()
        for item in self._items:
            local = item.due_at.astimezone(tz) if tz else item.due_at.astimezone()
            when = local.strftime("%a %d %b") + ("" if item.all_day else local.strftime(" %H:%M"))
            title = item.title or KIND_LABELS.get(item.kind, item.kind)
            if item.location:
                title += f" — {item.location}"
            row = QTreeWidgetItem([KIND_LABELS.get(item.kind, item.kind), title, when, "", ""])
            row.setData(0, Qt.ItemDataRole.UserRole, item.id)
            self.tree.addTopLevelItem(row)
            button = QPushButton("Cancel")
            button.setObjectName(f"cancel-{item.id}")
            button.setToolTip(f"Cancel this {item.kind} (undo brings it back)")
            button.clicked.connect(lambda _=False, item_id=item.id: self.cancel_requested.emit(item_id))
            self.tree.setItemWidget(row, 4, button)
        self.update_countdowns()
        self._show_empty()

    def update_countdowns(self) -> None:
        """Recompute every "Time left" cell; asks for one refresh when an item's time has come."""
        now = datetime.now(timezone.utc)
        due_now = False
        for index, item in enumerate(self._items):
            seconds = (item.due_at - now).total_seconds()
            due_now = due_now or seconds <= 0
            row = self.tree.topLevelItem(index)
            if row is not None:
                row.setText(3, format_countdown(seconds))
        if due_now and not self._refresh_asked:
            self._refresh_asked = True
            QTimer.singleShot(1500, self.refresh_requested.emit)  # the scheduler fires it meanwhile

    def _show_empty(self) -> None:
        empty = not self._items
        self.empty_hint.setVisible(empty)
        self.tree.setVisible(not empty)

    # ---- test hooks ------------------------------------------------------------------------------
    def rows(self) -> list[dict[str, Any]]:
        """What is shown: one dict per row (``id``, ``kind``, ``what``, ``when``, ``left``)."""
        out = []
        for i in range(self.tree.topLevelItemCount()):
            row = self.tree.topLevelItem(i)
            if row is None:
                continue
            out.append(
                {
                    "id": row.data(0, Qt.ItemDataRole.UserRole),
                    "kind": row.text(0),
                    "what": row.text(1),
                    "when": row.text(2),
                    "left": row.text(3),
                }
            )
        return out

    def cancel_button(self, item_id: int) -> QPushButton | None:
        """The Cancel button of the row of ``item_id``."""
        return self.findChild(QPushButton, f"cancel-{item_id}")
