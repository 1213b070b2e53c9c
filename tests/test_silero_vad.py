"""Streaming Silero VAD and the endpointer on real espeak-ng speech (clean and with pink noise at 10 dB SNR)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers_audio import normalise
from speech_noise import mix, noise, silence, spoken

from jarvis_desktop.audio.endpoint import Endpoint, Endpointer, EndpointSettings, SileroEndpointer, SpeechStart
from jarvis_desktop.audio.silero import FRAME_SAMPLES, SileroVad, silero_model_path
from jarvis_desktop.errors import ModelNotFoundError

SR = 16000


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("vad-speech")


def _trim(audio: np.ndarray) -> np.ndarray:
    idx = np.nonzero(np.abs(audio) > 0.003)[0]
    return audio[idx[0] : idx[-1] + 1]


def _two_utterances(cache: Path) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """1 s silence, "set a timer" + 300 ms pause + "for ten minutes", 1.5 s silence, "what time is it", 1 s.
    Returns the audio and the true (start, end) sample of each utterance."""
    a = _trim(spoken("set a timer", cache))
    b = _trim(spoken("for ten minutes", cache))
    c = _trim(spoken("what time is it", cache))
    parts = [silence(1.0), a, silence(0.3), b, silence(1.5), c, silence(1.0)]
    s1 = SR
    e1 = s1 + len(a) + int(0.3 * SR) + len(b)
    s2 = e1 + int(1.5 * SR)
    return np.concatenate(parts), [(s1, e1), (s2, s2 + len(c))]


def _endpoints(audio: np.ndarray, chunk: int = 1600) -> tuple[list[SpeechStart], list[Endpoint]]:
    ep = SileroEndpointer()
    events = []
    for i in range(0, len(audio), chunk):
        events += ep.process(audio[i : i + chunk])
    events += ep.flush()
    return [e for e in events if isinstance(e, SpeechStart)], [e for e in events if isinstance(e, Endpoint)]


def test_missing_model_names_the_package(tmp_path):
    with pytest.raises(ModelNotFoundError) as err:
        SileroVad(tmp_path / "nope.onnx")
    assert "faster-whisper" in err.value.user_message()
    assert silero_model_path().name == "silero_vad_v6.onnx"


@pytest.mark.slow
def test_corrupt_model_gives_clear_error(tmp_path):
    bad = tmp_path / "silero_vad_v6.onnx"
    bad.write_bytes(b"not an onnx model" * 100)
    with pytest.raises(ModelNotFoundError, match="corrupt or not an ONNX model"):
        SileroVad(bad)


@pytest.mark.slow
def test_probabilities_do_not_depend_on_chunking(cache):
    audio = np.concatenate([silence(0.5), spoken("what time is it", cache), silence(0.5)])
    vad = SileroVad()
    _, whole = vad.process(audio)
    vad.reset()
    parts = [vad.process(audio[i : i + 777])[1] for i in range(0, len(audio), 777)]
    np.testing.assert_allclose(np.concatenate(parts), whole, atol=1e-5)
    assert len(whole) == len(audio) // FRAME_SAMPLES
    assert whole[: int(0.4 * SR) // FRAME_SAMPLES].max() < 0.2  # leading silence
    assert whole.max() > 0.9  # speech


@pytest.mark.slow
def test_short_pause_is_one_utterance_and_long_gap_two(cache):
    audio, truth = _two_utterances(cache)
    starts, ends = _endpoints(audio)
    assert len(starts) == 2 and len(ends) == 2
    for end, (t0, t1) in zip(ends, truth, strict=True):
        assert end.start_sample <= t0  # the pre-roll keeps the onset
        assert end.last_voiced_sample >= t1 - 2 * FRAME_SAMPLES
        assert end.emitted_sample - t1 < 0.8 * SR  # endpoint within 800 ms of the end of speech
        assert len(end.audio) == end.end_sample - end.start_sample
        np.testing.assert_array_equal(end.audio, audio[end.start_sample : end.end_sample])


@pytest.mark.slow
def test_cut_audio_keeps_the_first_syllable(cache, stt):
    audio, _ = _two_utterances(cache)
    _, ends = _endpoints(audio)
    texts = [normalise(stt.transcribe(e.audio).text) for e in ends]
    assert texts == ["set a timer for 10 minutes", "what time is it"]


@pytest.mark.slow
def test_pink_noise_at_10_db_snr(cache):
    audio, truth = _two_utterances(cache)
    noisy = mix(audio, 10.0, "pink", seed=5)
    _, ends = _endpoints(noisy, chunk=512 * 3 + 17)
    assert len(ends) == 2
    for end, (t0, t1) in zip(ends, truth, strict=True):
        assert end.start_sample <= t0 and end.end_sample >= t1 - 2 * FRAME_SAMPLES


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["pink", "brown"])
def test_noise_alone_is_not_speech(kind):
    starts, ends = _endpoints(noise(kind, 5.0, rms=0.08, seed=3))
    assert starts == [] and ends == []


def test_max_utterance_length_cuts_and_continues():
    ep = Endpointer(EndpointSettings(max_utterance_s=1.0, start_frames=2))
    frame = np.full(FRAME_SAMPLES, 0.1, dtype=np.float32)
    events = []
    for _ in range(80):  # 2.56 s of "speech"
        events += ep.push(frame, 0.9)
    for _ in range(20):
        events += ep.push(frame * 0, 0.0)
    ends = [e for e in events if isinstance(e, Endpoint)]
    starts = [e for e in events if isinstance(e, SpeechStart)]
    assert [e.truncated for e in ends] == [True, True, False]
    assert len(starts) == 3
    assert ends[0].end_sample == ends[1].start_sample  # nothing lost between the pieces
    assert ends[-1].last_voiced_sample == 80 * FRAME_SAMPLES
