"""The main window end to end: real Whisper, real NLU, real chat model, real SQLite history.

Runs offscreen (no display needed). Each test builds a window over a fresh ``JARVIS_DESKTOP_HOME``; engine
calls run on the window's engine thread, so the tests wait on the window's own state with
``qtbot.waitUntil`` rather than sleeping.
"""

from __future__ import annotations

import os

os.environ["QT_QPA_PLATFORM"] = "offscreen"  # before any QApplication exists

import time
from pathlib import Path

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from helpers_pulse import play
from helpers_window import make_home, shown_window
from PySide6.QtCore import QElapsedTimer, QMimeData, QPoint, QPointF, Qt, QTimer, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication
from speech import speak

from jarvis_desktop.ui.main_window import MainWindow

pytestmark = pytest.mark.slow

LOAD_TIMEOUT_MS = 90_000
TURN_TIMEOUT_MS = 90_000
MAX_TOKENS = 120


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    return make_home(tmp_path, monkeypatch, f"[chat]\nmax_tokens = {MAX_TOKENS}\n")


@pytest.fixture
def open_window(qtbot, home):
    """Factory: a shown MainWindow over ``home`` with its models loaded."""
    windows: list[MainWindow] = []

    def make() -> MainWindow:
        window = shown_window(qtbot)
        windows.append(window)
        assert window.status_message() == "Ready"
        return window

    yield make
    for window in windows:
        window.shutdown()


def _wait_turn(qtbot, window: MainWindow, timeout: int = TURN_TIMEOUT_MS) -> None:
    qtbot.waitUntil(lambda: not window.busy, timeout=timeout)


def test_spoken_question_shows_transcript_reply_and_intent(qtbot, open_window, tmp_path):
    wav = speak("what time is it", tmp_path / "what_time.wav")
    window = open_window()
    assert window.open_audio_file(wav)
    assert window.busy and window.stop_button.isEnabled()
    _wait_turn(qtbot, window)

    assert window.last_error is None, window.last_error
    messages = window.chat.messages()
    assert messages[-2][0] == "user" and messages[-1][0] == "assistant"
    heard = messages[-2][1].lower()
    assert "what time" in heard, heard  # the transcript replaced "Transcribing…"
    assert any(ch.isdigit() for ch in messages[-1][1]), messages[-1][1]  # the reply states a time
    assert window.strip.intent == "datetime_query"
    assert any(t.startswith("datetime_query") for t in window.strip.chip_texts())
    assert "what time" in (window.strip.transcript or "").lower()
    badge = window.chat.bubbles[-1].badge_text()
    assert "datetime_query" in badge and "stt" in badge, badge
    assert window.status_message().startswith("Ready")


def test_typed_question_streams_and_stop_interrupts(qtbot, open_window):
    window = open_window()

    # a full answer streams token by token into the reply bubble
    pieces: list[str] = []
    window.token_received.connect(pieces.append)
    window.prompt.setText("Explain in two sentences why the sky is blue.")
    qtbot.keyClick(window.prompt, Qt.Key.Key_Return)
    assert window.prompt.text() == ""  # Enter sent it
    _wait_turn(qtbot, window)
    assert window.last_error is None, window.last_error
    turn = window.last_turn
    assert turn.reply.kind == "chat" and turn.parse.intent == "general_chat"
    assert len(pieces) > 3, pieces  # streamed, not one block
    shown = window.chat.messages()[-1]
    assert shown[0] == "assistant" and shown[1].strip() and shown[1] == turn.reply.text
    assert "general_chat" in window.chat.bubbles[-1].badge_text()

    # Stop: click it as soon as the first token of a long answer arrives
    window.submit_text("tell me a long story about a brave knight")
    streamed = window.chat
    qtbot.waitUntil(lambda: streamed.streaming and streamed.bubbles[-1].text() != "", timeout=TURN_TIMEOUT_MS)
    assert window.stop_button.isEnabled()
    qtbot.mouseClick(window.stop_button, Qt.MouseButton.LeftButton)
    _wait_turn(qtbot, window, timeout=10_000)
    turn = window.last_turn
    assert turn.reply.cancelled, "Stop did not cancel the stream"
    assert turn.reply.stats is None or turn.reply.stats.completion_tokens < MAX_TOKENS
    assert "stopped" in window.chat.bubbles[-1].badge_text()
    assert window.send_button.isEnabled() and not window.stop_button.isEnabled()


def test_history_survives_reopening_the_window(qtbot, open_window):
    first = open_window()
    assert first.submit_text("what day is it today")
    _wait_turn(qtbot, first)
    assert first.last_error is None, first.last_error
    before = first.chat.messages()[-2:]
    assert before[0] == ("user", "what day is it today") and before[1][1]
    first.close()  # no tray offscreen: closing really quits
    assert first.closed

    second = open_window()  # a new Assistant over the same home
    qtbot.waitUntil(lambda: len(second.chat.messages()) >= 2, timeout=10_000)
    assert second.chat.messages()[-2:] == before
    assert "datetime_query" in second.chat.bubbles[-1].badge_text()


def test_corrupt_wav_shows_an_error_and_the_window_stays_usable(qtbot, open_window, tmp_path):
    bad = tmp_path / "broken.wav"
    bad.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt " + os.urandom(200))
    window = open_window()

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(bad))])
    args = (Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    enter = QDragEnterEvent(QPoint(100, 100), *args)  # a real drag enters before it drops
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    QApplication.sendEvent(window, QDropEvent(QPointF(100, 100), *args))
    assert window.busy  # the drop started a voice turn
    _wait_turn(qtbot, window)

    assert window.last_error, "no error shown for a corrupt WAV"
    system = [text for role, text in window.chat.messages() if role == "system"]
    assert system and "broken.wav" in system[-1], system
    assert window.status_message() == window.last_error
    assert window.isVisible() and window.send_button.isEnabled()

    assert window.submit_text("what time is it")  # still usable
    _wait_turn(qtbot, window)
    assert window.last_error is None
    assert window.strip.intent == "datetime_query"


def test_gui_stays_responsive_while_a_reply_streams(qtbot, open_window):
    window = open_window()
    gaps: list[float] = []
    clock = QElapsedTimer()
    probe = QTimer()
    probe.setInterval(5)

    def tick() -> None:
        gaps.append(clock.restart())

    probe.timeout.connect(tick)
    tokens: list[str] = []
    window.token_received.connect(tokens.append)
    window.submit_text("What is the history of the bicycle? Tell me in detail.")
    clock.start()
    probe.start()
    t0 = time.perf_counter()
    _wait_turn(qtbot, window)
    probe.stop()
    elapsed = time.perf_counter() - t0
    assert window.last_error is None, window.last_error
    assert window.last_turn.reply.kind == "chat", window.last_turn.parse
    assert len(tokens) > 20, "the reply was too short to measure a stream"
    worst = max(gaps)
    print(
        f"\nevent-loop probe: {len(gaps)} ticks over {elapsed:.2f} s while streaming {len(tokens)} tokens; "
        f"longest stall {worst:.0f} ms"
    )
    assert worst < 250, f"the GUI thread stalled for {worst:.0f} ms while a reply streamed"


@pytest.mark.mic
def test_mic_button_records_a_spoken_command(qtbot, open_window, virtual_mic, tmp_path):
    wav = speak("what time is it", tmp_path / "mic.wav")
    window = open_window()
    levels: list[float] = []
    window.mic.level.connect(levels.append)
    qtbot.mouseClick(window.mic_button, Qt.MouseButton.LeftButton)  # a click starts recording
    assert window.mic_button.recording
    qtbot.waitUntil(lambda: window.mic.is_open, timeout=15_000)  # first audio block arrived
    play(virtual_mic, wav)
    qtbot.mouseClick(window.mic_button, Qt.MouseButton.LeftButton)  # a second click sends it
    assert not window.mic_button.recording
    qtbot.waitUntil(lambda: window.last_turn is not None or window.last_error is not None, timeout=TURN_TIMEOUT_MS)
    _wait_turn(qtbot, window)
    assert window.last_error is None, window.last_error
    assert "what time" in window.chat.messages()[-2][1].lower()
    assert window.strip.intent == "datetime_query"
    assert levels and max(levels) > -40, "the level meter was not fed while speech played"


@pytest.mark.mic
def test_hands_free_turns_a_spoken_command_into_a_turn(qtbot, open_window, virtual_mic, home, tmp_path):
    with (home / "settings.toml").open("a", encoding="utf-8") as f:
        f.write("\n[voice]\nwake_word = false\n")  # no "hey Jarvis": every utterance is a command
    wav = speak("what time is it", tmp_path / "hands_free.wav")
    window = open_window()
    window.hands_free_action.trigger()  # the toolbar's Hands-free toggle
    worker = window.voice_worker
    assert worker is not None and window.hands_free_action.isChecked()
    # the microphone delivers audio into the session (the models loaded, the stream is open)
    qtbot.waitUntil(lambda: worker.session is not None and worker.session.position_s > 0.5, timeout=LOAD_TIMEOUT_MS)
    assert window.status_message() == "Hands-free: listening (no wake word)"
    play(virtual_mic, wav)
    qtbot.waitUntil(
        lambda: window.last_voice_reply is not None or window.last_error is not None, timeout=TURN_TIMEOUT_MS
    )
    assert window.last_error is None, window.last_error
    assert window.last_voice_parse is not None and window.last_voice_parse.intent == "datetime_query"
    (user_role, heard), (reply_role, answer) = window.chat.messages()[-2:]
    assert user_role == "user" and "what time" in heard.lower(), heard
    assert "voice" in window.chat.bubbles[-2].badge_text()
    assert reply_role == "assistant" and any(ch.isdigit() for ch in answer), answer  # the reply states a time
    assert window.strip.intent == "datetime_query"
    with qtbot.waitSignal(worker.stopped, timeout=2000):
        window.hands_free_action.trigger()  # off
    assert window.voice_worker is None and not window.hands_free_action.isChecked()
