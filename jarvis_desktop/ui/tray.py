"""System tray icon: show/hide the window, start listening, quit; notifications for fired reminders.

``create_tray(window, icon)`` returns a :class:`JarvisTray` when the desktop has a system tray
(``QSystemTrayIcon.isSystemTrayAvailable()``), else None. With a tray, closing the main window hides it
(the app keeps running in the tray); without one, closing the window quits. The window asks
``window.tray is not None`` to decide.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QIcon
from PySide6.QtWidgets import QApplication, QMenu, QSystemTrayIcon

if TYPE_CHECKING:  # pragma: no cover
    from jarvis_desktop.ui.main_window import MainWindow


class JarvisTray(QSystemTrayIcon):
    """The tray icon and its menu; a left click toggles the window."""

    def __init__(self, window: MainWindow, icon: QIcon) -> None:
        super().__init__(icon, window)
        self.window = window
        self.setToolTip("Jarvis — offline voice assistant")
        menu = QMenu()
        self.toggle_action = QAction("Hide window", menu)
        self.toggle_action.triggered.connect(self.toggle_window)
        self.listen_action = QAction("Start listening", menu)
        self.listen_action.triggered.connect(self.start_listening)
        self.quit_action = QAction("Quit Jarvis", menu)
        self.quit_action.triggered.connect(self.quit)
        menu.addAction(self.toggle_action)
        menu.addAction(self.listen_action)
        menu.addSeparator()
        menu.addAction(self.quit_action)
        self._menu = menu
        self.setContextMenu(menu)
        self.activated.connect(self._on_activated)
        menu.aboutToShow.connect(self._refresh)

    def _refresh(self) -> None:
        self.toggle_action.setText("Hide window" if self.window.isVisible() else "Show window")
        self.listen_action.setText("Stop listening" if self.window.mic_button.recording else "Start listening")

    def _on_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason == QSystemTrayIcon.ActivationReason.Trigger:
            self.toggle_window()

    def toggle_window(self) -> None:
        if self.window.isVisible() and not self.window.isMinimized():
            self.window.hide()
        else:
            self.show_window()

    def show_window(self) -> None:
        self.window.showNormal()
        self.window.raise_()
        self.window.activateWindow()

    def start_listening(self) -> None:
        self.show_window()
        self.window.mic_button.toggle_recording()

    def quit(self) -> None:
        self.window.quit_app()

    def notify(self, title: str, body: str, urgent: bool = False) -> None:
        """A notification balloon from the tray (reminders, timers, alarms); ``urgent`` stays up longer."""
        self.showMessage(title, body, self.icon(), 30_000 if urgent else 10_000)


def create_tray(window: MainWindow, icon: QIcon) -> JarvisTray | None:
    """A shown tray icon for ``window``, or None when the desktop has no system tray."""
    if QApplication.instance() is None or not QSystemTrayIcon.isSystemTrayAvailable():
        return None
    tray = JarvisTray(window, icon)
    tray.show()
    return tray
