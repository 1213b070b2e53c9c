"""HibariSynthesizer: the embedded "heart" voice, real model (no mock), heard back by the app's own Whisper."""

from __future__ import annotations

import socket
import threading
import time

import numpy as np
import pytest
from helpers_speaker import heard_words, wer

from jarvis_desktop.errors import BadInputError, ModelNotFoundError
from jarvis_desktop.tts.hibari_voice import MAX_TEXT_CHARS, HibariSynthesizer, embedded_model_path
from jarvis_desktop.tts.speakable import speakable
from jarvis_desktop.tts.synthesizer import SpeechSynthesizer


@pytest.fixture(scope="module")
def voice():
    tts = HibariSynthesizer()
    tts.warm_up()
    return tts


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a network connection was attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_another_voice_is_refused_at_once_without_network(no_network):
    t0 = time.perf_counter()
    with pytest.raises(ModelNotFoundError) as err:
        HibariSynthesizer("af_bella")
    assert time.perf_counter() - t0 < 1.0
    message = str(err.value)
    assert "af_bella" in message and "heart" in message and "offline" in message
    assert err.value.exit_code == 2


def test_a_missing_model_file_is_a_clear_error(tmp_path):
    with pytest.raises(ModelNotFoundError, match="not found"):
        HibariSynthesizer(model_path=tmp_path / "nope.onnx")


def test_bad_speed_is_refused():
    with pytest.raises(BadInputError, match="speed"):
        HibariSynthesizer(speed=5.0)


def test_voice_info_names_licence_origin_and_rate_without_loading():
    tts = HibariSynthesizer()
    info = tts.voice
    assert not tts.loaded
    assert isinstance(tts, SpeechSynthesizer)
    assert (info.name, info.language, info.sample_rate_hz, info.licence) == ("heart", "en-US", 24000, "Apache-2.0")
    assert "Kokoro" in info.origin and "heart" in info.origin
    assert info.size_bytes == embedded_model_path().stat().st_size > 1_000_000


@pytest.mark.slow
def test_a_corrupt_model_file_is_a_clear_error(tmp_path, no_network):
    broken = tmp_path / "hibari.onnx"
    broken.write_bytes(embedded_model_path().read_bytes()[:100_000])
    tts = HibariSynthesizer(model_path=broken)
    with pytest.raises(ModelNotFoundError, match="could not be loaded"):
        tts.synthesize("Hello there.")


@pytest.mark.slow
def test_speech_is_24khz_float32_mono_of_plausible_length(voice, no_network):
    text = speakable("Timer set: 10 minutes — ends today 18:15.")
    audio = voice.synthesize(text)
    assert voice.sample_rate_hz == 24000
    assert audio.dtype == np.float32 and audio.ndim == 1
    seconds = len(audio) / voice.sample_rate_hz
    words = len(text.split())
    assert 0.2 * words <= seconds <= 0.8 * words, (seconds, words)
    assert float(np.sqrt(np.mean(audio**2))) > 0.01, "not silent"
    assert float(np.max(np.abs(audio))) <= 1.0


@pytest.mark.slow
@pytest.mark.parametrize("nothing", ["", "   ", speakable("🎉👍"), "..."])
def test_nothing_to_say_gives_no_samples(voice, nothing):
    assert voice.synthesize(nothing).shape == (0,)


@pytest.mark.slow
def test_too_long_text_is_refused_before_synthesis(voice):
    with pytest.raises(BadInputError, match="too long"):
        voice.synthesize("word " * (MAX_TEXT_CHARS // 5 + 1))


@pytest.mark.slow
def test_shared_between_threads_gives_the_same_audio(voice):
    texts = ["The first thread speaks.", "The second thread speaks too."]
    expected = [voice.synthesize(t) for t in texts]
    results: dict[int, np.ndarray] = {}

    def run(i: int) -> None:
        results[i] = voice.synthesize(texts[i % 2])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert all(np.array_equal(results[i], expected[i % 2]) for i in range(4))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("reply", "must_hear"),
    [
        ("Timer set for 10 minutes.", "ten minutes"),
        ("Your alarm is at 07:30 tomorrow.", "seven thirty"),
        ("Reminder set: call mom — tomorrow 15:00.", "three p m"),
        ("It's 09:05 on Tuesday, 8 December 2026.", "december"),
    ],
)
def test_whisper_understands_the_spoken_reply(voice, stt, reply, must_hear):
    import soxr

    text = speakable(reply)
    audio16 = soxr.resample(voice.synthesize(text), voice.sample_rate_hz, 16000).astype(np.float32)
    heard = heard_words(stt.transcribe(audio16).text)
    assert must_hear in " ".join(heard)
    assert wer(" ".join(heard_words(text)), " ".join(heard)) <= 0.15, (text, heard)
