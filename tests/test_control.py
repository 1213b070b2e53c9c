"""``jarvis-desktop listen --toggle``: the control socket between the CLI (voice/control.py) and the window
(ui/control_server.py), with a real window (offscreen), a real hands-free session and the CLI in a subprocess."""

from __future__ import annotations

import socket
import threading

import numpy as np
import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

import soundfile as sf
from cli_helpers import run_cli

from jarvis_desktop.assistant import Assistant
from jarvis_desktop.config import Settings, VoiceSettings
from jarvis_desktop.errors import BadInputError
from jarvis_desktop.voice.control import AppNotRunningError, control_socket_path, send_control
from jarvis_desktop.voice.sources import FileSource


class NoPreloadAssistant(Assistant):
    """The real Assistant; the window's start-up preloading is skipped (the session warms what it needs)."""

    def warm_up(self) -> None:
        pass


@pytest.fixture
def window(qtbot, home):
    from jarvis_desktop.ui.main_window import MainWindow

    w = MainWindow(assistant_factory=lambda: NoPreloadAssistant(Settings(), record_history=False), use_tray=False)
    qtbot.addWidget(w)
    yield w
    w.shutdown()


def in_thread(fn) -> tuple[threading.Thread, list]:
    """Run ``fn`` on a thread (the GUI thread must keep serving the socket); returns (thread, [result])."""
    out: list = []
    thread = threading.Thread(target=lambda: out.append(fn()), daemon=True)
    thread.start()
    return thread, out


def test_toggle_without_a_running_window_is_one_clear_error(home):
    with pytest.raises(AppNotRunningError, match="not running"):
        send_control("listen-toggle")
    result = run_cli("listen", "--toggle", timeout=60)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.strip().startswith("error: Jarvis is not running"), result.stderr
    assert "jarvis-desktop" in result.stderr  # how to start it


def test_a_stale_socket_left_by_a_crash_is_not_a_running_window(home):
    path = control_socket_path()
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(path))  # the file exists, nobody listens (as after kill -9)
    stale.close()
    try:
        with pytest.raises(AppNotRunningError, match="stale"):
            send_control("show", timeout_s=1.0)
    finally:
        path.unlink(missing_ok=True)


def test_unknown_commands_are_refused_before_sending(home):
    with pytest.raises(BadInputError, match="unknown control command"):
        send_control("rm -rf /")


def test_each_data_directory_has_its_own_short_socket(home, tmp_path, monkeypatch):
    first = control_socket_path()
    monkeypatch.setenv("JARVIS_DESKTOP_HOME", str(tmp_path / "other"))
    assert control_socket_path() != first and len(str(first)) < 104


@pytest.mark.slow
def test_listen_toggle_from_the_cli_makes_the_hands_free_session_hear(qtbot, window, tmp_path):
    assert window.control.error == ""
    silence = tmp_path / "silence.wav"
    sf.write(silence, np.zeros(16000, dtype=np.float32), 16000, subtype="PCM_16")
    worker = window.start_voice_session(FileSource(silence, realtime=True, tail_s=60.0), VoiceSettings(), dry_run=True)
    with qtbot.waitSignal(worker.listening, timeout=120_000):
        pass
    qtbot.waitUntil(lambda: window.status_message() == 'Hands-free: waiting for "hey Jarvis"', timeout=10_000)
    with qtbot.waitSignal(worker.state, timeout=60_000, check_params_cb=lambda s: s == "hearing"):
        cli, result = in_thread(lambda: run_cli("listen", "--toggle", timeout=60))
        qtbot.waitUntil(lambda: not cli.is_alive(), timeout=60_000)
    assert result[0].returncode == 0 and result[0].stdout.strip() == "ok", result[0].stderr
    assert window.status_message() == "Hearing you…"
    with qtbot.waitSignal(worker.stopped, timeout=5000):
        window.hands_free_action.trigger()


def test_the_window_refuses_an_unknown_command_and_keeps_serving(qtbot, window):
    def raw(line: bytes) -> str:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(5)
            sock.connect(str(window.control.path))
            sock.sendall(line)
            return sock.recv(256).decode()

    thread, out = in_thread(lambda: raw(b"format-disk\n"))
    qtbot.waitUntil(lambda: not thread.is_alive(), timeout=10_000)
    assert out[0].startswith("error: unknown command")
    window.hide()
    thread, out = in_thread(lambda: send_control("show"))
    qtbot.waitUntil(lambda: not thread.is_alive(), timeout=10_000)
    assert out == ["ok"]
    qtbot.waitUntil(window.isVisible, timeout=5000)
