"""The Monitor tab: live CPU and RAM sparklines, swap / process RSS / GPU / remote-idle figures, and the
model table (name, where it runs, kind, size, footprint, state, last used, why), and the remote's cost today
and this month against the budget (a warning when it is nearly used or reached; docs/offload.md).

The GUI thread never samples: a QTimer polls :meth:`ResourceMonitor.snapshot` (a copy taken under a lock;
the sampling runs on the monitor's own thread), every ``[monitor] interval_s``. No QtCharts (not in
PySide6-Essentials): :class:`Sparkline` draws with QPainter.

A plain widget: ``MonitorPanel(monitor, interval_ms)`` shows any monitor; the main window builds the tab over
the process-wide one (and the Tools → Settings… action) itself. ``MonitorPanel.stop()`` stops both the
timer and the monitor thread (the window's shutdown).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

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

from jarvis_desktop.config import load_settings
from jarvis_desktop.errors import JarvisError
from jarvis_desktop.monitor.costs import CostSummary, RemoteMeter, user_tz
from jarvis_desktop.monitor.registry import ModelRecord
from jarvis_desktop.monitor.resource_monitor import ResourceMonitor

CostSource = Callable[[], "CostSummary | None"]
#: Seconds between two reads of the cost (two small SQL sums).
COST_REFRESH_S = 5.0

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


def cost_text(cost: CostSummary) -> str:
    """The Monitor tab's cost line: "Remote cost: today $0.02 · this month $1.40 of $20.00 budget (7 %)" and the
    budget's warning when nearly used or reached."""
    text = f"Remote cost: today ${cost.today.cost_usd:.2f} · this month ${cost.month.cost_usd:.2f}"
    if cost.budget.budget_usd > 0:
        text += f" of ${cost.budget.budget_usd:.2f} budget ({cost.budget.fraction:.0%})"
    elif not cost.pricing.priced:
        text += " (no price set: Settings → [remote] price_per_hour / price_per_million_tokens)"
    if cost.budget.state == "over":
        text += f" — {cost.budget.message}: chat stays local"
    elif cost.budget.state == "near":
        text += f" — {cost.budget.message}"
    return text


def _default_cost_source() -> CostSource:
    """Reads the app database (opened on first use) with the saved settings."""
    meters: list[RemoteMeter] = []

    def read() -> CostSummary | None:
        if not meters:
            meters.append(RemoteMeter.open_default())
        settings = load_settings()
        return meters[0].summary(settings.remote, tz=user_tz(settings))

    return read


class MonitorPanel(QWidget):
    """Shows a :class:`~jarvis_desktop.monitor.ResourceMonitor`'s snapshot, refreshed every ``interval_ms``.

    Args:
        monitor: the monitor to show; the panel never samples (the monitor's own thread does, once started).
        interval_ms: refresh period of the QTimer in milliseconds (at least 100).
        parent: the Qt parent.
        cost_source: returns the remote's :class:`CostSummary` (None = unknown); default: the app database and the
            saved ``[remote]`` settings (re-read each time, so Settings changes show).
    """

    HISTORY_SHOWN = 120  # samples drawn in the sparklines

    def __init__(
        self,
        monitor: ResourceMonitor,
        interval_ms: int = 1000,
        parent: QWidget | None = None,
        cost_source: CostSource | None = None,
    ) -> None:
        super().__init__(parent)
        self.monitor = monitor
        self.cost_source: CostSource = cost_source or _default_cost_source()
        self._cost_read = 0.0
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
        self.cost_label = QLabel("Remote cost: not read yet")
        self.cost_label.setObjectName("remoteCost")
        self.cost_label.setWordWrap(True)
        layout.addWidget(self.cost_label)
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

    def refresh_cost(self) -> None:
        """Read the remote's cost now and show it ("near": amber, "over": red, with the budget's message)."""
        self._cost_read = time.monotonic()
        try:
            cost = self.cost_source()
        except JarvisError as exc:
            self.cost_label.setText(f"Remote cost unknown: {exc.user_message()}")
            return
        if cost is None:
            self.cost_label.setText("Remote cost unknown (the database cannot be read)")
            return
        self.cost_label.setText(cost_text(cost))
        color = {"near": "#b8860b", "over": "#c9302c"}.get(cost.budget.state, "")
        self.cost_label.setStyleSheet(f"color: {color}; font-weight: bold;" if color else "")
        self.cost_label.setToolTip(
            f"today: {cost.today.requests} requests, {cost.today.input_tokens + cost.today.output_tokens} tokens"
            f" (estimated when the server gives none), {cost.today.uptime_s / 60:.0f} VM min\n"
            f"this month: {cost.month.requests} requests ({cost.month.failed} failed), "
            f"{cost.month.input_tokens + cost.month.output_tokens} tokens, {cost.month.uptime_s / 3600:.1f} VM h"
        )

    def refresh(self) -> None:
        """Read the snapshot (no sampling here) and redraw; the cost every :data:`COST_REFRESH_S`."""
        if not self._cost_read or time.monotonic() - self._cost_read >= COST_REFRESH_S:
            self.refresh_cost()
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
