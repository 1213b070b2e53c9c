"""The global push-to-talk hotkey as Qt signals: :class:`HotkeyBridge` owns a
:class:`~jarvis_desktop.voice.hotkey.GlobalHotkey` (``[voice] hotkey``, push-to-talk mode) and re-emits its
``on_press`` / ``on_release`` (called from the hotkey's own thread) as ``pressed`` / ``released``; connected to
slots of GUI-thread objects they arrive queued on the GUI thread. See docs/hotkey.md.

``probe()`` and the grab run on a short-lived thread of their own (on Wayland the probe can wait ~2 s on D-Bus),
so :meth:`HotkeyBridge.start` returns at once; the outcome arrives as ``started``, ``unsupported`` (this session
cannot grab keys: the :class:`HotkeySupport` says why and what to do instead) or ``unavailable`` (the grab failed:
another program holds the combination, the display went away, a bad setting; one status line of text).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping

from PySide6.QtCore import QObject, Signal

from jarvis_desktop.voice.hotkey import GlobalHotkey, HotkeyMode, HotkeySupport, probe

log = logging.getLogger(__name__)


class HotkeyBridge(QObject):
    """A global push-to-talk key combination whose press and release are Qt signals.

    Args:
        combo: the setting's text (``"<ctrl>+<alt>+j"``, docs/hotkey.md); a bad one is reported through
            ``unavailable`` when started, never raised.
        env: the environment to find the session in (default: ``os.environ`` at construction; tests pass a
            ``DISPLAY`` of their own).
        parent: the owning QObject (the main window).

    Signals (emitted from the hotkey's or the start thread; queued to GUI-thread receivers):
        pressed(): the combination went down (auto-repeat filtered).
        released(): its key went up; also once from :meth:`stop` when the key was still held.
        started(): the grab is in place.
        unsupported(HotkeySupport): ``probe()`` says no key can be grabbed here (Wayland, no display ...).
        unavailable(str): the grab failed; the text reads ``"Global hotkey <combo> unavailable: <reason>"``.
    """

    pressed = Signal()
    released = Signal()
    started = Signal()
    unsupported = Signal(object)  # HotkeySupport
    unavailable = Signal(str)

    def __init__(self, combo: str, env: Mapping[str, str] | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.combo = combo
        self._env: dict[str, str] = dict(os.environ if env is None else env)
        self._lock = threading.Lock()
        self._hotkey: GlobalHotkey | None = None
        self._thread: threading.Thread | None = None
        self._closed = False

    @property
    def running(self) -> bool:
        """True while the grab is in place (between ``started`` and :meth:`stop`)."""
        with self._lock:
            return self._hotkey is not None

    def start(self) -> None:
        """Probe and grab on a background thread; returns at once. Only the first call does anything."""
        with self._lock:
            if self._thread is not None or self._closed:
                return
            self._thread = threading.Thread(target=self._probe_and_grab, name="jarvis-hotkey-start", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 3.0) -> None:
        """Release the grab (an open hold ends with ``released``) and wait up to ``timeout`` s for the start thread.
        Idempotent; a start still under way releases its grab as soon as it is made."""
        with self._lock:
            self._closed = True
            hotkey, self._hotkey = self._hotkey, None
            thread = self._thread
        if hotkey is not None:
            hotkey.stop()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    # ---- the start thread ----------------------------------------------------------------------------
    def _probe_and_grab(self) -> None:
        support: HotkeySupport = probe(self._env)
        if not support.can_grab:
            log.info("global hotkey %s not available here: %s", self.combo, support.reason)
            self.unsupported.emit(support)
            return
        try:
            hotkey = GlobalHotkey(
                self.combo, self.pressed.emit, self.released.emit, mode=HotkeyMode.PUSH_TO_TALK, env=self._env
            )
            hotkey.start()
        except Exception as exc:  # HotkeyInUseError, HotkeyError, BadInputError, or an X error: never a crash
            log.warning("global hotkey %s: %s", self.combo, exc)
            self.unavailable.emit(f"Global hotkey {self.combo} unavailable: {exc}")
            return
        with self._lock:
            closed = self._closed
            if not closed:
                self._hotkey = hotkey
        if closed:  # stop() ran while the grab was being made
            hotkey.stop()
            return
        self.started.emit()
