"""A small loss-curve widget drawn with QPainter (no plotting dependency).

``LossPlot.add_point(step, loss)`` appends a point and repaints; ``clear()`` starts a new curve. The y axis
spans the curve's min..max (with 5 % margins), the x axis 0..``max_steps`` (or the last step).
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget


class LossPlot(QWidget):
    """Training loss against step. ``points``: the (step, loss) pairs shown, in order."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lossPlot")
        self.points: list[tuple[int, float]] = []
        self.max_steps = 0
        self.setMinimumHeight(120)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setToolTip("Training loss (mean cross-entropy per completion token) by step")

    def sizeHint(self) -> QSize:
        return QSize(360, 160)

    def clear(self, max_steps: int = 0) -> None:
        """Forget the curve; ``max_steps`` sets the x range of the next one."""
        self.points = []
        self.max_steps = max_steps
        self.update()

    def add_point(self, step: int, loss: float, max_steps: int | None = None) -> None:
        """Append (``step``, ``loss``); a step not after the last one (a resumed job) replaces the tail."""
        while self.points and self.points[-1][0] >= step:
            self.points.pop()
        self.points.append((int(step), float(loss)))
        if max_steps:
            self.max_steps = int(max_steps)
        self.update()

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        painter.fillRect(self.rect(), pal.base())
        area = QRectF(self.rect()).adjusted(44, 10, -10, -22)
        text_pen = QPen(pal.text().color())
        painter.setPen(QPen(pal.mid().color()))
        painter.drawRect(area)
        painter.setPen(text_pen)
        if not self.points:
            painter.drawText(area, Qt.AlignmentFlag.AlignCenter, "Loss curve appears when a job runs")
            return
        losses = [p[1] for p in self.points]
        lo, hi = min(losses), max(losses)
        pad = (hi - lo) * 0.05 or max(abs(hi) * 0.05, 0.01)
        lo, hi = lo - pad, hi + pad
        x_max = max(self.max_steps, self.points[-1][0], 1)

        def at(step: float, loss: float) -> QPointF:
            return QPointF(
                area.left() + area.width() * step / x_max, area.bottom() - area.height() * (loss - lo) / (hi - lo)
            )

        painter.drawText(QRectF(0, area.top() - 6, 40, 14), Qt.AlignmentFlag.AlignRight, f"{hi:.2f}")
        painter.drawText(QRectF(0, area.bottom() - 8, 40, 14), Qt.AlignmentFlag.AlignRight, f"{lo:.2f}")
        painter.drawText(
            QRectF(area.left(), area.bottom() + 4, area.width(), 16), Qt.AlignmentFlag.AlignRight, f"step {x_max}"
        )
        path = QPainterPath(at(*self.points[0]))
        for step, loss in self.points[1:]:
            path.lineTo(at(step, loss))
        painter.setPen(QPen(QColor("#4c8dff"), 2))
        painter.drawPath(path)
        if len(self.points) == 1:
            painter.drawEllipse(at(*self.points[0]), 2.5, 2.5)
