"""System tray icon: show/hide the window, "Listen now", the wake word on/off, quit; notifications for fired
reminders.

"Listen now" makes a running hands-free session hear a command without the wake word
(:meth:`MainWindow.listen_now`); with no session it starts (or stops) a push-to-talk recording in the window.
"Wake word on/off" is checkable and shows ``[voice] wake_word``; toggling it writes the setting to
``settings.toml`` on a short background thread (the GUI thread never waits on the file), then emits
``wake_word_changed(bool)`` (the window restarts a running hands-free session with it) or, when the file cannot
be written, puts the check back and emits ``wake_word_failed(str)``.

While a hands-free session runs, the icon carries a dot for its state (:func:`state_icon`: green while hearing,
amber while thinking, none while waiting) and the tooltip says the state, so a wake word that was heard shows at
once even with the window hidden.

``create_tray(window, icon)`` returns a :class:`JarvisTray` when the desktop has a system tray
(``QSystemTrayIcon.isSystemTrayAvailable()``), else None. With a tray, closing the main window hides it
(the app keeps running in the tray); without one, closing the window quits. The window asks
``window.tray is not None`` to decide.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QRectF, Qt, Signal
from PySide6.QtGui import QAction, QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QApplication, QMenu, QSystemTrayIcon

from jarvis_desktop.config import Settings, load_settings, save_settings
from jarvis_desktop.errors import JarvisError

if TYPE_CHECKING:  # pragma: no cover
    from jarvis_desktop.ui.main_window import MainWindow


WAKE_LABEL = 'Wake word ("hey Jarvis")'
SPEAK_LABEL = "Speak replies"
TOOLTIP = "Jarvis — offline voice assistant"

STATE_DOTS: dict[str, tuple[str, str]] = {
    "hearing": ("#2e9d4f", "hearing you"),
    "transcribing": ("#e0a100", "thinking"),
    "responding": ("#e0a100", "thinking"),
    "follow_up": ("#2e9d4f", "listening for a follow-up"),
}
"""Hands-free states (``ListeningState`` values) that mark the tray icon: (dot colour, tooltip words)."""


def state_icon(base: QIcon, state: str, size: int = 64) -> QIcon:
    """``base`` with a dot in its lower right corner for ``state`` (a ``ListeningState`` value); ``base`` itself
    for the waiting states and unknown values. ``size``: the pixmap edge in pixels."""
    dot = STATE_DOTS.get(state)
    if dot is None:
        return base
    pixmap = base.pixmap(size, size)
    if pixmap.isNull():
        pixmap = QPixmap(size, size)
        pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(QColor("white"))
    painter.setBrush(QColor(dot[0]))
    edge = size * 0.42
    painter.drawEllipse(QRectF(size - edge - 1, size - edge - 1, edge, edge))
    painter.end()
    return QIcon(pixmap)


def write_wake_word(
    on: bool, load: Callable[[], Settings] = load_settings, save: Callable[[Settings], object] = save_settings
) -> None:
    """Set ``[voice] wake_word`` in the settings file, keeping every other value. Raises JarvisError or OSError."""
    settings = load()
    save(dataclasses.replace(settings, voice=dataclasses.replace(settings.voice, wake_word=on)))


class _SaveRelay(QObject):
    """Carries the settings writer's result from its thread to the GUI thread ("" = saved)."""

    done = Signal(bool, str)


class JarvisTray(QSystemTrayIcon):
    """The tray icon and its menu; a left click toggles the window.

    Args:
        window: the main window. icon: the tray icon.
        wake_word: the initial check of "Wake word" (``None``: read ``[voice] wake_word`` from the settings file).
    """

    wake_word_changed = Signal(bool)
    wake_word_failed = Signal(str)

    def __init__(self, window: MainWindow, icon: QIcon, wake_word: bool | None = None) -> None:
        super().__init__(icon, window)
        self.window = window
        self.base_icon = icon
        self.listening_state = ""
        self.setToolTip(TOOLTIP)
        menu = QMenu()
        self.toggle_action = QAction("Hide window", menu)
        self.toggle_action.triggered.connect(self.toggle_window)
        self.listen_action = QAction("Listen now", menu)
        self.listen_action.triggered.connect(self.start_listening)
        self.wake_action = QAction(WAKE_LABEL, menu)
        self.wake_action.setCheckable(True)
        self.wake_action.setChecked(_read_wake_word() if wake_word is None else wake_word)
        self.wake_action.toggled.connect(self.set_wake_word)
        self.speak_action = QAction(SPEAK_LABEL, menu)
        self.speak_action.setCheckable(True)
        self.speak_action.setChecked(window.reply_voice.enabled)
        self.speak_action.setEnabled(window.reply_voice.speaker is not None)
        self.speak_action.toggled.connect(self.set_speak_replies)
        self.quit_action = QAction("Quit Jarvis", menu)
        self.quit_action.triggered.connect(self.quit)
        menu.addAction(self.toggle_action)
        menu.addAction(self.listen_action)
        menu.addAction(self.wake_action)
        menu.addAction(self.speak_action)
        menu.addSeparator()
        menu.addAction(self.quit_action)
        self._menu = menu
        self.setContextMenu(menu)
        self.activated.connect(self._on_activated)
        menu.aboutToShow.connect(self._refresh)

    def _refresh(self) -> None:
        self.toggle_action.setText("Hide window" if self.window.isVisible() else "Show window")
        recording = self.window.mic_button.recording and self.window.voice_worker is None
        self.listen_action.setText("Stop listening" if recording else "Listen now")

    def _on_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason == QSystemTrayIcon.ActivationReason.Trigger:
            self.toggle_window()

    def toggle_window(self) -> None:
        if self.window.isVisible() and not self.window.isMinimized():
            self.window.hide()
        else:
            self.show_window()

    def show_window(self) -> None:
        """Show the window from the tray (a maximized window stays maximized), raised and focused."""
        self.window.raise_window()

    def start_listening(self) -> None:
        """ "Listen now": the hands-free session hears a command now, else push-to-talk starts (or stops)."""
        self.show_window()
        if not self.window.listen_now():
            self.window.mic_button.toggle_recording()

    def set_wake_word(self, on: bool) -> None:
        """Write ``[voice] wake_word = on`` on a background thread; ``wake_word_changed`` / ``_failed`` follow."""
        relay = _SaveRelay()
        relay.done.connect(self._on_wake_saved)
        threading.Thread(target=_save_wake_word, args=(on, relay), name="jarvis-save-wake", daemon=True).start()

    def set_speak_replies(self, on: bool) -> None:
        """ "Speak replies": mute or unmute at once (off also stops what is being said); ``[speech] enabled`` is
        written on a background thread (a failure is shown, the switch still holds for this run)."""
        self.window.set_speak_replies(on)
        relay = _SaveRelay()
        relay.done.connect(lambda _on, error: self.wake_word_failed.emit(error) if error else None)
        threading.Thread(target=_save_speech, args=(on, relay), name="jarvis-save-speech", daemon=True).start()

    def _on_wake_saved(self, on: bool, error: str) -> None:
        if error:
            self.wake_action.blockSignals(True)
            self.wake_action.setChecked(not on)
            self.wake_action.blockSignals(False)
            self.wake_word_failed.emit(error)
            return
        self.wake_word_changed.emit(on)

    def show_state(self, state: str) -> None:
        """Mark the icon and tooltip with a hands-free ``state`` (a ``ListeningState`` value; ``""`` = no session)."""
        if state == self.listening_state:
            return
        self.listening_state = state
        self.setIcon(state_icon(self.base_icon, state))
        words = STATE_DOTS.get(state, ("", ""))[1]
        self.setToolTip(f"{TOOLTIP} — {words}" if words else TOOLTIP)

    def quit(self) -> None:
        self.window.quit_app()

    def notify(self, title: str, body: str, urgent: bool = False) -> None:
        """A notification balloon from the tray (reminders, timers, alarms); ``urgent`` stays up longer."""
        self.showMessage(title, body, self.icon(), 30_000 if urgent else 10_000)


def _read_wake_word() -> bool:
    """``[voice] wake_word`` from the settings file; the default (on) when the file cannot be read."""
    try:
        return load_settings().voice.wake_word
    except (JarvisError, OSError):
        return True


def _save_wake_word(on: bool, relay: _SaveRelay) -> None:
    """Background thread: write the setting, report ("" or the error) through ``relay``."""
    try:
        write_wake_word(on)
    except (JarvisError, OSError) as exc:
        relay.done.emit(on, exc.user_message() if isinstance(exc, JarvisError) else f"cannot save: {exc}")
        return
    relay.done.emit(on, "")


def _save_speech(on: bool, relay: _SaveRelay) -> None:
    """Background thread: write ``[speech] enabled``, report ("" or the error) through ``relay``."""
    try:
        settings = load_settings()
        save_settings(dataclasses.replace(settings, speech=dataclasses.replace(settings.speech, enabled=on)))
    except (JarvisError, OSError) as exc:
        relay.done.emit(on, exc.user_message() if isinstance(exc, JarvisError) else f"cannot save: {exc}")
        return
    relay.done.emit(on, "")


def create_tray(window: MainWindow, icon: QIcon) -> JarvisTray | None:
    """A shown tray icon for ``window``, or None when the desktop has no system tray."""
    if QApplication.instance() is None or not QSystemTrayIcon.isSystemTrayAvailable():
        return None
    tray = JarvisTray(window, icon)
    tray.show()
    return tray
