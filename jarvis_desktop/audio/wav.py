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

MAX_CHANNELS = 32
"""Most channels :func:`load_audio` accepts (libsndfile allows up to 1,024; no microphone or player file has more
than a surround layout's 8, so 32 leaves room without letting a tiny header ask for gigabytes)."""

MAX_SAMPLE_RATE = 384_000
"""Highest sample rate in Hz :func:`load_audio` accepts (the highest rate of common studio converters)."""

BLOCK_FRAMES = 65_536
"""Frames decoded at a time: a file is decoded, down-mixed and resampled block by block, so memory stays at one
block of the file's channels plus the 16 kHz mono result (at most 600 s x 16 kHz x 4 B = 38 MB)."""


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
    _check_header(p, info.frames, info.samplerate, info.channels, max_duration_s)
    try:
        audio = _decode_mono_16k(p, info.samplerate, max_duration_s)
    except BadInputError:
        raise
    except Exception as exc:
        raise BadInputError(f"audio file {p} is corrupt or truncated: {_reason(exc)}") from exc
    if audio.shape[0] == 0:
        raise BadInputError(f"audio file {p} holds no audio (zero length; the data chunk may be truncated)")
    return np.clip(audio, -1.0, 1.0).astype(np.float32, copy=False)


def _check_header(p: Path, frames: int, rate: int, channels: int, max_duration_s: float) -> None:
    """Refuse, from the header alone (before decoding), an empty, too long, too wide or too fast file."""
    if frames <= 0 or rate <= 0:
        raise BadInputError(f"audio file {p} holds no audio (zero length)")
    duration = frames / rate
    if duration > max_duration_s:
        raise BadInputError(
            f"audio file {p} is {duration / 60:.1f} min long; the limit is {max_duration_s / 60:g} min"
            " (split it into shorter clips)"
        )

    if channels > MAX_CHANNELS:
        raise BadInputError(f"audio file {p} has {channels} channels; at most {MAX_CHANNELS} are read")
    if rate > MAX_SAMPLE_RATE:
        raise BadInputError(f"audio file {p} is sampled at {rate} Hz; at most {MAX_SAMPLE_RATE} Hz is read")


def _decode_mono_16k(path: Path, rate: int, max_duration_s: float) -> np.ndarray:
    """Decode ``path`` block by block (:data:`BLOCK_FRAMES`), down-mix each block and resample it as a stream to
    16 kHz; returns float32 ``(n,)``. Raises BadInputError on non-finite samples, or when the file holds more
    than ``max_duration_s`` of audio although its header said less."""
    import soundfile as sf
    import soxr

    stream = None if rate == SAMPLE_RATE else soxr.ResampleStream(rate, SAMPLE_RATE, 1, dtype="float32", quality="HQ")
    pieces: list[np.ndarray] = []
    frames_left = int(max_duration_s * rate) + BLOCK_FRAMES
    with sf.SoundFile(str(path)) as f:
        while True:
            block = f.read(BLOCK_FRAMES, dtype="float32", always_2d=True)
            last = block.shape[0] < BLOCK_FRAMES
            frames_left -= block.shape[0]
            if frames_left < 0:
                raise BadInputError(f"audio file {path} holds more than {max_duration_s / 60:g} min of audio")
            if block.shape[0] and not np.all(np.isfinite(block)):
                raise BadInputError(f"audio file {path} is corrupt: it contains NaN or infinite samples")
            mono = to_mono(block)
            pieces.append(mono if stream is None else stream.resample_chunk(mono, last=last))
            if last:
                break
    return np.concatenate(pieces).astype(np.float32, copy=False) if pieces else np.zeros(0, np.float32)


def _reason(exc: BaseException) -> str:
    return str(exc).strip() or type(exc).__name__
