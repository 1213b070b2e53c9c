"""Neural test speech: hibari-tts (its built-in "heart" voice, offline) as 16 kHz float32, cached as WAV files.

hibari-tts speaks at 24 kHz; every clip here is resampled to 16 kHz with soxr and returned as float32 ``(n,)``,
mono, samples in [-1, 1]. Synthesis is seeded, so a clip is the same on every run; the cache key is the text, the
speed and the seed. Noise is mixed by ``tests/speech_noise.py`` (SNR over the voiced part).
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest
import soundfile as sf
from speech import SAMPLE_RATE
from speech_noise import mix, silence

from jarvis_desktop.audio.wav import load_audio

if TYPE_CHECKING:
    from hibari import Hibari  # type: ignore[import-untyped]  # hibari-tts ships no py.typed

HIBARI_RATE = 24000
VOICE = "heart"  # the only voice inside the wheel; any other one downloads from Hugging Face


@lru_cache(maxsize=1)
def _tts() -> Hibari:
    """One warm hibari-tts model for the test session (one onnxruntime thread: two are slower)."""
    try:
        from hibari import Hibari
    except ImportError:
        pytest.fail("hibari-tts is required: pip install -e '.[test]' (or pip install hibari-tts==0.2.1)")
    return Hibari(voice=VOICE, threads=1)


def synthesize(text: str, speed: float = 1.0, seed: int = 0) -> np.ndarray:
    """hibari-tts speech of ``text`` at ``speed`` (1.0 = the voice's pace), float32 ``(n,)`` at 16 kHz."""
    import soxr

    audio24 = np.asarray(_tts()(text, speed=speed, seed=seed), dtype=np.float32)
    audio16 = soxr.resample(audio24, HIBARI_RATE, SAMPLE_RATE)
    return np.clip(audio16, -1.0, 1.0).astype(np.float32)


def neural_spoken(text: str, cache_dir: Path, speed: float = 1.0, seed: int = 0) -> np.ndarray:
    """:func:`synthesize`, cached as a 16 kHz float WAV in ``cache_dir`` keyed by text/speed/seed; float32 ``(n,)``."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    key = hashlib.sha1(f"hibari|{VOICE}|{speed}|{seed}|{text}".encode()).hexdigest()[:12]
    name = re.sub(r"\W+", "_", text)[:40]
    out = cache_dir / f"hibari_{name}_{key}.wav"
    if not out.exists():
        tmp = cache_dir / f"hibari_{name}_{key}.tmp.wav"
        sf.write(tmp, synthesize(text, speed, seed), SAMPLE_RATE, subtype="FLOAT")
        tmp.replace(out)
    return load_audio(out)


def neural_clip(
    parts: list[str | float],
    cache_dir: Path,
    out: Path,
    speed: float = 1.0,
    snr_db: float | None = None,
    seed: int = 3,
) -> Path:
    """0.8 s of silence, then each part (text: hibari-tts speech; number: seconds of silence), then 0.5 s of
    silence; pink noise at ``snr_db`` dB over the whole clip when given. Written as a 16 kHz 16-bit WAV at ``out``.
    """
    segments = [silence(0.8)]
    for part in parts:
        segments.append(neural_spoken(part, cache_dir, speed) if isinstance(part, str) else silence(part))
    segments.append(silence(0.5))
    audio = np.concatenate(segments)
    if snr_db is not None:
        audio = mix(audio, snr_db, "pink", seed=seed)
    sf.write(out, audio, SAMPLE_RATE, subtype="PCM_16")
    return out
