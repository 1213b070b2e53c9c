"""Speech into a WAV file instead of a sound device: :class:`WavSink` (``jarvis-desktop say --wav``)."""

from __future__ import annotations

import threading
import time
import wave
from pathlib import Path

import numpy as np
import numpy.typing as npt

from jarvis_desktop.errors import BadInputError
from jarvis_desktop.tts.sink import StartCallback


class WavSink:
    """An :class:`~jarvis_desktop.tts.sink.AudioSink` that collects the audio and writes it as a WAV file.

    The file is opened (so an unwritable path fails) when the sink is built, and written on :meth:`close`:
    16-bit PCM, mono, at ``sample_rate_hz``. Nothing is ever "playing": each chunk counts as handed over when
    :meth:`play` receives it.

    Args:
        path: the WAV file to write (created or replaced).
        sample_rate_hz: rate of the audio given to :meth:`play`, in Hz.

    Raises:
        BadInputError: ``path`` cannot be written (missing directory, no permission, a directory).
    """

    def __init__(self, path: str | Path, sample_rate_hz: int) -> None:
        self.path = Path(path).expanduser()
        self._rate = int(sample_rate_hz)
        self._chunks: list[npt.NDArray[np.float32]] = []
        self._lock = threading.Lock()
        try:
            self._file = self.path.open("wb")
        except OSError as exc:
            raise BadInputError(f"cannot write {self.path}: {exc.strerror or exc}") from exc

    @property
    def sample_rate_hz(self) -> int:
        """Rate of the audio :meth:`play` expects and of the file, in Hz."""
        return self._rate

    @property
    def playing(self) -> bool:
        """Always False: audio is taken at once."""
        return False

    @property
    def queued_s(self) -> float:
        """Always 0.0."""
        return 0.0

    @property
    def duration_s(self) -> float:
        """Seconds of audio received so far."""
        with self._lock:
            return sum(c.size for c in self._chunks) / self._rate

    def play(self, audio: npt.NDArray[np.float32], on_start: StartCallback | None = None) -> None:
        """Append ``audio`` (float32 ``(n,)`` mono in [-1, 1]); ``on_start`` is called at once."""
        samples = np.asarray(audio, dtype=np.float32).reshape(-1)
        if samples.size == 0:
            return
        with self._lock:
            self._chunks.append(samples.copy())
        if on_start is not None:
            on_start(time.perf_counter())

    def stop(self) -> None:
        """Nothing to silence (what was received stays in the file)."""

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Always True at once."""
        return True

    def close(self) -> None:
        """Write the file (16-bit PCM mono) and close it; a second call does nothing.

        Raises:
            BadInputError: the disk is full or the file cannot be written.
        """
        if self._file.closed:
            return
        with self._lock:
            audio = np.concatenate(self._chunks) if self._chunks else np.zeros(0, dtype=np.float32)
        pcm = (np.clip(audio, -1.0, 1.0) * 32767.0).astype("<i2")
        try:
            with wave.open(self._file, "wb") as out:
                out.setnchannels(1)
                out.setsampwidth(2)
                out.setframerate(self._rate)
                out.writeframes(pcm.tobytes())
        except OSError as exc:
            raise BadInputError(f"cannot write {self.path}: {exc.strerror or exc}") from exc
        finally:
            self._file.close()
