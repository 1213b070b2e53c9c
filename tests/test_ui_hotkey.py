"""The main window's global push-to-talk hotkey (ui/hotkey_bridge.py) on a real X server: Xvfb on a free display is
the hotkey's display only (the window itself stays offscreen), xmessage holds the X focus, xdotool (XTEST) holds
and releases the combination, the virtual PulseAudio microphone feeds the push-to-talk recording. Nothing is
mocked; the window's Assistant skips its model preloading."""

from __future__ import annotations

import os

os.environ["QT_QPA_PLATFORM"] = "offscreen"  # before any QApplication exists

import shutil
import subprocess
from collections.abc import Iterator

import numpy as np
import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

import soundfile as sf
from test_hotkey import _focus_another_client, _start_xvfb, _stop

from jarvis_desktop.assistant import Assistant
from jarvis_desktop.config import Settings, VoiceSettings
from jarvis_desktop.ui.main_window import MainWindow
from jarvis_desktop.voice.hotkey import GlobalHotkey, parse_hotkey
from jarvis_desktop.voice.policy import LISTENING
from jarvis_desktop.voice.sources import FileSource

pytestmark = pytest.mark.slow

COMBO = "<ctrl>+<alt>+k"
GRAB_TIMEOUT_MS = 10_000
MIC_TIMEOUT_MS = 15_000
TURN_TIMEOUT_MS = 90_000
LOAD_TIMEOUT_MS = 120_000


class NoPreloadAssistant(Assistant):
    """The real Assistant; the window's start-up preloading is skipped (no turn needs the models here)."""

    def warm_up(self) -> None:
        pass


@pytest.fixture(scope="module")
def x_display() -> Iterator[dict[str, str]]:
    """A fresh Xvfb with xmessage focused: yields an environment whose DISPLAY is it. Skips only when Xvfb, xdotool
    or xmessage is not installed (packaging/setup.sh --test installs them)."""
    for tool, package in (("Xvfb", "xvfb"), ("xdotool", "xdotool"), ("xmessage", "x11-utils")):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (apt install {package})")
    server, display = _start_xvfb()
    env = {k: v for k, v in os.environ.items() if k not in ("WAYLAND_DISPLAY", "XDG_SESSION_TYPE")}
    env["DISPLAY"] = display
    app, _window = _focus_another_client(env)
    yield env
    _stop(app)
    _stop(server)


@pytest.fixture
def hotkey_window(qtbot, x_display, monkeypatch):
    """Factory: a MainWindow with ``[voice] hotkey = COMBO`` whose hotkey sees the Xvfb display."""
    monkeypatch.setenv("DISPLAY", x_display["DISPLAY"])  # read by the hotkey only: Qt stays offscreen
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.delenv("XDG_SESSION_TYPE", raising=False)
    windows: list[MainWindow] = []

    def make() -> MainWindow:
        settings = Settings(voice=VoiceSettings(hotkey=COMBO))
        window = MainWindow(
            settings=settings,
            assistant_factory=lambda: NoPreloadAssistant(settings, record_history=False),
            use_tray=False,
        )
        qtbot.addWidget(window)
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.shutdown()


def xdotool(env: dict[str, str], *args: str) -> None:
    subprocess.run(["xdotool", *args], env=env, check=True, timeout=10)


@pytest.mark.mic
def test_holding_the_hotkey_records_push_to_talk_and_releasing_ends_it(qtbot, hotkey_window, x_display, virtual_mic):
    window = hotkey_window()
    bridge = window.hotkey_bridge
    assert bridge is not None
    qtbot.waitUntil(lambda: bridge.running or window.hotkey_error is not None, timeout=GRAB_TIMEOUT_MS)
    assert window.hotkey_error is None, window.hotkey_error
    qtbot.waitUntil(lambda: window.engine_ready, timeout=GRAB_TIMEOUT_MS)  # its "Ready" would replace "Listening"
    keys = parse_hotkey(COMBO).xdotool_text()

    with qtbot.waitSignal(window.mic_button.recording_started, timeout=GRAB_TIMEOUT_MS):
        xdotool(x_display, "keydown", keys)
    assert window.mic_button.recording
    qtbot.waitUntil(lambda: window.mic.is_open, timeout=MIC_TIMEOUT_MS)  # the microphone delivers audio
    assert window.status_message() == LISTENING
    qtbot.wait(400)  # hold a little: an utterance of real (silent) audio
    assert window.mic_button.recording, "push-to-talk ended while the key was still held"

    with qtbot.waitSignal(window.mic.utterance, timeout=GRAB_TIMEOUT_MS) as utterance:
        xdotool(x_display, "keyup", keys)
    assert not window.mic_button.recording
    assert len(utterance.args[0]) > 0  # the held stretch was handed over as the utterance
    qtbot.waitUntil(lambda: not window.busy, timeout=TURN_TIMEOUT_MS)  # the silent utterance ran as a turn

    window.shutdown()
    assert not bridge.running


def test_a_combination_held_by_another_program_shows_one_status_line(qtbot, hotkey_window, x_display):
    with GlobalHotkey(COMBO, lambda: None, lambda: None, env=x_display) as other:
        assert other.running
        window = hotkey_window()
        qtbot.waitUntil(lambda: window.hotkey_error is not None, timeout=GRAB_TIMEOUT_MS)
        message = window.hotkey_error
        assert message.startswith(f"Global hotkey {COMBO} unavailable: "), message
        assert "another program" in message, message
        qtbot.waitUntil(lambda: window.engine_ready, timeout=GRAB_TIMEOUT_MS)
        assert window.status_message() == message  # still shown once the models are ready
        assert window.hotkey_bridge is not None and not window.hotkey_bridge.running
        assert window.last_error is None  # a status line, not an error in the conversation


def test_the_hotkey_makes_a_running_hands_free_session_hear_now_instead_of_push_to_talk(
    qtbot, hotkey_window, x_display, tmp_path
):
    silence = tmp_path / "silence.wav"
    sf.write(silence, np.zeros(16000, dtype=np.float32), 16000, subtype="PCM_16")
    window = hotkey_window()
    qtbot.waitUntil(lambda: window.hotkey_bridge is not None and window.hotkey_bridge.running, timeout=GRAB_TIMEOUT_MS)
    worker = window.start_voice_session(FileSource(silence, realtime=True, tail_s=60.0), VoiceSettings(), dry_run=True)
    with qtbot.waitSignal(worker.listening, timeout=LOAD_TIMEOUT_MS):
        pass
    qtbot.waitUntil(lambda: window.status_message() == 'Hands-free: waiting for "hey Jarvis"', timeout=10_000)
    keys = parse_hotkey(COMBO).xdotool_text()
    with qtbot.waitSignal(worker.state, timeout=GRAB_TIMEOUT_MS, check_params_cb=lambda s: s == "hearing"):
        xdotool(x_display, "keydown", keys)  # no wake word said: the session hears a command now
    assert not window.mic_button.recording  # not push-to-talk
    xdotool(x_display, "keyup", keys)
    qtbot.wait(300)
    assert not window.mic_button.recording and window.voice_worker is worker
    with qtbot.waitSignal(worker.stopped, timeout=2000):
        window.hands_free_action.trigger()
