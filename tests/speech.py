"""Test audio made for real: espeak-ng speech and synthetic silence/noise as 16 kHz mono WAV files."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

SAMPLE_RATE = 16000


def speak(text: str, out: Path, voice: str = "en-us", wpm: int = 150) -> Path:
    """Speak ``text`` with espeak-ng into ``out`` (16 kHz, mono, 16-bit PCM WAV)."""
    if not (shutil.which("espeak-ng") and shutil.which("sox")):
        pytest.fail("espeak-ng and sox are required (packaging/setup.sh --test installs them)")
    raw = out.with_name(out.stem + ".raw.wav")
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(wpm), "-w", str(raw), text], check=True)
    subprocess.run(["sox", str(raw), "-r", str(SAMPLE_RATE), "-c", "1", "-b", "16", str(out)], check=True)
    raw.unlink()
    return out


def write_silence(out: Path, seconds: float = 3.0) -> Path:
    """Digital silence."""
    sf.write(out, np.zeros(int(seconds * SAMPLE_RATE), dtype=np.float32), SAMPLE_RATE, subtype="PCM_16")
    return out


def write_noise(out: Path, seconds: float = 3.0, amplitude: float = 0.05, seed: int = 0) -> Path:
    """White noise at ``amplitude`` (peak-ish, float scale)."""
    rng = np.random.default_rng(seed)
    noise = (rng.standard_normal(int(seconds * SAMPLE_RATE)) * amplitude).clip(-1, 1).astype(np.float32)
    sf.write(out, noise, SAMPLE_RATE, subtype="PCM_16")
    return out
