"""The app's look: a Fusion base, a dark or light palette, and one small stylesheet.

``is_dark(app)`` follows the desktop's colour scheme (Qt >= 6.5 ``styleHints().colorScheme()``), falling back
to the lightness of the window palette; ``JARVIS_THEME=dark|light`` overrides both. ``apply_style(app)``
installs everything and returns the colour table it used, so widgets that paint themselves (the level meter)
can use the same colours.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication


@dataclass(frozen=True)
class Colors:
    """Named colours (``#rrggbb``) for one theme."""

    window: str
    surface: str  # panels: chat background, strip
    surface_alt: str  # assistant bubbles, input line
    border: str
    text: str
    text_muted: str
    accent: str  # user bubbles, primary buttons, the mic
    accent_text: str
    danger: str  # stop, recording
    ok: str
    chip: str
    chip_text: str


DARK = Colors(
    window="#16181d",
    surface="#1d2027",
    surface_alt="#272b34",
    border="#323743",
    text="#e8eaef",
    text_muted="#9aa1ad",
    accent="#5b7cfa",
    accent_text="#ffffff",
    danger="#e5484d",
    ok="#3fb27f",
    chip="#2b3140",
    chip_text="#c9d3ff",
)
LIGHT = Colors(
    window="#f3f4f7",
    surface="#ffffff",
    surface_alt="#eef0f4",
    border="#d9dce3",
    text="#1b1e24",
    text_muted="#636b78",
    accent="#3d63f0",
    accent_text="#ffffff",
    danger="#d93036",
    ok="#22935f",
    chip="#e7ecff",
    chip_text="#2a3f9e",
)


def is_dark(app: QApplication | None = None) -> bool:
    """True when the dark theme should be used (``JARVIS_THEME`` env, else the desktop's scheme)."""
    forced = os.environ.get("JARVIS_THEME", "").strip().lower()
    if forced in ("dark", "light"):
        return forced == "dark"
    if app is None:
        instance = QApplication.instance()
        app = instance if isinstance(instance, QApplication) else None
    if app is None:
        return False
    hints = app.styleHints()
    scheme = getattr(hints, "colorScheme", None)
    if scheme is not None:
        value = scheme()
        if value == Qt.ColorScheme.Dark:
            return True
        if value == Qt.ColorScheme.Light:
            return False
    return app.palette().color(QPalette.ColorRole.Window).lightness() < 128


def _palette(c: Colors) -> QPalette:
    pal = QPalette()
    role = QPalette.ColorRole
    for r, value in (
        (role.Window, c.window),
        (role.WindowText, c.text),
        (role.Base, c.surface),
        (role.AlternateBase, c.surface_alt),
        (role.Text, c.text),
        (role.Button, c.surface_alt),
        (role.ButtonText, c.text),
        (role.Highlight, c.accent),
        (role.HighlightedText, c.accent_text),
        (role.ToolTipBase, c.surface_alt),
        (role.ToolTipText, c.text),
        (role.PlaceholderText, c.text_muted),
        (role.Link, c.accent),
    ):
        pal.setColor(r, QColor(value))
    pal.setColor(QPalette.ColorGroup.Disabled, role.ButtonText, QColor(c.text_muted))
    pal.setColor(QPalette.ColorGroup.Disabled, role.Text, QColor(c.text_muted))
    return pal


def stylesheet(c: Colors) -> str:
    """The Qt stylesheet for theme ``c``. Widgets opt in through their ``objectName``."""
    return f"""
QMainWindow, QWidget#central {{ background: {c.window}; }}
QWidget {{ font-size: 10.5pt; }}
QToolTip {{ color: {c.text}; background: {c.surface_alt}; border: 1px solid {c.border}; padding: 4px; }}

QToolBar {{
    background: {c.window}; border: none; border-bottom: 1px solid {c.border}; padding: 4px 8px; spacing: 6px;
}}
QToolBar QToolButton {{ color: {c.text}; padding: 5px 10px; border-radius: 6px; }}
QToolBar QToolButton:hover {{ background: {c.surface_alt}; }}
QToolBar QToolButton:checked {{ background: {c.chip}; color: {c.chip_text}; }}
QToolBar QToolButton:disabled {{ color: {c.text_muted}; }}
QMenuBar {{ background: {c.window}; color: {c.text}; }}
QMenuBar::item:selected {{ background: {c.surface_alt}; border-radius: 4px; }}
QMenu {{ background: {c.surface}; color: {c.text}; border: 1px solid {c.border}; padding: 4px; }}
QMenu::item {{ padding: 5px 18px; border-radius: 4px; }}
QMenu::item:selected {{ background: {c.accent}; color: {c.accent_text}; }}
QStatusBar {{ background: {c.window}; color: {c.text_muted}; border-top: 1px solid {c.border}; }}
QStatusBar::item {{ border: none; }}
QStatusBar QLabel {{ color: {c.text_muted}; padding: 0 2px; }}
QLabel#statusDot {{ padding-left: 8px; }}
QLabel#statusDot[state="loading"] {{ color: #d9a400; }}
QLabel#statusDot[state="ready"] {{ color: {c.ok}; }}
QLabel#statusDot[state="busy"] {{ color: {c.accent}; }}
QLabel#statusDot[state="error"] {{ color: {c.danger}; }}

QScrollArea#chatScroll {{ background: {c.surface}; border: 1px solid {c.border}; border-radius: 10px; }}
QScrollArea#chatScroll > QWidget#qt_scrollarea_viewport {{ background: transparent; }}
QWidget#chatBody {{ background: transparent; }}
QLabel#appTitle {{ color: {c.text}; font-size: 12.5pt; font-weight: 700; }}
QLabel#appSubtitle {{ color: {c.text_muted}; font-size: 9pt; }}
QScrollBar:vertical {{ background: transparent; width: 10px; margin: 4px 2px; }}
QScrollBar::handle:vertical {{ background: {c.border}; border-radius: 3px; min-height: 30px; }}
QScrollBar::add-line, QScrollBar::sub-line {{ height: 0; }}
QScrollBar::add-page, QScrollBar::sub-page {{ background: none; }}

QFrame#bubbleUser {{ background: {c.accent}; border-radius: 14px; border-bottom-right-radius: 4px; }}
QFrame#bubbleUser QLabel {{ color: {c.accent_text}; background: transparent; }}
QFrame#bubbleAssistant {{ background: {c.surface_alt}; border-radius: 14px; border-bottom-left-radius: 4px; }}
QFrame#bubbleAssistant QLabel {{ color: {c.text}; background: transparent; }}
QFrame#bubbleSystem {{ background: transparent; border: 1px solid {c.danger}; border-radius: 10px; }}
QFrame#bubbleSystem QLabel {{ color: {c.danger}; background: transparent; }}
QLabel#badge {{ color: {c.text_muted}; font-size: 8.5pt; }}
QFrame#bubbleUser QLabel#badge {{ color: rgba(255, 255, 255, 0.75); }}
QLabel#emptyHint {{ color: {c.text_muted}; font-size: 11pt; }}
QFrame#bubbleUser QToolButton, QFrame#bubbleAssistant QToolButton {{
    font-size: 8.5pt; padding: 0px 4px; border: none; color: {c.text_muted};
}}
QFrame#bubbleUser QToolButton {{ color: rgba(255, 255, 255, 0.75); }}
QFrame#bubbleAssistant QToolButton#msg_yes, QFrame#bubbleAssistant QToolButton#msg_no,
QFrame#bubbleAssistant QToolButton#msg_continue {{
    font-size: 9.5pt; padding: 2px 10px; border-radius: 6px; background: {c.chip}; color: {c.chip_text};
}}

QFrame#strip {{ background: {c.surface}; border: 1px solid {c.border}; border-radius: 10px; }}
QLabel#stripTitle {{ color: {c.text_muted}; font-size: 8.5pt; font-weight: 600; }}
QLabel#transcript {{ color: {c.text}; font-style: italic; }}
QLabel#chip {{ background: {c.chip}; color: {c.chip_text}; border-radius: 9px; padding: 2px 9px; font-size: 9pt; }}
QLabel#chip[kind="intent"] {{ background: {c.accent}; color: {c.accent_text}; font-weight: 600; }}
QLabel#chip[kind="when"] {{ background: {c.ok}; color: #ffffff; }}
QLabel#chipMuted {{ color: {c.text_muted}; font-size: 9pt; }}

QLineEdit#prompt {{ background: {c.surface}; color: {c.text}; border: 1px solid {c.border}; border-radius: 18px;
                    padding: 7px 14px; selection-background-color: {c.accent}; }}
QLineEdit#prompt:focus {{ border: 1px solid {c.accent}; }}
QPushButton {{ background: {c.surface_alt}; color: {c.text}; border: 1px solid {c.border}; border-radius: 18px;
               padding: 7px 16px; min-height: 22px; }}
QPushButton:hover {{ border-color: {c.accent}; }}
QPushButton:disabled {{ color: {c.text_muted}; border-color: {c.border}; background: {c.surface}; }}
QPushButton#send {{ background: {c.accent}; color: {c.accent_text}; border: none; font-weight: 600; }}
QPushButton#send:disabled {{ background: {c.surface_alt}; color: {c.text_muted}; }}
QPushButton#stop {{ color: {c.danger}; border-color: {c.danger}; }}
QPushButton#stop:disabled {{ color: {c.text_muted}; border-color: {c.border}; }}
QPushButton#mic {{ background: {c.surface_alt}; border: 2px solid {c.accent}; border-radius: 19px; padding: 0; }}
QPushButton#mic[recording="true"] {{ background: {c.danger}; border-color: {c.danger}; }}
QPushButton#mic:disabled {{ border-color: {c.border}; }}
"""


def apply_style(app: QApplication) -> Colors:
    """Install Fusion, the palette and the stylesheet on ``app``; returns the colours used."""
    colors = DARK if is_dark(app) else LIGHT
    app.setStyle("Fusion")
    app.setPalette(_palette(colors))
    app.setStyleSheet(stylesheet(colors))
    app.setProperty("jarvisColors", colors.__dict__.copy())
    return colors


def current_colors() -> Colors:
    """The colours ``apply_style`` installed (the light theme if it was never called)."""
    app = QApplication.instance()
    table = app.property("jarvisColors") if app is not None else None
    if isinstance(table, dict):
        return Colors(**table)
    return LIGHT
