"""The global push-to-talk / toggle hotkey, without Qt: :class:`GlobalHotkey` calls ``on_press`` / ``on_release``
from a thread of its own while another application has focus; :func:`probe` says whether that can work in this
session and, where it cannot, why and what the Settings dialog offers instead.

Backends: X11 (``XGrabKey`` through python-xlib, :mod:`.hotkey_x11`); Windows and macOS (pynput's listener,
:mod:`.hotkey_pynput`, untested here); Wayland: only a check whether the desktop offers the xdg-desktop-portal
GlobalShortcuts interface (:mod:`.hotkey_portal`); the fallback is a desktop shortcut bound to
``jarvis-desktop listen --toggle``. Shared types and the setting's parser are in :mod:`.hotkey_types`.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable, Mapping
from typing import Protocol

from jarvis_desktop.voice.hotkey_portal import PortalAvailability, probe_global_shortcuts
from jarvis_desktop.voice.hotkey_pynput import PynputKeyGrab, pynput_missing
from jarvis_desktop.voice.hotkey_types import (
    FALLBACK_TEXT,
    HotkeyBackend,
    HotkeyCombo,
    HotkeyError,
    HotkeyInUseError,
    HotkeyMode,
    HotkeyStatus,
    HotkeySupport,
    parse_hotkey,
)
from jarvis_desktop.voice.hotkey_x11 import X11KeyGrab, can_open_display

__all__ = [
    "FALLBACK_TEXT",
    "GlobalHotkey",
    "HotkeyBackend",
    "HotkeyCombo",
    "HotkeyError",
    "HotkeyInUseError",
    "HotkeyMode",
    "HotkeyStatus",
    "HotkeySupport",
    "is_wayland",
    "parse_hotkey",
    "probe",
]

log = logging.getLogger(__name__)


def is_wayland(env: Mapping[str, str]) -> bool:
    """A Wayland session: ``XDG_SESSION_TYPE=wayland``, or ``WAYLAND_DISPLAY`` set and ``DISPLAY`` not set.

    (Under XWayland ``DISPLAY`` is set too, but an X grab there only sees keys while an X window has focus.)
    """
    if env.get("XDG_SESSION_TYPE", "").lower() == "wayland":
        return True
    return bool(env.get("WAYLAND_DISPLAY")) and not env.get("DISPLAY")


def _unsupported(status: HotkeyStatus, backend: HotkeyBackend, reason: str) -> HotkeySupport:
    return HotkeySupport(status, backend, reason, FALLBACK_TEXT)


def _probe_wayland(env: Mapping[str, str]) -> HotkeySupport:
    portal = probe_global_shortcuts(env)
    if portal.availability is PortalAvailability.OFFERED:
        return _unsupported(
            HotkeyStatus.PORTAL_OFFERED,
            HotkeyBackend.WAYLAND_PORTAL,
            f"Wayland: {portal.detail}, but Jarvis does not bind shortcuts through it yet.",
        )
    if portal.availability is PortalAvailability.ABSENT:
        return _unsupported(
            HotkeyStatus.UNSUPPORTED,
            HotkeyBackend.NONE,
            f"Wayland lets no application grab keys itself, and {portal.detail}.",
        )
    return _unsupported(
        HotkeyStatus.UNKNOWN,
        HotkeyBackend.WAYLAND_PORTAL,
        f"Wayland lets no application grab keys itself; whether the desktop offers the GlobalShortcuts portal is "
        f"unknown: {portal.detail}.",
    )


def _probe_pynput(platform: str) -> HotkeySupport:
    name = "Windows" if platform == "win32" else "macOS"
    missing = pynput_missing()
    if missing:
        return _unsupported(HotkeyStatus.UNSUPPORTED, HotkeyBackend.PYNPUT, f"pynput is not usable: {missing}.")
    note = " (macOS asks to allow Jarvis under Privacy & Security > Accessibility)" if platform == "darwin" else ""
    return HotkeySupport(HotkeyStatus.SUPPORTED, HotkeyBackend.PYNPUT, f"{name}: pynput's listener{note}.", "")


def probe(env: Mapping[str, str] | None = None, platform: str | None = None) -> HotkeySupport:
    """Whether a global hotkey can be grabbed in this session, without grabbing anything.

    ``env``: the environment to judge (default ``os.environ``); ``platform``: ``sys.platform`` by default. On X11 it
    connects to ``$DISPLAY`` and disconnects; on Wayland it asks the session bus about the portal (at most ~2 s).
    Never raises.
    """
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    if platform in ("win32", "darwin"):
        return _probe_pynput(platform)
    if is_wayland(env):
        return _probe_wayland(env)
    display = env.get("DISPLAY", "")
    if not display:
        return _unsupported(
            HotkeyStatus.UNSUPPORTED,
            HotkeyBackend.NONE,
            "No graphical session here (neither DISPLAY nor WAYLAND_DISPLAY is set).",
        )
    problem = can_open_display(display)
    if problem:
        return _unsupported(HotkeyStatus.UNSUPPORTED, HotkeyBackend.X11, f"X11: {problem}.")
    return HotkeySupport(HotkeyStatus.SUPPORTED, HotkeyBackend.X11, f"X11: a key grab on display {display}.", "")


class _KeyGrab(Protocol):
    def start(self) -> None: ...

    def stop(self, timeout: float = 1.0) -> None: ...


class _Gate:
    """Raw key edges -> begin/end calls, by mode. Drops a press while the key is already down (auto-repeat,
    repeated XTEST key-downs) and a release while it is up. Thread-safe."""

    def __init__(self, mode: HotkeyMode, on_begin: Callable[[], None], on_end: Callable[[], None]) -> None:
        self._mode = mode
        self._on_begin = on_begin
        self._on_end = on_end
        self._lock = threading.Lock()
        self._held = False
        self.active = False

    def down(self) -> None:
        with self._lock:
            if self._held:
                return
            self._held = True
            begin = not self.active
            if self._mode is HotkeyMode.TOGGLE or begin:
                self.active = begin
            else:
                return
        self._call(self._on_begin if begin else self._on_end)

    def up(self) -> None:
        with self._lock:
            if not self._held:
                return
            self._held = False
            if self._mode is not HotkeyMode.PUSH_TO_TALK or not self.active:
                return
            self.active = False
        self._call(self._on_end)

    def close(self) -> None:
        """Forget the key; end an open begin (so every on_press gets its on_release)."""
        with self._lock:
            self._held = False
            was_active, self.active = self.active, False
        if was_active:
            self._call(self._on_end)

    @staticmethod
    def _call(callback: Callable[[], None]) -> None:
        try:
            callback()
        except Exception:  # a failing callback must not kill the key thread
            log.exception("hotkey callback failed")


class GlobalHotkey:
    """A global key combination for push-to-talk or toggle.

    ``combo``: the setting's text (``"<ctrl>+<alt>+j"``, parsed by :func:`parse_hotkey`: BadInputError on a bad one)
    or a HotkeyCombo. ``on_press()`` / ``on_release()`` are called from the backend's thread, never both at once:

    - PUSH_TO_TALK: on_press when the combination goes down, on_release when its key goes up (auto-repeat filtered);
    - TOGGLE: each press alternates on_press (start listening) and on_release (stop); releases do nothing.

    ``env``: the environment to find the session in (default ``os.environ``; tests pass ``{"DISPLAY": ":5"}``).
    start() and stop() are idempotent; stop() releases the grab, joins the thread within 1 s and, if on_press was
    the last call, calls on_release. Usable as a context manager.
    """

    def __init__(
        self,
        combo: str | HotkeyCombo,
        on_press: Callable[[], None],
        on_release: Callable[[], None],
        *,
        mode: HotkeyMode = HotkeyMode.PUSH_TO_TALK,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.combo = combo if isinstance(combo, HotkeyCombo) else parse_hotkey(combo)
        self.mode = mode
        self._env: Mapping[str, str] = dict(os.environ if env is None else env)
        self._gate = _Gate(mode, on_press, on_release)
        self._grab: _KeyGrab | None = None
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        """True between a successful start() and stop()."""
        return self._grab is not None

    @property
    def active(self) -> bool:
        """True between an on_press and its on_release (the key held, or toggled on)."""
        return self._gate.active

    def start(self) -> None:
        """Grab the combination. Raises HotkeyError (with the fallback as hint) where it cannot be grabbed here,
        HotkeyInUseError when another program holds it."""
        with self._lock:
            if self._grab is not None:
                return
            support = probe(self._env)
            if not support.can_grab:
                raise HotkeyError(support.reason, hint=support.fallback)
            grab = self._make_grab(support.backend)
            grab.start()
            self._grab = grab

    def _make_grab(self, backend: HotkeyBackend) -> _KeyGrab:
        if backend is HotkeyBackend.X11:
            return X11KeyGrab(self.combo, self._env.get("DISPLAY"), self._gate.down, self._gate.up)
        return PynputKeyGrab(self.combo, self._gate.down, self._gate.up)

    def stop(self) -> None:
        """Release the grab and join the backend's thread (within 1 s). Idempotent."""
        with self._lock:
            grab, self._grab = self._grab, None
            if grab is None:
                return
            grab.stop(1.0)
            self._gate.close()

    def __enter__(self) -> GlobalHotkey:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
