"""The Windows and macOS backend of the global hotkey: pynput's keyboard listener (a low-level keyboard hook on
Windows, a Quartz event tap on macOS), which sees keys while another application has focus.

Not tested here (this project's machines run Linux); see docs/hotkey.md. Unlike the X11 grab, the listener does not
take the key away from the focused application, and a combination another program uses cannot be detected. macOS
asks the user to allow Jarvis under Privacy & Security > Accessibility (or Input Monitoring) the first time.
pynput is imported when the backend starts, because it is a dependency on Windows and macOS only.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from jarvis_desktop.voice.hotkey_types import HotkeyCombo, HotkeyError


def pynput_missing() -> str:
    """ "" when pynput's keyboard module imports, else why not."""
    try:
        importlib.import_module("pynput.keyboard")
    except ImportError as exc:  # not installed, or no backend for this platform
        return str(exc)
    return ""


class PynputKeyGrab:
    """Watch for one combination with pynput and report its edges from the listener's thread.

    ``on_down()``: the key went down with exactly the combination's modifiers held; ``on_up()``: that key went up.
    Repeated presses of a held key (Windows auto-repeat) are reported again as ``on_down``; the caller drops them.
    """

    def __init__(self, combo: HotkeyCombo, on_down: Callable[[], None], on_up: Callable[[], None]) -> None:
        self._combo = combo
        self._on_down = on_down
        self._on_up = on_up
        self._listener: Any = None  # a pynput.keyboard.Listener (untyped library)
        self._modifiers: frozenset[object] = frozenset()
        self._key: object = None
        self._pressed: set[object] = set()
        self._down = False

    def start(self) -> None:
        """Start the listener. No-op when already running. Raises HotkeyError when pynput is missing."""
        if self._listener is not None:
            return
        try:
            keyboard = importlib.import_module("pynput.keyboard")
        except ImportError as exc:
            raise HotkeyError(f"pynput is not installed ({exc})", hint="pip install pynput") from exc
        listener = keyboard.Listener(on_press=self._press, on_release=self._release)
        *modifiers, key = [listener.canonical(k) for k in keyboard.HotKey.parse(self._combo.pynput_text())]
        self._modifiers, self._key = frozenset(modifiers), key
        self._pressed.clear()
        self._down = False
        self._listener = listener
        listener.start()
        listener.wait()

    def stop(self, timeout: float = 1.0) -> None:
        """Stop the listener and join its thread (within ``timeout`` seconds). Idempotent."""
        listener, self._listener = self._listener, None
        if listener is None:
            return
        listener.stop()
        listener.join(timeout)
        self._down = False

    def _canonical(self, key: object) -> object:
        return self._listener.canonical(key) if self._listener is not None else key

    def _press(self, key: object) -> None:
        canonical = self._canonical(key)
        if canonical in self._modifiers:
            self._pressed.add(canonical)
        elif canonical == self._key and self._pressed == set(self._modifiers):
            self._down = True
            self._on_down()

    def _release(self, key: object) -> None:
        canonical = self._canonical(key)
        if canonical in self._modifiers:
            self._pressed.discard(canonical)
        elif canonical == self._key and self._down:
            self._down = False
            self._on_up()
