"""The Monitor tab: live CPU and RAM sparklines, swap / process RSS / GPU / remote-idle figures, and the
model table (name, where it runs, kind, size, footprint, state, last used, why).

The GUI thread never samples: a QTimer polls :meth:`ResourceMonitor.snapshot` (a copy taken under a lock;
the sampling runs on the monitor's own thread), every ``[monitor] interval_s``. No QtCharts (not in
PySide6-Essentials): :class:`Sparkline` draws with QPainter.

A plain widget: ``MonitorPanel(monitor, interval_ms)`` shows any monitor; the main window builds the tab over
the process-wide one (and the Tools → Settings… action) itself. ``MonitorPanel.stop()`` stops both the
timer and the monitor thread (the window's shutdown).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGridLayout,
    QHeaderView,
    QLabel,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from jarvis_desktop.monitor.registry import ModelRecord
from jarvis_desktop.monitor.resource_monitor import ResourceMonitor

COLUMNS = ("Model", "Runs", "Kind", "Size", "Footprint", "State", "Last used", "Why")


class Sparkline(QWidget):
    """A small line graph of the last values (0..``maximum``), newest on the right, with a title line."""

    def __init__(self, title: str, color: str = "#4f7cff", maximum: float = 100.0, parent: QWidget | None = None):
        super().__init__(parent)
        self.title = title
        self.caption = ""
        self.color = QColor(color)
        self.maximum = maximum
        self.values: list[float] = []
        self.setMinimumHeight(84)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_values(self, values: Sequence[float], caption: str, maximum: float | None = None) -> None:
        self.values = [float(v) for v in values]
        self.caption = caption
        if maximum is not None and maximum > 0:
            self.maximum = maximum
        self.update()

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        r = QRectF(self.rect()).adjusted(1, 1, -1, -1)
        p.setPen(QPen(self.palette().mid().color(), 1))
        p.drawRoundedRect(r, 6, 6)
        p.setPen(self.palette().text().color())
        p.drawText(
            r.adjusted(8, 4, -8, 0),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop,
            f"{self.title}  {self.caption}",
        )
        plot = r.adjusted(6, 24, -6, -6)
        if len(self.values) >= 2 and plot.width() > 4:
            step = plot.width() / (len(self.values) - 1)
            pts = [
                QPointF(plot.left() + i * step, plot.bottom() - min(max(v / self.maximum, 0.0), 1.0) * plot.height())
                for i, v in enumerate(self.values)
            ]
            path = QPainterPath(pts[0])
            for pt in pts[1:]:
                path.lineTo(pt)
            fill = QPainterPath(path)
            fill.lineTo(pts[-1].x(), plot.bottom())
            fill.lineTo(pts[0].x(), plot.bottom())
            fill.closeSubpath()
            shade = QColor(self.color)
            shade.setAlpha(50)
            p.fillPath(fill, shade)
            p.setPen(QPen(self.color, 1.6))
            p.drawPath(path)
        p.end()


def _ago(t: float | None) -> str:
    if not t:
        return "never"
    s = max(0.0, time.time() - t)
    return f"{s:.0f} s ago" if s < 90 else f"{s / 60:.0f} min ago" if s < 5400 else f"{s / 3600:.1f} h ago"


class MonitorPanel(QWidget):
    """Shows a :class:`~jarvis_desktop.monitor.ResourceMonitor`'s snapshot, refreshed every ``interval_ms``.

    Args:
        monitor: the monitor to show; the panel never samples (the monitor's own thread does, once started).
        interval_ms: refresh period of the QTimer in milliseconds (at least 100).
        parent: the Qt parent.
    """

    HISTORY_SHOWN = 120  # samples drawn in the sparklines

    def __init__(self, monitor: ResourceMonitor, interval_ms: int = 1000, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.monitor = monitor
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 8, 4, 4)
        graphs = QGridLayout()
        self.cpu_graph = Sparkline("CPU", "#4f7cff")
        self.ram_graph = Sparkline("RAM used", "#d9534f")
        graphs.addWidget(self.cpu_graph, 0, 0)
        graphs.addWidget(self.ram_graph, 0, 1)
        layout.addLayout(graphs)
        self.figures = QLabel("Waiting for the first sample…")
        self.figures.setObjectName("monitorFigures")
        self.figures.setWordWrap(True)
        layout.addWidget(self.figures)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("modelTable")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        layout.addWidget(self.table, 1)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.refresh)
        self.timer.start(max(100, int(interval_ms)))

    def refresh(self) -> None:
        """Read the snapshot (no sampling here) and redraw."""
        snap = self.monitor.snapshot()
        s = snap.latest
        if s is None:
            return
        hist = snap.history[-self.HISTORY_SHOWN :]
        self.cpu_graph.set_values([h.cpu_percent for h in hist], f"{s.cpu_percent:.0f} %", 100.0)
        used = [(h.ram_total_mib - h.ram_available_mib) / 1024 for h in hist]
        self.ram_graph.set_values(
            used,
            f"{used[-1]:.1f} / {s.ram_total_mib / 1024:.1f} GiB ({s.ram_available_mib / 1024:.1f} GiB available)",
            s.ram_total_mib / 1024,
        )
        parts = [
            f"Swap {s.swap_used_mib / 1024:.1f} / {s.swap_total_mib / 1024:.1f} GiB",
            f"Jarvis process {s.process_rss_mib:.0f} MiB",
        ]
        if s.gpu_name and s.gpu_used_mib is not None and s.gpu_total_mib is not None:
            parts.append(f"GPU {s.gpu_name}: {s.gpu_used_mib / 1024:.1f} / {s.gpu_total_mib / 1024:.1f} GiB")
        if snap.remote_idle_min is not None:
            parts.append(f"remote idle {snap.remote_idle_min:.0f} min")
        parts.append(f"monitor {snap.overhead_percent:.2f} % CPU")
        self.figures.setText("  ·  ".join(parts))
        self._fill_table(snap.models)

    def _fill_table(self, models: Sequence[ModelRecord]) -> None:
        self.table.setRowCount(len(models))
        for row, m in enumerate(models):
            footprint = (
                f"{m.footprint_mib:.0f} MiB" if m.footprint_mib is not None else f"~{m.estimate_mib:.0f} MiB (est.)"
            )
            cells = (
                m.name,
                m.placement,
                m.kind,
                f"{m.size_mib:.0f} MiB",
                footprint,
                m.state,
                _ago(m.last_used) + (f" ({m.last_backend})" if m.last_backend else ""),
                m.reason,
            )
            for col, text in enumerate(cells):
                item = self.table.item(row, col)
                if item is None:
                    item = QTableWidgetItem()
                    self.table.setItem(row, col, item)
                item.setText(text)
                item.setToolTip(m.reason)

    def stop(self) -> None:
        """Stop refreshing and stop the monitor thread (waits at most one sampling interval)."""
        self.timer.stop()
        self.monitor.stop()
