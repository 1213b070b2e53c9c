"""A live microphone level for the first-run tour: the source (off the GUI thread) and the meter widget.

:class:`MicLevelSource` opens the microphone with :class:`~jarvis_desktop.audio.capture.MicCapture` (the same
device choice as push-to-talk: ``[audio] device``) on a background thread, since opening takes 0.4-2 s. Each
captured block is measured on the capture's worker thread (:meth:`MicLevelSource.measure`: RMS in dBFS,
:func:`jarvis_desktop.audio.vad.rms_dbfs`), which only stores two floats; the GUI thread polls them 20 times a
second and emits ``level(float)``. So the GUI thread never touches audio and is never flooded with one queued
signal per 30 ms block.

:class:`MicLevelMeter` paints that level as a bar from :data:`FLOOR_DB` (silence) to 0 dBFS, with a peak mark.
"""

from __future__ import annotations

import threading

import numpy as np
from PySide6.QtCore import QObject, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from jarvis_desktop.audio.capture import MicCapture
from jarvis_desktop.audio.vad import SILENCE_DBFS, rms_dbfs
from jarvis_desktop.config import AudioSettings
from jarvis_desktop.errors import JarvisError
from jarvis_desktop.ui.settings_speech_page import FLOOR_DB

POLL_MS = 50
"""How often the GUI thread reads the level (ms)."""

_PORTAUDIO = threading.Lock()
"""Serialises this module's stream opening and closing: with no device, opening re-initialises PortAudio
(``capture.refresh_devices``), which crashes the process if another thread is inside PortAudio at that moment
(seen when a second tour opened while the first one's stream was still opening)."""

OPEN_TIMEOUT_S = 5.0
"""Longest wait for the first audio block after the stream opened; then the microphone counts as silent/broken."""


class _Relay(QObject):
    """Carries the opening thread's result to the GUI thread (parentless: it outlives a closed dialog)."""

    opened = Signal(object, str)  # the MicCapture, or None; the error message ("" when opened)

    def __init__(self) -> None:
        super().__init__()
        self.want = threading.Event()  # cleared by stop(): a stream that opens afterwards is closed at once


class MicLevelSource(QObject):
    """The microphone's level while it is running.

    Signals (GUI thread): ``opened()`` once audio arrives; ``failed(str)`` with a message starting "No microphone"
    or "The microphone" when it cannot be opened; ``level(float)`` the latest block's dBFS every :data:`POLL_MS`.

    Args:
        settings: ``[audio]`` (the device); None = the system default input.
    """

    opened = Signal()
    failed = Signal(str)
    level = Signal(float)

    def __init__(self, settings: AudioSettings | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._settings = settings or AudioSettings()
        self._capture: MicCapture | None = None
        self._want = False
        self._opening = False
        self._fresh = False
        self.latest_dbfs = SILENCE_DBFS
        """dBFS of the last block measured (SILENCE_DBFS before any)."""
        self.peak_dbfs = SILENCE_DBFS
        """Loudest block since :meth:`start` (dBFS)."""
        self.error = ""
        """The last opening error ("" when none)."""
        self._relay = _Relay()
        self._relay.opened.connect(self._on_opened)
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self.poll)

    @property
    def running(self) -> bool:
        """True while the microphone is open."""
        return self._capture is not None

    def start(self) -> None:
        """Open the microphone on a background thread (returns at once); ``opened`` or ``failed`` follows."""
        self._want = True
        self._relay.want.set()
        self.peak_dbfs = SILENCE_DBFS
        if self._capture is not None or self._opening:
            return
        self._opening = True
        self.error = ""
        threading.Thread(target=self._open, args=(self._relay,), name="jarvis-mic-level", daemon=True).start()

    def stop(self) -> None:
        """Close the microphone (on a background thread; returns at once)."""
        self._want = False
        self._relay.want.clear()
        self._timer.stop()
        capture, self._capture = self._capture, None
        if capture is not None:
            threading.Thread(target=_close, args=(capture,), name="jarvis-mic-level-stop", daemon=True).start()

    def measure(self, block: np.ndarray) -> None:
        """Measure one block of float samples (shape ``(n,)``, [-1, 1]): its dBFS goes to :attr:`latest_dbfs`
        (and :attr:`peak_dbfs`) for the next poll.

        Runs on the capture's worker thread; a full-scale sine is -3 dBFS, silence :data:`SILENCE_DBFS` (-100).
        """
        db = rms_dbfs(block)
        self.latest_dbfs = db
        self.peak_dbfs = max(self.peak_dbfs, db)
        self._fresh = True

    # ---- internals ---------------------------------------------------------------------------------
    def _open(self, relay: _Relay) -> None:
        capture = MicCapture(lambda _audio: None, settings=self._settings, on_block=self.measure)
        try:
            with _PORTAUDIO:
                capture.start()
            if not capture.first_block.wait(OPEN_TIMEOUT_S):
                _close(capture)
                relay.opened.emit(None, f"The microphone opened but sent no sound for {OPEN_TIMEOUT_S:.0f} s.")
                return
        except JarvisError as exc:
            relay.opened.emit(None, _no_microphone(exc.user_message()))
            return
        except Exception as exc:  # a PortAudio failure of another kind: still a plain message, never a crash
            relay.opened.emit(None, _no_microphone(f"{type(exc).__name__}: {exc}"))
            return
        if not relay.want.is_set():  # stopped (or its dialog closed) while opening
            _close(capture)
            return
        relay.opened.emit(capture, "")

    def _on_opened(self, capture: MicCapture | None, error: str) -> None:
        self._opening = False
        if capture is None:
            self.error = error
            self.failed.emit(error)
            return
        if not self._want:  # stopped while it was opening
            threading.Thread(target=_close, args=(capture,), daemon=True).start()
            return
        self._capture = capture
        self._timer.start()
        self.opened.emit()

    def poll(self) -> None:
        """Emit ``level`` with the latest dBFS if a block was measured since the last call (the GUI thread's
        timer calls it every :data:`POLL_MS` while the microphone is open)."""
        if self._fresh:
            self._fresh = False
            self.level.emit(self.latest_dbfs)


def _close(capture: MicCapture) -> None:
    with _PORTAUDIO:
        capture.stop()


def _no_microphone(detail: str) -> str:
    """'No microphone found: ...' without repeating the capture's own 'no microphone found: ' prefix."""
    prefix = "no microphone found: "
    if detail.lower().startswith(prefix):
        detail = detail[len(prefix) :]
    return f"No microphone found: {detail}"


class MicLevelMeter(QWidget):
    """A level bar: ``set_level(dbfs)`` from the GUI thread; :data:`FLOOR_DB` is empty, 0 dBFS full. Green up to
    -20 dBFS, amber to -6, red above (clipping near); a thin mark holds the loudest level."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("micLevelMeter")
        self.setMinimumHeight(18)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.dbfs = SILENCE_DBFS
        self.peak = SILENCE_DBFS

    @staticmethod
    def fraction(dbfs: float) -> float:
        """``dbfs`` as a share of the bar in [0, 1]."""
        return float(min(1.0, max(0.0, (dbfs - FLOOR_DB) / -FLOOR_DB)))

    def set_level(self, dbfs: float) -> None:
        """Show ``dbfs`` (the loudest so far is kept as a mark)."""
        self.dbfs = dbfs
        self.peak = max(self.peak, dbfs)
        self.update()

    def reset(self) -> None:
        """Empty the bar and forget the peak."""
        self.dbfs = self.peak = SILENCE_DBFS
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(320, 18)

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        p.setPen(QColor(128, 128, 128, 110))
        p.setBrush(QColor(128, 128, 128, 40))
        p.drawRoundedRect(rect, 5, 5)
        share = self.fraction(self.dbfs)
        if share > 0:
            color = "#3fb950" if self.dbfs < -20 else "#d29922" if self.dbfs < -6 else "#f85149"
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(QColor(color))
            p.drawRoundedRect(QRectF(rect.left(), rect.top(), rect.width() * share, rect.height()), 5, 5)
        peak = self.fraction(self.peak)
        if peak > 0:
            x = rect.left() + rect.width() * peak
            p.setPen(QColor(220, 220, 220) if self.palette().window().color().lightness() < 128 else QColor(60, 60, 60))
            p.drawLine(int(x), int(rect.top()) + 2, int(x), int(rect.bottom()) - 2)
        p.end()
