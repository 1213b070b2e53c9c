"""The microphone button (push-to-talk) and the input level meter.

``MicButton``: press and hold to record, release to send (push-to-talk); a quick click (shorter than
``HOLD_MS``) toggles instead: click to start, click again to stop and send. It only emits
``recording_started`` / ``recording_stopped``; the window wires them to ``MicCapture.begin_utterance`` /
``end_utterance``.

``LevelMeter``: a thin bar fed with the capture level. ``set_level(x)`` accepts a linear level in [0, 1]
(RMS of float samples) or, for negative values, dBFS (-60 dB .. 0 dB mapped to 0 .. 1). The bar decays
smoothly so it is readable at 20-50 updates per second.
"""

from __future__ import annotations

import math
import time

from PySide6.QtCore import QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPainterPath, QPen, QPixmap
from PySide6.QtWidgets import QPushButton, QSizePolicy, QWidget

from jarvis_desktop.ui.style import current_colors


def mic_icon(color: str, size: int = 22) -> QIcon:
    """A simple microphone glyph drawn with QPainter (no icon theme needed)."""
    pix = QPixmap(size * 2, size * 2)
    pix.fill(Qt.GlobalColor.transparent)
    p = QPainter(pix)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    s = size * 2 / 24.0
    pen = QPen(QColor(color), 1.9 * s)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    p.setPen(pen)
    p.setBrush(QColor(color))
    p.drawRoundedRect(QRectF(9 * s, 3 * s, 6 * s, 11 * s), 3 * s, 3 * s)
    p.setBrush(Qt.BrushStyle.NoBrush)
    path = QPainterPath()
    path.moveTo(6 * s, 11 * s)
    path.cubicTo(6 * s, 19 * s, 18 * s, 19 * s, 18 * s, 11 * s)
    p.drawPath(path)
    p.drawLine(int(12 * s), int(17.5 * s), int(12 * s), int(21 * s))
    p.drawLine(int(8.5 * s), int(21 * s), int(15.5 * s), int(21 * s))
    p.end()
    return QIcon(pix)


class MicButton(QPushButton):
    """Push-to-talk button: hold to talk, or click to toggle. See the module docstring."""

    recording_started = Signal()
    recording_stopped = Signal()

    HOLD_MS = 350

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("mic")
        self.setFixedSize(QSize(40, 40))
        self.setIconSize(QSize(20, 20))
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("Hold to talk, or click to start and click again to stop")
        self.setAccessibleName("Microphone")
        self._recording = False
        self._pressed_at: float | None = None
        self._started_by_press = False
        self._refresh()

    @property
    def recording(self) -> bool:
        return self._recording

    def start(self) -> None:
        """Start recording (no-op if already recording)."""
        if not self._recording:
            self._set_recording(True)

    def stop(self) -> None:
        """Stop recording (no-op if not recording)."""
        if self._recording:
            self._set_recording(False)

    def toggle_recording(self) -> None:
        self.stop() if self._recording else self.start()

    # ---- mouse: hold = push-to-talk, click = toggle -----------------------------------------------
    def mousePressEvent(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton or not self.isEnabled():
            return super().mousePressEvent(event)
        self._pressed_at = time.monotonic()
        self._started_by_press = not self._recording
        self.start()
        event.accept()

    def mouseReleaseEvent(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton or self._pressed_at is None:
            return super().mouseReleaseEvent(event)
        held_ms = (time.monotonic() - self._pressed_at) * 1000
        self._pressed_at = None
        if self._started_by_press:
            if held_ms >= self.HOLD_MS:
                self.stop()  # push-to-talk: release ends the utterance
            # else: a click started a toggled recording; keep going until the next click
        else:
            self.stop()  # click while recording: stop
        event.accept()

    def keyPressEvent(self, event) -> None:
        if event.key() in (Qt.Key.Key_Space, Qt.Key.Key_Return, Qt.Key.Key_Enter) and not event.isAutoRepeat():
            self.toggle_recording()
            event.accept()
            return
        super().keyPressEvent(event)

    # ---- internals -------------------------------------------------------------------------------
    def _set_recording(self, on: bool) -> None:
        self._recording = on
        self._refresh()
        (self.recording_started if on else self.recording_stopped).emit()

    def _refresh(self) -> None:
        colors = current_colors()
        self.setProperty("recording", "true" if self._recording else "false")
        self.setIcon(mic_icon("#ffffff" if self._recording else colors.accent))
        self.setToolTip(
            "Recording… release or click to send"
            if self._recording
            else "Hold to talk, or click to start and click again to stop"
        )
        self.style().unpolish(self)
        self.style().polish(self)


class LevelMeter(QWidget):
    """Horizontal input-level bar; ``set_level`` from the GUI thread (see the module docstring)."""

    DECAY_PER_S = 1.6

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFixedHeight(8)
        self.setMinimumWidth(60)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setToolTip("Microphone level")
        self._level = 0.0
        self._shown = 0.0
        self._last = time.monotonic()
        self._timer = QTimer(self)
        self._timer.setInterval(33)
        self._timer.timeout.connect(self._tick)

    @property
    def level(self) -> float:
        """The last level set, in [0, 1]."""
        return self._level

    @staticmethod
    def normalise(value: float) -> float:
        """Linear [0, 1] stays (clamped); negative values are dBFS, mapped -60..0 dB -> 0..1."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return 0.0
        if value < 0:
            return min(1.0, max(0.0, (value + 60.0) / 60.0))
        if value <= 1.0:
            # RMS of speech is small (0.01-0.3): show it on a log scale so quiet speech still moves the bar.
            if value <= 1e-4:
                return 0.0
            return min(1.0, max(0.0, (20 * math.log10(value) + 60.0) / 60.0))
        return 1.0

    def set_level(self, value: float) -> None:
        self._level = self.normalise(value)
        if self._level > self._shown:
            self._shown = self._level
        if not self._timer.isActive():
            self._last = time.monotonic()
            self._timer.start()
        self.update()

    def _tick(self) -> None:
        now = time.monotonic()
        dt, self._last = now - self._last, now
        self._shown = max(self._level, self._shown - self.DECAY_PER_S * dt)
        if self._shown <= 0.001 and self._level <= 0.001:
            self._shown = 0.0
            self._timer.stop()
        self.update()

    def paintEvent(self, _event) -> None:
        colors = current_colors()
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        radius = rect.height() / 2
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(colors.border))
        p.drawRoundedRect(rect, radius, radius)
        if self._shown > 0:
            fill = QRectF(rect)
            fill.setWidth(max(rect.height(), rect.width() * self._shown))
            color = colors.ok if self._shown < 0.85 else colors.danger
            p.setBrush(QColor(color))
            p.drawRoundedRect(fill, radius, radius)
        p.end()
