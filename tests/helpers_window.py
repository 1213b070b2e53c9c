"""Building the main window for GUI tests: a home directory of its own with a settings file, and a shown window
whose models have loaded (offscreen Qt; the tests wait on the window's own state, never on sleeps)."""

from __future__ import annotations

from pathlib import Path

LOAD_TIMEOUT_MS = 90_000


def make_home(tmp_path: Path, monkeypatch, settings_toml: str) -> Path:
    """``tmp_path/home`` as ``JARVIS_DESKTOP_HOME`` with ``settings_toml`` as its settings file (e.g. a short
    ``[chat] max_tokens`` so replies stay quick on 2 busy cores; the GUI reads it like any user setting)."""
    path = tmp_path / "home"
    path.mkdir()
    monkeypatch.setenv("JARVIS_DESKTOP_HOME", str(path))
    (path / "settings.toml").write_text(settings_toml, encoding="utf-8")
    return path


def shown_window(qtbot, settings=None):
    """A shown :class:`MainWindow` (no tray) with its models loaded and no error; the caller shuts it down."""
    from jarvis_desktop.ui.main_window import MainWindow

    window = MainWindow(settings=settings, use_tray=False, first_run=False)  # no welcome tour over the tests
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.engine_ready or window.last_error is not None, timeout=LOAD_TIMEOUT_MS)
    assert window.last_error is None, window.last_error
    return window
