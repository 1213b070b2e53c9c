"""The X11 backend of the global hotkey: ``XGrabKey`` on the root window through python-xlib, from its own thread.

A passive grab on the root window gets the key whatever window has focus, and the focused application does not
see it. The grab is made once per lock state (Caps Lock and Num Lock on or off) so that the hotkey works with
either lock on. A grab another client already holds fails with ``BadAccess``: that becomes HotkeyInUseError.

X11 auto-repeat: while a key is held the server sends KeyRelease + KeyPress pairs with the same server time. A
release is therefore held back for :data:`REPEAT_WINDOW_S`; a press of the same key with (nearly) the same server
time cancels it, and neither is reported. A press that comes while the key is already down (what an XTEST client
such as ``xdotool keydown`` repeated sends) is left for the caller to drop (see ``hotkey._Gate``).
"""

from __future__ import annotations

import logging
import select
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from jarvis_desktop.voice.hotkey_types import HotkeyCombo, HotkeyError, HotkeyInUseError

try:
    # python-xlib ships no type information (no py.typed; its stubs are not a dependency).
    from Xlib import XK, X  # type: ignore[import-untyped]
    from Xlib import error as xerror
    from Xlib.display import Display  # type: ignore[import-untyped]

    XLIB_MISSING = ""
except ImportError as exc:  # python-xlib is a Linux-only dependency
    XLIB_MISSING = str(exc)

log = logging.getLogger(__name__)

REPEAT_WINDOW_S = 0.03
"""How long a release waits for the press of an auto-repeat pair (seconds of wall time)."""
REPEAT_TIME_MS = 2
"""The largest server-time gap (ms) between a release and the next press that still counts as auto-repeat."""
POLL_S = 0.05
"""The thread's poll interval (seconds): stop() is seen within this."""


@dataclass
class _PendingRelease:
    server_time: int
    deadline: float  # time.monotonic() after which the release is real


def can_open_display(display_name: str | None) -> str:
    """Try to connect to the X display (and disconnect at once, grabbing nothing). Returns "" on success, else why
    not (python-xlib missing, the display cannot be opened)."""
    if XLIB_MISSING:
        return f"python-xlib is not installed ({XLIB_MISSING})"
    try:
        Display(display_name).close()
    except (xerror.DisplayError, OSError) as exc:
        return f"cannot open the X display {display_name!r}: {exc}"
    return ""


def _keycode_masks(display: Display) -> dict[int, int]:
    """keycode -> the modifier mask it sets, from the server's modifier mapping."""
    masks: dict[int, int] = {}
    for index, keycodes in enumerate(display.get_modifier_mapping()):
        for keycode in keycodes:
            if keycode:
                masks[int(keycode)] = 1 << index
    return masks


def _mask_of(display: Display, keysyms: tuple[str, ...], masks: dict[int, int], default: int) -> int:
    for name in keysyms:
        keycode = int(display.keysym_to_keycode(XK.string_to_keysym(name)))
        if keycode in masks:
            return masks[keycode]
    return default


def _modifier_masks(display: Display) -> tuple[dict[str, int], int]:
    """({modifier name: X mask}, the Num Lock mask) for this server's keymap."""
    masks = _keycode_masks(display)
    named = {
        "ctrl": int(X.ControlMask),
        "shift": int(X.ShiftMask),
        "alt": _mask_of(display, ("Alt_L", "Alt_R", "Meta_L"), masks, int(X.Mod1Mask)),
        "super": _mask_of(display, ("Super_L", "Super_R"), masks, int(X.Mod4Mask)),
    }
    return named, _mask_of(display, ("Num_Lock",), masks, int(X.Mod2Mask))


class X11KeyGrab:
    """Grab one combination on an X display and report its edges from a thread of its own.

    ``on_down()`` / ``on_up()`` are called from that thread for each press and release of the key with the
    modifiers held, with X auto-repeat pairs filtered out. ``display_name``: ``":1"`` etc.; None means ``$DISPLAY``.
    """

    def __init__(
        self,
        combo: HotkeyCombo,
        display_name: str | None,
        on_down: Callable[[], None],
        on_up: Callable[[], None],
    ) -> None:
        self._combo = combo
        self._display_name = display_name
        self._on_down = on_down
        self._on_up = on_up
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._error: HotkeyError | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None

    def start(self, timeout: float = 5.0) -> None:
        """Open the display and grab. Returns once the grab holds; no-op when already running.

        Raises HotkeyInUseError when another client holds the combination, HotkeyError when python-xlib is missing,
        the display cannot be opened, the keymap has no such key, or the server does not answer within ``timeout``.
        """
        if self._thread is not None:
            return
        if XLIB_MISSING:
            raise HotkeyError(f"python-xlib is not installed ({XLIB_MISSING})", hint="pip install python-xlib")
        self._stop.clear()
        self._ready.clear()
        self._error = None
        thread = threading.Thread(target=self._run, name="jarvis-hotkey-x11", daemon=True)
        thread.start()
        if not self._ready.wait(timeout):
            self._stop.set()
            thread.join(1.0)
            raise HotkeyError(f"the X server {self._display_name!r} did not answer the key grab within {timeout} s")
        if self._error is not None:
            thread.join(1.0)
            raise self._error
        self._thread = thread

    def stop(self, timeout: float = 1.0) -> None:
        """Release the grab, close the connection and join the thread (within ``timeout`` seconds). Idempotent."""
        thread = self._thread
        if thread is None:
            return
        self._stop.set()
        thread.join(timeout)
        if thread.is_alive():
            log.warning("the X11 hotkey thread did not stop within %.1f s", timeout)
        self._thread = None

    def _fail(self, error: HotkeyError) -> None:
        self._error = error
        self._ready.set()

    def _run(self) -> None:
        try:
            display = Display(self._display_name)
        except (xerror.DisplayError, OSError) as exc:
            self._fail(HotkeyError(f"cannot open the X display {self._display_name!r}: {exc}"))
            return
        try:
            keycode, masks = self._grab(display)
        except HotkeyError as exc:
            display.close()
            self._fail(exc)
            return
        self._ready.set()
        try:
            self._loop(display, keycode)
        finally:
            self._ungrab(display, keycode, masks)
            display.close()

    def _grab(self, display: Display) -> tuple[int, list[int]]:
        """Grab the key once per lock state. Returns (keycode, the masks grabbed). Raises HotkeyError."""
        keysym = XK.string_to_keysym(self._combo.x11_keysym)
        keycode = int(display.keysym_to_keycode(keysym)) if keysym else 0
        if not keycode:
            raise HotkeyError(f"the X keyboard map has no key {self._combo.x11_keysym!r} for {self._combo}")
        named, num_lock = _modifier_masks(display)
        base = 0
        for modifier in self._combo.modifiers:
            base |= named[modifier]
        masks = [base | extra for extra in (0, int(X.LockMask), num_lock, int(X.LockMask) | num_lock)]
        catcher = xerror.CatchError(xerror.BadAccess)
        root = display.screen().root
        for mask in masks:
            root.grab_key(keycode, mask, False, X.GrabModeAsync, X.GrabModeAsync, onerror=catcher)
        display.sync()
        if catcher.get_error() is not None:
            self._ungrab(display, keycode, masks)
            raise HotkeyInUseError(
                f"another program already holds the hotkey {self._combo}",
                hint="choose another combination in Settings, or free it in the program that holds it",
            )
        return keycode, masks

    @staticmethod
    def _ungrab(display: Display, keycode: int, masks: list[int]) -> None:
        root = display.screen().root
        for mask in masks:
            root.ungrab_key(keycode, mask)
        display.sync()

    def _loop(self, display: Display, keycode: int) -> None:
        pending: _PendingRelease | None = None
        fd = display.fileno()
        while not self._stop.is_set():
            timeout = POLL_S if pending is None else max(0.0, min(POLL_S, pending.deadline - time.monotonic()))
            select.select([fd], [], [], timeout)
            while display.pending_events():
                pending = self._handle(display.next_event(), keycode, pending)
            if pending is not None and time.monotonic() >= pending.deadline:
                pending = None
                self._on_up()
        if pending is not None:
            self._on_up()

    def _handle(self, event: Any, keycode: int, pending: _PendingRelease | None) -> _PendingRelease | None:
        """One X event -> the pending release after it; calls on_down/on_up for real edges."""
        kind = int(event.type)  # event: an Xlib KeyPress/KeyRelease/... object (python-xlib is untyped)
        if kind not in (X.KeyPress, X.KeyRelease) or int(event.detail) != keycode:
            return pending
        server_time = int(event.time)
        if kind == X.KeyRelease:
            if pending is not None:
                self._on_up()
            return _PendingRelease(server_time, time.monotonic() + REPEAT_WINDOW_S)
        if pending is not None and (server_time - pending.server_time) % 2**32 <= REPEAT_TIME_MS:
            return None  # the press of an auto-repeat pair: the key never went up
        if pending is not None:
            self._on_up()
        self._on_down()
        return None
