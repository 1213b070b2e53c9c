"""load_audio: real files in, 16 kHz mono float32 out; bad files give BadInputError naming the file."""

from __future__ import annotations

import os

import numpy as np
import pytest
import soundfile as sf

from jarvis_desktop.audio.wav import SAMPLE_RATE, load_audio
from jarvis_desktop.errors import BadInputError


def tone(rate: int, seconds: float, freq: float = 440.0, amp: float = 0.5) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def dominant_hz(audio: np.ndarray) -> float:
    spec = np.abs(np.fft.rfft(audio * np.hanning(len(audio))))
    return float(np.argmax(spec) * SAMPLE_RATE / len(audio))


@pytest.mark.parametrize("rate", [16000, 44100, 48000, 8000])
def test_mono_wav_at_any_rate_loads_as_16k_float32(tmp_path, rate):
    path = tmp_path / f"tone{rate}.wav"
    sf.write(path, tone(rate, 1.5), rate, subtype="PCM_16")
    audio = load_audio(path)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert abs(len(audio) - int(1.5 * SAMPLE_RATE)) <= 2
    assert abs(dominant_hz(audio) - 440.0) < 2.0  # resampled, not just relabelled
    assert 0.45 < np.abs(audio).max() <= 0.52


def test_stereo_is_downmixed(tmp_path):
    left, right = tone(44100, 1.0, 440.0, 0.6), tone(44100, 1.0, 1000.0, 0.0)
    path = tmp_path / "stereo.wav"
    sf.write(path, np.stack([left, right], axis=1), 44100)
    audio = load_audio(path)
    assert audio.ndim == 1 and len(audio) == SAMPLE_RATE
    assert 0.25 < np.abs(audio).max() < 0.35  # the average of both channels


def test_flac_and_ogg_load(tmp_path):
    for name in ("a.flac", "a.ogg"):
        sf.write(tmp_path / name, tone(22050, 1.0), 22050)
        audio = load_audio(tmp_path / name)
        assert len(audio) == pytest.approx(SAMPLE_RATE, abs=200)
        assert abs(dominant_hz(audio) - 440.0) < 3.0


def test_missing_file(tmp_path):
    with pytest.raises(BadInputError, match="not found.*nope.wav"):
        load_audio(tmp_path / "nope.wav")


def test_directory(tmp_path):
    with pytest.raises(BadInputError, match="directory"):
        load_audio(tmp_path)


def test_empty_file(tmp_path):
    (tmp_path / "empty.wav").write_bytes(b"")
    with pytest.raises(BadInputError, match=r"empty.wav is empty"):
        load_audio(tmp_path / "empty.wav")


def test_random_bytes_named_wav(tmp_path):
    path = tmp_path / "noise.wav"
    path.write_bytes(np.random.default_rng(0).bytes(4000))
    with pytest.raises(BadInputError, match=r"noise.wav is not a readable audio file"):
        load_audio(path)


def test_truncated_header(tmp_path):
    good = tmp_path / "good.wav"
    sf.write(good, tone(16000, 1.0), 16000, subtype="PCM_16")
    bad = tmp_path / "cut.wav"
    bad.write_bytes(good.read_bytes()[:30])
    with pytest.raises(BadInputError, match="cut.wav"):
        load_audio(bad)


def test_header_only_is_zero_length(tmp_path):
    good = tmp_path / "good.wav"
    sf.write(good, tone(16000, 1.0), 16000, subtype="PCM_16")
    bad = tmp_path / "hdr.wav"
    bad.write_bytes(good.read_bytes()[:44])
    with pytest.raises(BadInputError, match="no audio"):
        load_audio(bad)


def test_zero_length_audio(tmp_path):
    path = tmp_path / "zero.wav"
    sf.write(path, np.zeros(0, np.float32), 16000)
    with pytest.raises(BadInputError, match="zero length"):
        load_audio(path)


def test_longer_than_ten_minutes_is_refused(tmp_path):
    path = tmp_path / "long.wav"
    sf.write(path, np.zeros(8000 * 601, np.float32), 8000, subtype="PCM_U8")
    with pytest.raises(BadInputError, match="long.wav is 10.0 min long; the limit is 10 min"):
        load_audio(path)
    assert len(load_audio(path, max_duration_s=700)) == 601 * SAMPLE_RATE


def test_non_finite_samples(tmp_path):
    path = tmp_path / "nan.wav"
    data = tone(16000, 0.5)
    data[100] = np.nan
    sf.write(path, data, 16000, subtype="FLOAT")
    with pytest.raises(BadInputError, match="NaN"):
        load_audio(path)


def test_unreadable_file(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root reads files regardless of permissions")
    path = tmp_path / "locked.wav"
    sf.write(path, tone(16000, 0.5), 16000)
    path.chmod(0)
    with pytest.raises(BadInputError, match="locked.wav"):
        load_audio(path)
