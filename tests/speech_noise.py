"""Noisy test speech: espeak-ng speech (via ``tests/speech.py``) mixed with synthetic room noise at a chosen SNR.

Every array here is float32, shape ``(n,)``, mono, 16 kHz, samples in [-1, 1]. Noise kinds:

* ``pink``: 1/f noise (equal energy per octave), the usual "room / crowd hiss" test noise.
* ``brown``: 1/f^2 noise, low-frequency rumble like a fan or an air conditioner.
* ``music``: a synthetic melody: a chord of three harmonic tones whose notes change every 250 ms, with a
  slow tremolo; tonal and non-stationary like background music, but no speech in it.
* ``white``: flat-spectrum noise.

SNR is computed from the mean power of the speech's voiced part (samples of the speech clip above -50 dBFS
RMS in 20 ms blocks) against the noise's mean power, so leading/trailing silence does not lower it.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
from speech import SAMPLE_RATE, speak

from jarvis_desktop.audio.wav import load_audio

NOISE_KINDS = ("pink", "brown", "music", "white")


def _shaped_noise(n: int, exponent: float, rng: np.random.Generator) -> np.ndarray:
    """Gaussian noise whose power spectrum falls as 1/f**exponent; unit RMS, float64 ``(n,)``."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1.0 / SAMPLE_RATE)
    freqs[0] = freqs[1] if n > 1 else 1.0
    spectrum *= freqs ** (-exponent / 2.0)
    spectrum[freqs < 20.0] = 0.0  # no DC / sub-audio drift
    x = np.fft.irfft(spectrum, n)
    return x / (np.sqrt(np.mean(x * x)) + 1e-12)


def _music(n: int, rng: np.random.Generator) -> np.ndarray:
    """Three-voice harmonic melody (notes of A minor, 250 ms each, tremolo); unit RMS float64 ``(n,)``."""
    scale = 220.0 * 2 ** (np.array([0, 2, 3, 5, 7, 8, 10, 12, 14, 15]) / 12.0)
    note_len = SAMPLE_RATE // 4
    t = np.arange(n) / SAMPLE_RATE
    out = np.zeros(n)
    for start in range(0, n, note_len):
        end = min(n, start + note_len)
        seg_t = t[start:end]
        env = np.minimum(1.0, np.minimum(seg_t - seg_t[0], seg_t[-1] - seg_t + 1e-3) * 40.0)
        for voice, octave in enumerate((1.0, 1.0, 0.5)):
            f = scale[rng.integers(len(scale))] * octave
            for h, amp in ((1, 1.0), (2, 0.5), (3, 0.25)):
                out[start:end] += amp / (voice + 1) * env * np.sin(2 * np.pi * f * h * seg_t)
    out *= 1.0 + 0.3 * np.sin(2 * np.pi * 4.0 * t)
    return out / (np.sqrt(np.mean(out * out)) + 1e-12)


def noise(kind: str, seconds: float, rms: float = 0.05, seed: int = 0) -> np.ndarray:
    """``seconds`` of noise of ``kind`` (one of :data:`NOISE_KINDS`) at RMS ``rms`` (float scale), float32."""
    return noise_samples(kind, max(1, int(seconds * SAMPLE_RATE)), rms, seed)


def noise_samples(kind: str, n: int, rms: float = 0.05, seed: int = 0) -> np.ndarray:
    """Exactly ``n`` samples of ``kind`` noise at RMS ``rms``, float32 (see :func:`noise`)."""
    rng = np.random.default_rng(seed)
    if kind == "pink":
        x = _shaped_noise(n, 1.0, rng)
    elif kind == "brown":
        x = _shaped_noise(n, 2.0, rng)
    elif kind == "music":
        x = _music(n, rng)
    elif kind == "white":
        x = rng.standard_normal(n)
    else:
        raise ValueError(f"unknown noise kind {kind!r}; expected one of {NOISE_KINDS}")
    return (x * rms).astype(np.float32)


def voiced_power(speech: np.ndarray) -> float:
    """Mean power of the 20 ms blocks of ``speech`` above -50 dBFS (its voiced part); 0.0 for silence."""
    block = SAMPLE_RATE // 50
    count = len(speech) // block
    if count == 0:
        return 0.0
    frames = speech[: count * block].astype(np.float64).reshape(count, block)
    power = np.mean(frames * frames, axis=1)
    voiced = power[power > 1e-5]
    return float(voiced.mean()) if voiced.size else 0.0


def mix(speech: np.ndarray, snr_db: float, kind: str = "pink", seed: int = 0) -> np.ndarray:
    """``speech`` plus ``kind`` noise at ``snr_db`` (voiced speech power / noise power, in dB), float32 in [-1, 1].

    The noise spans the whole clip, silences included (a steady room noise).
    """
    p_speech = voiced_power(speech)
    rms = np.sqrt(p_speech / 10 ** (snr_db / 10.0)) if p_speech > 0 else 0.01
    noisy = speech.astype(np.float32) + noise_samples(kind, len(speech), float(rms), seed)
    return np.clip(noisy, -1.0, 1.0).astype(np.float32)


def silence(seconds: float) -> np.ndarray:
    """Digital silence, float32 ``(n,)``."""
    return np.zeros(int(seconds * SAMPLE_RATE), dtype=np.float32)


def spoken(text: str, cache_dir: Path, voice: str = "en-us", wpm: int = 150) -> np.ndarray:
    """espeak-ng speech of ``text`` (float32 16 kHz), cached as a WAV in ``cache_dir`` keyed by text/voice/speed."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    key = hashlib.sha1(f"{voice}|{wpm}|{text}".encode()).hexdigest()[:12]
    name = re.sub(r"\W+", "_", text)[:40]
    out = cache_dir / f"{name}_{key}.wav"
    if not out.exists():
        tmp = cache_dir / f"{name}_{key}.tmp.wav"
        speak(text, tmp, voice=voice, wpm=wpm)
        tmp.replace(out)
    return load_audio(out)
