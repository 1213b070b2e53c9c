"""The voice session talking back: replies spoken through a real Speaker (hibari "heart" voice) into a PulseAudio
null sink and heard back by Whisper; barge-in by "hey Jarvis"; the speaker's own voice not taken as a command
(tests/helpers_speaker.py: the sink, its recorder and the clock alignment)."""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from helpers_speaker import heard_words, rms
from speech_noise import mix, silence, spoken

from jarvis_desktop.assistant import Assistant
from jarvis_desktop.config import Settings, SpeechSettings, VoiceSettings
from jarvis_desktop.stt.whisper import SpeechToText
from jarvis_desktop.tts.hibari_voice import HibariSynthesizer
from jarvis_desktop.tts.speaker import Speaker
from jarvis_desktop.voice.events import (
    BargeInEvent,
    EndpointEvent,
    ParseEvent,
    ReplyEvent,
    SpeechStartEvent,
    VoiceEvent,
)
from jarvis_desktop.voice.session import VoiceSession
from jarvis_desktop.voice.sources import FileSource
from jarvis_desktop.voice.wake_verify import WhisperWakeVerifier

pytestmark = pytest.mark.slow

NOW = "2026-12-07T10:00"
LONG_REPLY = (
    "Here is what I found about sourdough. You need flour, water and salt, and a starter that is active. "
    "Mix them, let the dough rest for an hour, then fold it every half hour for the next three hours. "
    "Shape the loaf, let it rise overnight in the fridge, and bake it hot in a covered pot the next morning."
)


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("speech-cache")


@pytest.fixture(scope="module")
def assistant():
    a = Assistant(Settings(), record_history=False)
    yield a
    a.close()


@pytest.fixture(scope="module")
def voice():
    tts = HibariSynthesizer()
    tts.warm_up()
    return tts


@pytest.fixture
def speaker(voice, speaker_sink):
    sp = Speaker(SpeechSettings(device=speaker_sink.device), synthesizer=voice)
    yield sp
    sp.close()


def clip(parts: list[str | float], cache: Path, out: Path) -> Path:
    """0.5 s silence, the parts (text: espeak-ng en-us speech; number: seconds of silence), 1.5 s silence, pink
    noise at 20 dB; a 16 kHz WAV."""
    audio = [silence(0.5)] + [spoken(p, cache) if isinstance(p, str) else silence(p) for p in parts] + [silence(1.5)]
    sf.write(out, mix(np.concatenate(audio).astype(np.float32), 20.0, "pink"), 16000, subtype="PCM_16")
    return out


def run(assistant, speaker, wav: Path, wake: bool, before=None, arrivals=None) -> list[VoiceEvent]:
    """Play ``wav`` at real-time pace into a session that speaks through ``speaker``; ``before()`` runs after the
    session started, before the audio; ``arrivals`` (a dict) gets each event kind's perf_counter arrival."""
    events: list[VoiceEvent] = []

    def listen(event: VoiceEvent) -> None:
        if arrivals is not None:
            arrivals.setdefault(event.kind, time.perf_counter())
        events.append(event)

    session = VoiceSession(
        assistant,
        VoiceSettings(wake_word=wake, follow_up_s=0.0),
        listener=listen,
        now=datetime.fromisoformat(NOW),
        dry_run=True,
        verifier=WhisperWakeVerifier(stt=assistant.stt) if wake else None,
        speaker=speaker,
    )
    session.start()
    if before is not None:
        before()
    FileSource(wav, realtime=True).run(session)
    session.finish(timeout=60)
    return events


def test_the_reply_to_a_spoken_command_is_heard(assistant, speaker, speaker_sink, cache, tmp_path):
    wav = clip(["hey jarvis, set a timer for ten minutes"], cache, tmp_path / "timer.wav")
    with speaker_sink.record() as rec:
        events = run(assistant, speaker, wav, wake=True)
        assert speaker.wait_idle(30)
        time.sleep(0.3)
    replies = [e for e in events if isinstance(e, ReplyEvent)]
    assert len(replies) == 1 and "timer" in replies[0].text.lower()
    assert rec.recording is not None
    heard = heard_words(SpeechToText().transcribe(rec.recording.samples).text)
    assert "minutes" in heard and "ten" in heard, heard  # tiny.en often hears this voice's "timer" as "time or"


def test_hey_jarvis_while_it_speaks_stops_it_within_150_ms(assistant, speaker, speaker_sink, cache, tmp_path):
    wav = clip([1.5, "hey jarvis", 0.6, "what time is it"], cache, tmp_path / "barge.wav")
    arrivals: dict[str, float] = {}
    with speaker_sink.record() as rec:
        events = run(assistant, speaker, wav, wake=True, before=lambda: speaker.say(LONG_REPLY), arrivals=arrivals)
        speaker.wait_idle(30)
    barge = [e for e in events if isinstance(e, BargeInEvent)]
    assert len(barge) == 1 and barge[0].trigger == "wake", events
    assert 1.5 < barge[0].audio_s < 3.5  # on "hey jarvis", not before
    assert barge[0].stop_ms < 150
    # the long reply was playing before the barge-in, and 150 ms after it the sink is silent until the answer to
    # the command after the wake word starts
    assert rec.recording is not None
    t = arrivals["barge_in"]
    assert rms(rec.recording.between(t - 0.8, t - 0.1)) > 0.01

    assert rms(rec.recording.between(t + 0.15, t + 0.6)) < 0.003
    # the command after the wake word is still taken (the barge-in does not eat it)
    assert [e.intent for e in events if isinstance(e, ParseEvent)] == ["datetime_query"]


def test_its_own_voice_is_not_a_command_without_the_wake_word(assistant, speaker, speaker_sink, cache, tmp_path):
    # wake word off: every utterance is a command, except one said while Jarvis speaks (the speaker's echo on a
    # real microphone); here the speech is fed while a long reply plays
    wav = clip([0.5, "set a timer for ten minutes"], cache, tmp_path / "echo.wav")
    events = run(assistant, speaker, wav, wake=False, before=lambda: speaker.say(LONG_REPLY))
    assert not [e for e in events if isinstance(e, ParseEvent)]
    endpoints = [e for e in events if isinstance(e, EndpointEvent)]
    assert endpoints and not any(e.addressed for e in endpoints)
    speaker.stop()
    events = run(assistant, speaker, wav, wake=False)  # silent again: the same command acts
    assert [e.intent for e in events if isinstance(e, ParseEvent)] == ["timer_set"]


def test_the_window_speaks_a_typed_reply_and_is_silent_when_muted(qtbot, speaker_sink):
    from jarvis_desktop.ui.main_window import MainWindow

    settings = Settings(
        speech=SpeechSettings(device=speaker_sink.device), voice=VoiceSettings(hotkey="")
    )  # no global hotkey grab in a test
    window = MainWindow(settings=settings, use_tray=False)
    qtbot.addWidget(window)
    try:
        assert window.reply_voice.active
        qtbot.waitUntil(lambda: window.engine_ready, timeout=120_000)
        with speaker_sink.record() as rec:
            with qtbot.waitSignal(window.turn_finished, timeout=60_000):
                assert window.submit_text("set a timer for ten minutes")
            qtbot.waitUntil(lambda: not window.reply_voice.speaker.speaking, timeout=20_000)
        assert rec.recording is not None
        heard = heard_words(SpeechToText().transcribe(rec.recording.samples).text)
        assert "minutes" in heard and "ten" in heard, heard  # tiny.en often hears this voice's "timer" as "time or"
        bubble = window.chat.bubbles[-1]
        assert bubble.role == "assistant" and bubble.replay.isVisibleTo(window)
        with speaker_sink.record() as rec:
            bubble.replay.click()  # "Say again"
            qtbot.waitUntil(lambda: window.reply_voice.speaker.speaking, timeout=5000)
            qtbot.waitUntil(lambda: not window.reply_voice.speaker.speaking, timeout=20_000)
        assert rec.recording is not None
        assert "minutes" in heard_words(SpeechToText().transcribe(rec.recording.samples).text)
        window.set_speak_replies(False)  # the tray's "Speak replies" off: nothing is said
        with speaker_sink.record() as rec:
            with qtbot.waitSignal(window.turn_finished, timeout=60_000):
                assert window.submit_text("set a timer for five minutes")
            qtbot.wait(1500)
        assert rec.recording is not None and rms(rec.recording.samples) < 0.003
    finally:
        window.shutdown()


@pytest.mark.mic
def test_its_reply_coming_back_through_the_microphone_is_not_a_command(
    virtual_mic, assistant, voice, cache, tmp_path, monkeypatch
):
    # The reply is played into the same virtual sink the microphone records (as a loudspeaker next to a laptop
    # microphone): with the wake word off, every utterance would be a command, but the one that starts while
    # Jarvis speaks is its own voice and is ignored (the echo guard).
    from helpers_pulse import play

    from jarvis_desktop.voice.sources import MicSource

    monkeypatch.setenv("PULSE_SINK", virtual_mic)  # the speaker plays into the microphone's sink
    speaker = Speaker(SpeechSettings(device="pulse"), synthesizer=voice)
    wav = clip(["set a timer for ten minutes"], cache, tmp_path / "mic_cmd.wav")
    events: queue.Queue = queue.Queue()
    session = VoiceSession(
        assistant,
        VoiceSettings(wake_word=False, follow_up_s=0.0),
        listener=events.put,
        now=datetime.fromisoformat(NOW),
        dry_run=True,
        speaker=speaker,
    )
    session.start()
    stop = threading.Event()
    runner = threading.Thread(target=MicSource().run, args=(session, stop), daemon=True)
    runner.start()
    try:
        time.sleep(2.5)  # capture start-up
        play(virtual_mic, wav)
        seen: list[VoiceEvent] = []
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline and not any(isinstance(e, ReplyEvent) for e in seen):
            seen.append(events.get(timeout=40))
        assert speaker.wait_idle(30)
        deadline = time.monotonic() + 8  # the reply's echo is endpointed (400 ms of silence) after it ends
        while time.monotonic() < deadline and not any(isinstance(e, EndpointEvent) and not e.addressed for e in seen):
            with contextlib.suppress(queue.Empty):
                seen.append(events.get(timeout=0.5))
    finally:
        stop.set()
        runner.join(10)
        session.finish(timeout=30)
        speaker.close()
    while not events.empty():
        seen.append(events.get())
    parses = [e for e in seen if isinstance(e, ParseEvent)]
    assert [p.intent for p in parses] == ["timer_set"], [getattr(e, "text", e.kind) for e in seen]
    # the reply really came back: the microphone heard speech start after the command had ended. In about half of
    # the runs here the reply does not reach the remapped microphone (a PulseAudio routing issue not found yet):
    # then nothing was tested, and the test says so instead of passing.
    reply = next(e for e in seen if isinstance(e, ReplyEvent))
    if not [e for e in seen if isinstance(e, SpeechStartEvent) and e.audio_s > reply.audio_s]:
        pytest.skip("the spoken reply did not reach the virtual microphone this run (known routing flake, issue 12)")
