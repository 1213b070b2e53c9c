"""One Jarvis per data directory: a second ``jarvis-desktop`` raises the running window and exits 0; ``--minimized``
starts hidden in the tray (shown with a note without one). Real GUI processes (Qt offscreen, or Xvfb with a tray
manager), each with its own JARVIS_DESKTOP_HOME and XDG_RUNTIME_DIR (where the control socket lives)."""

from __future__ import annotations

import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("PySide6")

LAUNCHER = str(Path(sys.executable).parent / "jarvis-desktop")

#: the real run_gui; prints what the window looks like once the loop runs, and every control command it gets
PROBE = """
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from jarvis_desktop.ui.app import run_gui
from jarvis_desktop.ui.main_window import MainWindow

app = QApplication(["jarvis"])
hide_first = "--hide" in sys.argv

def hook():
    window = [w for w in app.topLevelWidgets() if isinstance(w, MainWindow)][0]
    window.control.command.connect(
        lambda c: print("COMMAND", c, "VISIBLE", window.isVisible(), "MINIMIZED", window.isMinimized(), flush=True)
    )
    notes = [text for role, text in window.chat.messages() if role == "system"]
    print("STARTED VISIBLE", window.isVisible(), "TRAY", window.tray is not None, "NOTES", notes, flush=True)
    if hide_first:
        window.showMinimized()
        window.hide()
        print("HIDDEN", flush=True)

QTimer.singleShot(0, hook)
print("EXIT", run_gui(["jarvis"], minimized="--minimized" in sys.argv), flush=True)
"""


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700, exist_ok=True)
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = dict(os.environ, JARVIS_DESKTOP_HOME=str(home), XDG_RUNTIME_DIR=str(runtime), QT_QPA_PLATFORM="offscreen")
    env.update(extra)
    return env


class Gui:
    """A probe GUI process; ``wait_for(text)`` returns its first stdout line containing ``text`` (a reader thread
    collects the lines, so a silent process fails the wait at its timeout instead of blocking it)."""

    def __init__(self, env: dict[str, str], *args: str) -> None:
        self.err = tempfile.TemporaryFile("w+")  # noqa: SIM115 (closed with the process, in stop())
        self.proc = subprocess.Popen(
            [sys.executable, "-c", PROBE, *args], env=env, stdout=subprocess.PIPE, stderr=self.err, text=True
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._queue.put(line.strip())
        self._queue.put(None)

    def wait_for(self, text: str, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self._queue.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                break
            self.lines.append(line)
            if text in line:
                return line
        raise AssertionError(f"no {text!r} from the GUI; stdout: {self.lines}; stderr: {self.stderr()[-2000:]}")

    def stderr(self) -> str:
        self.err.seek(0)
        return self.err.read()

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # run_gui's handler quits cleanly
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        while (line := self._queue.get(timeout=10)) is not None:
            self.lines.append(line)
        text = self.stderr()
        self.err.close()
        return text


def _control_socket(env: dict[str, str]) -> Path:
    code = "from jarvis_desktop.voice.control import control_socket_path as p; print(p())"
    return Path(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True).stdout.strip())


def _wait_listening(sock: Path, gui: Gui, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not sock.exists():
        assert gui.proc.poll() is None, gui.stop()
        assert time.monotonic() < deadline, "the control socket never appeared"
        time.sleep(0.1)


@pytest.mark.slow
def test_a_second_launch_raises_the_running_window_and_exits(tmp_path):
    env = _env(tmp_path)
    sock = _control_socket(env)
    assert str(sock).startswith(str(tmp_path))
    first = Gui(env, "--hide")
    try:
        first.wait_for("STARTED VISIBLE True")
        first.wait_for("HIDDEN")
        _wait_listening(sock, first)
        t0 = time.monotonic()
        second = subprocess.run([LAUNCHER], env=env, capture_output=True, text=True, timeout=60)
        took = time.monotonic() - t0
        assert second.returncode == 0, second.stderr
        assert "Jarvis is already running: its window was raised" in second.stderr
        assert took < 15, f"the second launch took {took:.1f} s"
        assert first.wait_for("COMMAND show") == "COMMAND show VISIBLE True MINIMIZED False"

        quiet = subprocess.run([LAUNCHER, "--minimized"], env=env, capture_output=True, text=True, timeout=60)
        assert quiet.returncode == 0 and "Jarvis is already running" in quiet.stderr
        assert first.proc.poll() is None  # the first one runs on
    finally:
        first.stop()
    assert "EXIT 0" in first.lines
    assert not any(line.startswith("COMMAND ping") for line in first.lines)  # ping never reaches the window


@pytest.mark.slow
def test_a_stale_socket_does_not_block_the_start(tmp_path):
    import socket

    env = _env(tmp_path)
    sock = _control_socket(env)
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(sock))  # left by a crashed run: the file exists, nobody listens
    stale.close()
    gui = Gui(env)
    try:
        assert gui.wait_for("STARTED").startswith("STARTED VISIBLE True")
        second = subprocess.run([LAUNCHER], env=env, capture_output=True, text=True, timeout=60)
        assert second.returncode == 0 and "already running" in second.stderr  # the new window took the socket
    finally:
        gui.stop()


@pytest.mark.slow
def test_minimized_without_a_tray_shows_the_window_with_a_note(tmp_path):
    gui = Gui(_env(tmp_path), "--minimized")
    try:
        line = gui.wait_for("STARTED")
    finally:
        gui.stop()
    assert line.startswith("STARTED VISIBLE True TRAY False")
    assert "no system tray" in line


def _tray_manager(display: str) -> subprocess.Popen[str]:
    """A minimal XEmbed tray manager: owns ``_NET_SYSTEM_TRAY_S0`` (python-xlib), as a panel's tray does."""
    code = """
import sys, time
from Xlib import X, display
d = display.Display(sys.argv[1])
screen = d.screen()
w = screen.root.create_window(0, 0, 1, 1, 0, screen.root_depth)
w.set_selection_owner(d.intern_atom("_NET_SYSTEM_TRAY_S0"), X.CurrentTime)
d.flush()
print("TRAY", flush=True)
while True:
    d.next_event()
"""
    proc = subprocess.Popen([sys.executable, "-c", code, display], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "TRAY"
    return proc


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("Xvfb") is None, reason="needs Xvfb")
def test_minimized_starts_hidden_in_the_tray(tmp_path):
    pytest.importorskip("Xlib")
    display = f":{90 + os.getpid() % 100}"
    xvfb = subprocess.Popen(["Xvfb", display, "-nolisten", "tcp"], stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while not Path(f"/tmp/.X11-unix/X{display[1:]}").exists():
            assert time.monotonic() < deadline and xvfb.poll() is None, "Xvfb did not start"
            time.sleep(0.1)
        tray = _tray_manager(display)
        env = _env(tmp_path, QT_QPA_PLATFORM="xcb", DISPLAY=display)
        env.pop("WAYLAND_DISPLAY", None)
        env.pop("DBUS_SESSION_BUS_ADDRESS", None)
        gui = Gui(env, "--minimized")
        try:
            assert gui.wait_for("STARTED").startswith("STARTED VISIBLE False TRAY True")
            _wait_listening(_control_socket(env), gui)
            second = subprocess.run([LAUNCHER], env=env, capture_output=True, text=True, timeout=60)
            assert second.returncode == 0, second.stderr
            assert gui.wait_for("COMMAND show") == "COMMAND show VISIBLE True MINIMIZED False"
        finally:
            gui.stop()
            tray.kill()
            tray.wait()
    finally:
        xvfb.terminate()
        xvfb.wait(timeout=10)
