"""The running app's control socket: how ``jarvis-desktop listen --toggle`` (bound to a desktop shortcut where
Jarvis cannot grab a global hotkey itself, e.g. on Wayland: docs/hotkey.md) reaches the window.

The window listens on a Unix domain socket (:func:`control_socket_path`, one per data directory, so two users or
two ``JARVIS_DESKTOP_HOME`` s never meet). A client sends one command line and reads one reply line:

* ``listen-toggle``: a running hands-free session hears a command now (as if the wake word was said); otherwise
  push-to-talk starts, or stops if it is recording;
* ``listen-now``: the same, but never stops a recording;
* ``show``: the window comes to the front (shown if hidden in the tray, un-minimized, raised, activated); a second
  ``jarvis-desktop`` launch sends it instead of starting another instance;
* ``ping``: nothing happens; the reply says a window listens (``jarvis-desktop --minimized`` while one runs).

Replies: ``ok`` or ``error: <reason>``. Linux and macOS (the GUI side is Qt's QLocalServer, a Unix socket there).
"""

from __future__ import annotations

import hashlib
import os
import socket
import sys
import tempfile
from pathlib import Path

from jarvis_desktop.config import data_dir
from jarvis_desktop.errors import BadInputError, JarvisError

__all__ = ["COMMANDS", "AppNotRunningError", "control_socket_path", "hand_over_to_running_window", "send_control"]

COMMANDS = frozenset({"listen-toggle", "listen-now", "show", "ping"})
"""Commands the window accepts on its control socket."""

TIMEOUT_S = 2.0
"""How long a client waits to connect and for the reply (the window answers from its event loop, in ms)."""


class AppNotRunningError(JarvisError):
    """No Jarvis window listens on the control socket (exit code 1)."""


def control_socket_path() -> Path:
    """The control socket of this data directory: ``$XDG_RUNTIME_DIR`` (or the temp dir) /
    ``jarvis-desktop-<first 12 hex of sha1(data dir)>.sock``; short, because a Unix socket path holds at most
    about 104 bytes."""
    digest = hashlib.sha1(str(data_dir().resolve()).encode()).hexdigest()[:12]
    base = os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()
    return Path(base) / f"jarvis-desktop-{digest}.sock"


def send_control(command: str, timeout_s: float = TIMEOUT_S, path: Path | None = None) -> str:
    """Send ``command`` (one of :data:`COMMANDS`) to the running window; returns its reply line (``"ok"``).

    Raises:
        BadInputError: ``command`` is not one of :data:`COMMANDS` (nothing is sent).
        AppNotRunningError: no window listens (no socket, connection refused, or no reply within ``timeout_s``).
        JarvisError: the window answered ``error: ...``.
    """
    if command not in COMMANDS:
        raise BadInputError(f"unknown control command {command!r}; one of {', '.join(sorted(COMMANDS))}")
    target = path or control_socket_path()
    hint = "start it first with: jarvis-desktop"
    if not target.exists():
        raise AppNotRunningError("Jarvis is not running (no control socket)", hint)
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout_s)
            sock.connect(str(target))
            sock.sendall(command.encode() + b"\n")
            reply = _read_line(sock)
    except (ConnectionRefusedError, FileNotFoundError) as exc:
        raise AppNotRunningError("Jarvis is not running (its control socket is stale)", hint) from exc
    except (TimeoutError, OSError) as exc:
        raise AppNotRunningError(f"Jarvis did not answer on its control socket: {exc}", hint) from exc
    if reply.startswith("error:"):
        raise JarvisError(f"Jarvis refused {command!r}: {reply[6:].strip()}")
    return reply


ALREADY_RUNNING = "Jarvis is already running: its window was raised"
"""The one stderr line of a second GUI launch (exit code 0)."""

ALREADY_RUNNING_HIDDEN = "Jarvis is already running"
"""The same for a second ``--minimized`` launch (login autostart), which leaves the running window as it is."""

HAND_OVER_TIMEOUT_S = 1.0
"""How long a launch waits for a running window to answer (it answers from its event loop, in ms)."""


def hand_over_to_running_window(minimized: bool = False, timeout_s: float = HAND_OVER_TIMEOUT_S) -> bool:
    """One GUI per data directory: if a Jarvis window answers on the control socket, send it ``show`` (``ping``
    when ``minimized``: it stays as it is), write :data:`ALREADY_RUNNING` (or :data:`ALREADY_RUNNING_HIDDEN`) to
    stderr and return True; the caller exits 0. A missing or stale socket (a crashed run), a refusal or no answer
    within ``timeout_s``: False, the launch goes on. Never raises. No Qt: the entry point calls it before Qt loads.
    """
    try:
        answered = send_control("ping" if minimized else "show", timeout_s=timeout_s) == "ok"
    except JarvisError:
        return False
    if answered:
        sys.stderr.write((ALREADY_RUNNING_HIDDEN if minimized else ALREADY_RUNNING) + "\n")
    return answered


def _read_line(sock: socket.socket) -> str:
    data = b""
    while not data.endswith(b"\n"):
        chunk = sock.recv(256)
        if not chunk:
            break
        data += chunk
    return data.decode(errors="replace").strip()
