"""load_audio's bounds before and while decoding: a small file cannot make the app decode gigabytes (a 1 MB FLAC
of 8 channels at 192 kHz once peaked at 4.4 GB), too many channels or too high a rate are refused from the header,
and the block-by-block decode gives the same audio as decoding at once."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest
import soundfile as sf

from jarvis_desktop.audio.wav import BLOCK_FRAMES, MAX_CHANNELS, SAMPLE_RATE, load_audio
from jarvis_desktop.errors import BadInputError


def _silent_flac(path, seconds: int, channels: int = 8, rate: int = 192_000) -> None:
    with sf.SoundFile(path, "w", samplerate=rate, channels=channels, format="FLAC", subtype="PCM_24") as f:
        second = np.zeros((rate, channels), np.float32)
        for _ in range(seconds):
            f.write(second)


@pytest.mark.slow
def test_a_wide_fast_flac_decodes_in_bounded_memory(tmp_path):
    path = tmp_path / "wide.flac"
    _silent_flac(path, 60)  # decoded at once: 60 s x 192 kHz x 8 ch x 4 B = 369 MB
    assert path.stat().st_size < 2_000_000
    probe = textwrap.dedent(
        f"""
        import resource
        from jarvis_desktop.audio.wav import load_audio
        load_audio("{path}")  # warm: imports soundfile and soxr
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        audio = load_audio("{path}")
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(len(audio), (after - before) // 1024)
        """
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    samples, grew_mb = (int(x) for x in out.stdout.split())
    assert samples == 60 * SAMPLE_RATE
    assert grew_mb < 100, f"peak memory grew by {grew_mb} MB while decoding"


def test_too_many_channels_are_refused_before_decoding(tmp_path):
    path = tmp_path / "many.wav"
    sf.write(path, np.zeros((1000, MAX_CHANNELS + 1), np.float32), 16000)
    with pytest.raises(BadInputError, match=f"{MAX_CHANNELS + 1} channels"):
        load_audio(path)


def test_a_sample_rate_above_the_cap_is_refused(tmp_path):
    path = tmp_path / "fast.wav"
    sf.write(path, np.zeros(1000, np.float32), 768_000)
    with pytest.raises(BadInputError, match="768000 Hz"):
        load_audio(path)


@pytest.mark.parametrize("frames", [BLOCK_FRAMES, 3 * BLOCK_FRAMES + 17])
def test_block_decoding_matches_decoding_at_once(tmp_path, frames):
    import soxr

    rng = np.random.default_rng(7)
    stereo = (0.3 * rng.standard_normal((frames, 2))).astype(np.float32)
    path = tmp_path / "noise.wav"
    sf.write(path, stereo, 44100, subtype="FLOAT")
    at_once = soxr.resample(stereo.mean(axis=1), 44100, SAMPLE_RATE, quality="HQ")
    audio = load_audio(path)
    assert abs(len(audio) - len(at_once)) <= 1
    n = min(len(audio), len(at_once))
    assert np.max(np.abs(audio[:n] - np.clip(at_once[:n], -1, 1))) < 1e-3


def test_a_file_longer_than_the_cap_is_refused(tmp_path):
    path = tmp_path / "long.flac"
    _silent_flac(path, 3, channels=1, rate=16000)
    with pytest.raises(BadInputError, match="min long"):
        load_audio(path, max_duration_s=2.0)
