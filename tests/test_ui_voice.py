"""VoiceWorker (ui/voice_worker.py) offscreen: a real VoiceSession on the engine thread's real Assistant (Whisper,
NLU), fed an espeak-ng recording by the file source; its events arrive as Qt signals, in order, and stop() ends
the source thread quickly."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

import soundfile as sf
from helpers_audio import espeak_audio, pad
from PySide6.QtCore import QElapsedTimer, QTimer

from jarvis_desktop.assistant import Assistant
from jarvis_desktop.config import AudioSettings, Settings, VoiceSettings
from jarvis_desktop.ui.voice_worker import VoiceWorker
from jarvis_desktop.ui.workers import EngineThread
from jarvis_desktop.voice.events import (
    ActionEvent,
    ParseEvent,
    PartialEvent,
    StateEvent,
    TranscriptEvent,
)
from jarvis_desktop.voice.sources import FileSource

pytestmark = pytest.mark.slow

LOAD_TIMEOUT_MS = 120_000


@pytest.fixture
def engine():
    thread = EngineThread(lambda: Assistant(Settings(), record_history=False))
    yield thread
    thread.shutdown(10_000)


def command_wav(tmp_path: Path) -> Path:
    audio = pad(espeak_audio("set a timer for ten minutes", tmp_path), 0.8, 0.5)
    out = tmp_path / "timer.wav"
    sf.write(out, audio.astype(np.float32), 16000, subtype="PCM_16")
    return out


def test_voice_worker_emits_the_session_events_in_order_and_stops_within_2_s(qtbot, engine, tmp_path):
    # real-time pace with a long silent tail: the session is still running when stop() is called
    source = FileSource(command_wav(tmp_path), realtime=True, tail_s=60.0)
    worker = VoiceWorker(
        engine, source, VoiceSettings(wake_word=False), now=datetime.fromisoformat("2026-12-07T10:00"), dry_run=True
    )
    events: list[object] = []
    states: list[str] = []
    failures: list[str] = []
    worker.voice_event.connect(events.append)
    worker.state.connect(states.append)
    worker.failed.connect(failures.append)
    with qtbot.waitSignal(worker.listening, timeout=LOAD_TIMEOUT_MS):
        worker.start()
    assert worker.running
    with qtbot.waitSignal(
        worker.voice_event, timeout=60_000, check_params_cb=lambda e: isinstance(e, ActionEvent)
    ) as blocker:
        pass
    assert not failures, failures
    action = blocker.args[0]
    assert action.intent == "timer_set" and action.result == "dry_run"
    kinds = [type(e) for e in events]
    transcript = next(e for e in events if isinstance(e, TranscriptEvent))
    parse = next(e for e in events if isinstance(e, ParseEvent))
    assert "timer" in transcript.text.lower()
    assert parse.intent == "timer_set" and parse.date_keys == ("in_10_minutes",) and parse.when == "2026-12-07T10:10"
    assert kinds[0] is StateEvent and kinds.index(TranscriptEvent) < kinds.index(ParseEvent) < kinds.index(ActionEvent)
    # state(str) mirrors every StateEvent, in the same order
    assert states == [e.state.value for e in events if isinstance(e, StateEvent)]
    assert states[0] == "waiting_for_speech" and "hearing" in states
    assert states.index("hearing") < states.index("transcribing") < states.index("responding")
    assert events.index(parse) > next(
        i for i, e in enumerate(events) if isinstance(e, StateEvent) and e.state.value == "transcribing"
    )
    # stop() returns at once; the source thread and the session end within 2 s (the file has ~55 s left)
    t0 = time.perf_counter()
    with qtbot.waitSignal(worker.stopped, timeout=2000):
        worker.stop()
        assert time.perf_counter() - t0 < 0.05
    assert time.perf_counter() - t0 < 2.0 and not worker.running
    assert worker.wait(500)  # finished() is emitted just before the QThread has returned


def test_voice_worker_reports_a_session_that_cannot_start(qtbot, tmp_path):
    failing = EngineThread(lambda: (_ for _ in ()).throw(RuntimeError("no engine here")))
    try:
        worker = VoiceWorker(failing, FileSource(command_wav(tmp_path)), VoiceSettings(wake_word=False))
        failures: list[str] = []
        worker.failed.connect(failures.append)
        with qtbot.waitSignal(worker.stopped, timeout=10_000):
            worker.start()
        assert len(failures) == 1 and "no engine here" in failures[0] and not worker.running
    finally:
        failing.shutdown(5000)


class NoPreloadAssistant(Assistant):
    """The real Assistant; the window's start-up preloading is skipped (the session warms what it needs)."""

    def warm_up(self) -> None:
        pass


@pytest.fixture
def window(qtbot):
    from jarvis_desktop.ui.main_window import MainWindow

    w = MainWindow(assistant_factory=lambda: NoPreloadAssistant(Settings(), record_history=False), use_tray=False)
    qtbot.addWidget(w)
    yield w
    w.shutdown()


def test_the_window_status_bar_shows_the_session_states(qtbot, window, tmp_path):
    source = FileSource(command_wav(tmp_path), realtime=False)
    seen: list[str] = []
    worker = window.start_voice_session(
        source, VoiceSettings(wake_word=False), now=datetime.fromisoformat("2026-12-07T10:00"), dry_run=True
    )
    worker.state.connect(lambda _: seen.append(window.status_message()))  # after the window's own slot ran
    with qtbot.waitSignal(worker.stopped, timeout=LOAD_TIMEOUT_MS):
        pass
    assert "Hands-free: listening (no wake word)" in seen and "Hearing you…" in seen
    assert any(text.startswith("Thinking") for text in seen)
    assert window.voice_worker is None and window.status_message() == "Hands-free session ended"


def test_a_voice_session_renders_like_a_turn_and_toggling_off_stops_it_within_2_s(qtbot, window, tmp_path):
    # real-time pace with a long silent tail: the session still listens when the toggle goes off
    source = FileSource(command_wav(tmp_path), realtime=True, tail_s=60.0)
    gaps: list[float] = []
    clock = QElapsedTimer()
    probe = QTimer()
    probe.setInterval(5)
    probe.timeout.connect(lambda: gaps.append(clock.restart()))
    clock.start()
    probe.start()
    worker = window.start_voice_session(
        source, VoiceSettings(wake_word=False), now=datetime.fromisoformat("2026-12-07T10:00"), dry_run=True
    )
    assert window.hands_free_action.isChecked()  # the toggle shows the running session
    with qtbot.waitSignal(window.voice_reply, timeout=LOAD_TIMEOUT_MS) as blocker:
        pass
    reply = blocker.args[0]
    assert window.last_error is None, window.last_error
    # the user bubble holds the transcript, marked "voice"; the reply bubble follows it
    (user_role, heard), (reply_role, answer) = window.chat.messages()[-2:]
    assert user_role == "user" and "timer" in heard.lower(), heard
    assert window.chat.bubbles[-2].badge_text() == "voice · hands-free"
    assert reply_role == "assistant" and answer == reply.text and answer
    badge = window.chat.bubbles[-1].badge_text()
    assert badge.startswith("timer_set · dry_run") and badge.endswith("voice"), badge
    # the strip: HEARD line and the chips of the parse
    assert "timer" in (window.strip.transcript or "").lower()
    assert window.strip.intent == "timer_set" and window.strip.date_keys == ["in_10_minutes"]
    chips = window.strip.chip_texts()
    assert chips[0].startswith("timer_set") and "in_10_minutes" in chips, chips
    assert "→ Mon 07 Dec 2026, 10:10" in chips, chips
    # the Hands-free toggle off: stop() is asked at once, the worker is gone within 2 s
    t0 = time.perf_counter()
    with qtbot.waitSignal(worker.stopped, timeout=2000):
        window.hands_free_action.trigger()
        assert time.perf_counter() - t0 < 0.05
    probe.stop()
    assert not window.hands_free_action.isChecked() and window.voice_worker is None
    assert window.status_message() == "Hands-free session ended"
    worst = max(gaps)
    assert worst < 250, f"the GUI thread stalled for {worst:.0f} ms during the voice session"


def test_hands_free_without_a_microphone_shows_one_error_and_turns_the_toggle_off(qtbot):
    from jarvis_desktop.ui.main_window import MainWindow

    settings = Settings(audio=AudioSettings(device="no such microphone"), voice=VoiceSettings(wake_word=False))
    w = MainWindow(assistant_factory=lambda: NoPreloadAssistant(settings, record_history=False), use_tray=False)
    qtbot.addWidget(w)
    try:
        errors: list[str] = []
        w.error_shown.connect(errors.append)
        w.hands_free_action.trigger()  # the user's click: a session on the Assistant's [audio] device
        assert w.hands_free_action.isChecked() and w.voice_worker is not None
        qtbot.waitUntil(lambda: w.voice_worker is None, timeout=LOAD_TIMEOUT_MS)
        print(f"\nshown: {errors}")
        assert len(errors) == 1 and errors[0].startswith("Hands-free: "), errors
        assert "no such microphone" in errors[0] or "microphone" in errors[0].lower(), errors
        assert not w.hands_free_action.isChecked()
        assert w.status_message() == errors[0]  # the error line stays (not "session ended")
    finally:
        w.shutdown()


def test_the_strip_shows_a_partial_with_its_unstable_words_greyed_until_the_final(qtbot):
    from jarvis_desktop.ui.understanding_strip import UNSTABLE_COLOR, UnderstandingStrip

    strip = UnderstandingStrip()
    qtbot.addWidget(strip)
    strip.show_partial("set a timer", "for ten <b>")
    label = strip.transcript_label.text()
    assert strip.partial == ("set a timer", "for ten <b>")
    assert label.startswith("“set a timer <span") and f'color:{UNSTABLE_COLOR}">for ten &lt;b&gt;</span>' in label
    assert strip.transcript is None  # not the final yet
    strip.show_transcript("set a timer for ten minutes")
    assert strip.partial is None and strip.transcript_label.text() == "“set a timer for ten minutes”"


def test_listen_now_in_the_tray_makes_the_running_session_hear_and_partials_show_in_the_strip(qtbot, window, tmp_path):
    from PySide6.QtGui import QIcon

    from jarvis_desktop.ui.tray import TOOLTIP, JarvisTray

    silence = tmp_path / "silence.wav"
    sf.write(silence, np.zeros(16000, dtype=np.float32), 16000, subtype="PCM_16")
    tray = JarvisTray(window, QIcon(), wake_word=False)
    window.tray = tray  # the offscreen platform has no system tray: attach one as create_tray would
    assert not window.listen_now()  # no session: the tray falls back to push-to-talk
    worker = window.start_voice_session(FileSource(silence, realtime=True, tail_s=60.0), VoiceSettings(), dry_run=True)
    with qtbot.waitSignal(worker.listening, timeout=LOAD_TIMEOUT_MS):
        pass
    qtbot.waitUntil(lambda: window.status_message() == 'Hands-free: waiting for "hey Jarvis"', timeout=10_000)
    with qtbot.waitSignal(worker.state, timeout=2000, check_params_cb=lambda s: s == "hearing"):
        tray.start_listening()  # no wake word said: the session hears a command now
    assert not window.mic_button.recording  # not push-to-talk
    assert window.status_message() == "Hearing you…"
    assert tray.listening_state == "hearing" and "hearing you" in tray.toolTip()  # seen with the window hidden
    # a partial transcript from the session renders on the strip's HEARD line
    worker.voice_event.emit(PartialEvent(1.0, 40.0, text_stable="set a timer", text_unstable="for ten"))
    assert window.strip.partial == ("set a timer", "for ten")
    with qtbot.waitSignal(worker.stopped, timeout=2000):
        window.hands_free_action.trigger()
    assert not window.listen_now()
    assert tray.listening_state == "" and tray.toolTip() == TOOLTIP
    window.tray = None


def test_tray_icon_carries_a_dot_while_hearing_and_thinking(qtbot):
    from PySide6.QtGui import QColor, QIcon, QPixmap

    from jarvis_desktop.ui.tray import STATE_DOTS, state_icon

    base_pixmap = QPixmap(64, 64)
    base_pixmap.fill(QColor("#203040"))
    base = QIcon(base_pixmap)
    assert state_icon(base, "waiting_for_wake") is base and state_icon(base, "nonsense") is base
    for state in ("hearing", "responding"):
        image = state_icon(base, state).pixmap(64, 64).toImage()
        assert image.pixelColor(51, 51) == QColor(STATE_DOTS[state][0])  # the dot, lower right
        assert image.pixelColor(8, 8) == QColor("#203040")  # the rest of the icon is untouched


def test_tray_offers_listen_now_and_a_wake_word_toggle_saved_to_the_settings_file(qtbot, window):
    from PySide6.QtGui import QIcon

    from jarvis_desktop.config import load_settings, settings_path
    from jarvis_desktop.ui.tray import WAKE_LABEL, JarvisTray

    path = settings_path()
    before = path.read_text() if path.exists() else None
    tray = JarvisTray(window, QIcon())
    try:
        texts = [a.text() for a in tray.contextMenu().actions()]
        assert "Listen now" in texts and WAKE_LABEL in texts
        assert tray.wake_action.isCheckable() and tray.wake_action.isChecked() == load_settings().voice.wake_word
        with qtbot.waitSignal(tray.wake_word_changed, timeout=5000) as blocker:
            tray.wake_action.setChecked(False)
        assert blocker.args == [False] and load_settings().voice.wake_word is False
        with qtbot.waitSignal(tray.wake_word_changed, timeout=5000):
            tray.wake_action.trigger()
        assert tray.wake_action.isChecked() and load_settings().voice.wake_word is True
        fresh = JarvisTray(window, QIcon(), wake_word=None)
        assert fresh.wake_action.isChecked()
    finally:
        if before is None:
            path.unlink(missing_ok=True)
        else:
            path.write_text(before)
