"""Reading audio files into the array format the rest of the engine uses.

Every array here is float32, shape ``(n,)``, mono, :data:`SAMPLE_RATE` = 16 kHz, samples in [-1, 1].
Files are read with ``soundfile`` (libsndfile: WAV, FLAC, OGG/Vorbis, MP3 and more), down-mixed to mono by
averaging the channels, and resampled with ``soxr`` (the SoX resampler, "HQ" quality).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from jarvis_desktop.errors import BadInputError

SAMPLE_RATE = 16000
"""Sample rate in Hz of every array the engine handles (Whisper's input rate)."""

MAX_DURATION_S = 600.0
"""Longest file :func:`load_audio` accepts, in seconds (10 min): longer input is refused, not truncated."""


def resample(audio: np.ndarray, orig_sr: int, target_sr: int = SAMPLE_RATE) -> np.ndarray:
    """Resample a float32 signal of shape ``(n,)`` or ``(n, channels)`` from ``orig_sr`` to ``target_sr`` Hz.

    Uses soxr's HQ band-limited resampler; returns float32 with the same number of channels.
    """
    audio = np.asarray(audio, dtype=np.float32)
    if orig_sr == target_sr or audio.shape[0] == 0:
        return audio
    import soxr

    return soxr.resample(audio, orig_sr, target_sr, quality="HQ").astype(np.float32, copy=False)


def to_mono(audio: np.ndarray) -> np.ndarray:
    """Down-mix ``(n, channels)`` to ``(n,)`` by averaging channels; ``(n,)`` is returned unchanged."""
    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim == 2:
        return audio.mean(axis=1, dtype=np.float32)
    return audio


def load_audio(path: str | os.PathLike[str], max_duration_s: float = MAX_DURATION_S) -> np.ndarray:
    """Read an audio file as float32 ``(n,)`` mono at 16 kHz, samples clipped to [-1, 1].

    Args:
        path: a WAV/FLAC/OGG (anything libsndfile reads) file, at any sample rate and channel count.
        max_duration_s: files longer than this many seconds are refused (default 10 min).

    Raises:
        BadInputError: the path is missing or a directory, the file is empty, unreadable, corrupt or
            truncated, holds zero samples or non-finite samples, or is longer than ``max_duration_s``.
            The message names the file and the problem. A WAV whose data chunk is cut short (a
            recording still being written) is read up to where its data ends, as players do.
    """
    import soundfile as sf

    p = Path(path)
    if not p.exists():
        raise BadInputError(f"audio file not found: {p}")
    if p.is_dir():
        raise BadInputError(f"{p} is a directory, not an audio file")
    try:
        size = p.stat().st_size
    except OSError as exc:
        raise BadInputError(f"cannot read audio file {p}: {exc.strerror or exc}") from exc
    if size == 0:
        raise BadInputError(f"audio file {p} is empty (0 bytes)")

    try:
        info = sf.info(str(p))
    except Exception as exc:  # soundfile.LibsndfileError, RuntimeError, OSError
        raise BadInputError(f"{p} is not a readable audio file (WAV, FLAC or OGG expected): {_reason(exc)}") from exc
    if info.frames <= 0 or info.samplerate <= 0:
        raise BadInputError(f"audio file {p} holds no audio (zero length)")
    duration = info.frames / info.samplerate
    if duration > max_duration_s:
        raise BadInputError(
            f"audio file {p} is {duration / 60:.1f} min long; the limit is {max_duration_s / 60:g} min"
            " (split it into shorter clips)"
        )

    try:
        data, rate = sf.read(str(p), dtype="float32", always_2d=True)
    except Exception as exc:
        raise BadInputError(f"audio file {p} is corrupt or truncated: {_reason(exc)}") from exc
    if data.shape[0] == 0:
        raise BadInputError(f"audio file {p} holds no audio (zero length; the data chunk may be truncated)")
    if not np.all(np.isfinite(data)):
        raise BadInputError(f"audio file {p} is corrupt: it contains NaN or infinite samples")

    audio = resample(to_mono(data), rate, SAMPLE_RATE)
    return np.clip(audio, -1.0, 1.0).astype(np.float32, copy=False)


def _reason(exc: BaseException) -> str:
    return str(exc).strip() or type(exc).__name__
