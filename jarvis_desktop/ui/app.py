"""``run_gui(argv)``: the QApplication, app icon, style, main window and tray.

The CLI's no-argument path calls it. ``JARVIS_THEME=dark|light`` forces a theme. One instance per data directory:
a second launch asks the running window (on its control socket, :mod:`jarvis_desktop.voice.control`) to ``show``
itself and exits 0. ``--minimized`` (login autostart) starts hidden in the tray.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QIcon, QLinearGradient, QPainter, QPixmap
from PySide6.QtWidgets import QApplication

from jarvis_desktop.config import Settings, load_settings
from jarvis_desktop.errors import BadInputError
from jarvis_desktop.ui.main_window import MainWindow
from jarvis_desktop.ui.style import apply_style
from jarvis_desktop.ui.workers import exit_code_safely
from jarvis_desktop.voice.control import hand_over_to_running_window

NO_TRAY_NOTE = "Started with --minimized, but this desktop has no system tray: the window stays open."

ICON_PATH = Path(__file__).resolve().parents[2] / "resources" / "icons" / "jarvis.svg"


def app_icon() -> QIcon:
    """The app icon: ``resources/icons/jarvis.svg``, or the same design drawn in code if it is missing."""
    if ICON_PATH.is_file():
        icon = QIcon(str(ICON_PATH))
        if not icon.isNull() and not icon.pixmap(64, 64).isNull():
            return icon
    pix = QPixmap(256, 256)
    pix.fill(Qt.GlobalColor.transparent)
    p = QPainter(pix)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    grad = QLinearGradient(0, 0, 256, 256)
    grad.setColorAt(0, QColor("#4f7cff"))
    grad.setColorAt(1, QColor("#7a4dff"))
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(grad)
    p.drawRoundedRect(QRectF(8, 8, 240, 240), 56, 56)
    p.setBrush(QColor("#ffffff"))
    for x, y, w, h in ((52, 108, 20, 40), (84, 84, 20, 88), (116, 60, 24, 136), (152, 84, 20, 88), (184, 108, 20, 40)):
        p.drawRoundedRect(QRectF(x, y, w, h), w / 2, w / 2)
    p.end()
    return QIcon(pix)


def create_app(argv: Sequence[str] | None = None) -> QApplication:
    """The QApplication (reused if one exists), named, styled and with the app icon."""
    existing = QApplication.instance()
    if existing is None:
        app = QApplication(list(argv) if argv else [sys.argv[0] if sys.argv else "jarvis-desktop"])
    elif isinstance(existing, QApplication):
        app = existing
    else:
        raise RuntimeError("a QCoreApplication without widgets already exists; the GUI needs a QApplication")
    app.setApplicationName("Jarvis")
    app.setApplicationDisplayName("Jarvis")
    app.setOrganizationName("jarvis-desktop")
    app.setDesktopFileName("jarvis-desktop")
    app.setWindowIcon(app_icon())
    apply_style(app)
    return app


def run_gui(argv: Sequence[str] | None = None, settings: Settings | None = None, *, minimized: bool = False) -> int:
    """Start the GUI and run the event loop; returns the exit code (0 on a normal quit).

    If a Jarvis window of this data directory already runs, it is raised instead, one line goes to stderr and 0 is
    returned at once (no QApplication is made; :func:`~jarvis_desktop.voice.control.hand_over_to_running_window`;
    the entry point asks before Qt loads). ``minimized``: start hidden in the tray (shown, with a note in the
    conversation, when the desktop has no tray).

    With a system tray, closing the window keeps Jarvis in the tray; "Quit" in the tray menu or
    Ctrl+Q ends it. Without a tray, closing the window quits. ``settings`` None = read ``settings.toml``; a bad
    file (BadInputError) opens the window with the defaults and shows the error in it (the GUI never exits on it).
    """
    if hand_over_to_running_window(minimized):
        return 0
    app = create_app(argv)
    bad_settings = ""
    if settings is None:
        try:
            settings = load_settings()
        except BadInputError as exc:
            settings = Settings()
            bad_settings = f"Settings file not used, defaults in use: {exc.user_message()}"
    window = MainWindow(settings=settings, icon=app.windowIcon())
    if bad_settings:
        window.show_error(bad_settings)
    app.setQuitOnLastWindowClosed(window.tray is None)
    app.aboutToQuit.connect(window.shutdown)
    signal.signal(signal.SIGINT, lambda *_: window.quit_app())  # Ctrl+C in the terminal quits cleanly
    signal.signal(signal.SIGTERM, lambda *_: window.quit_app())  # a logout or `kill`: the same clean shutdown
    wake = QTimer(window)  # lets Python run its signal handlers while Qt's loop is idle
    wake.timeout.connect(lambda: None)
    wake.start(300)
    if not minimized:
        window.show()
    elif window.tray is None:
        window.show()
        window.chat.add_system(NO_TRAY_NOTE)
    return exit_code_safely(int(app.exec()))
