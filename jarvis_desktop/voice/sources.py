"""Where a :class:`~jarvis_desktop.voice.session.VoiceSession` gets its audio: a recording or the microphone.

Both hand float32 ``(n,)`` mono 16 kHz chunks to :meth:`AudioSink.feed`, which only queues them (the session's own
threads do the work), so a source never waits for the models except when it asks to (``FileSource(realtime=False)``
waits for the session to be idle after each chunk: "as fast as the pipeline takes it").
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Protocol

import numpy as np

from jarvis_desktop.audio.capture import MicCapture
from jarvis_desktop.audio.wav import SAMPLE_RATE, load_audio
from jarvis_desktop.config import AudioSettings
from jarvis_desktop.errors import AudioDeviceError

__all__ = ["AudioSink", "FileSource", "MicSource"]

FILE_CHUNK_SAMPLES = 512
"""Samples per chunk a :class:`FileSource` feeds (32 ms, one Silero frame)."""

FIRST_BLOCK_TIMEOUT_S = 15.0
"""Seconds :class:`MicSource` waits for the first audio block before it gives up (start-up takes 0.4-2 s)."""


class AudioSink(Protocol):
    """What a source feeds: :class:`~jarvis_desktop.voice.session.VoiceSession` meets it."""

    def feed(self, chunk: np.ndarray) -> None:
        """Queue float32 ``(n,)`` mono 16 kHz samples in [-1, 1]; returns at once."""
        ...

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until every queued chunk and every job it caused is done; False on timeout."""
        ...


class FileSource:
    """A recording played into a session, at real-time pace or as fast as the session takes it.

    Args:
        path: a WAV/FLAC/OGG file (any rate and channel count: :func:`~jarvis_desktop.audio.wav.load_audio`).
        realtime: feed each chunk when its audio would have been spoken (the latency figures then mean "since
            the user stopped talking"); False: feed a chunk, wait until the session is idle, feed the next.
        tail_s: seconds of silence played after the file, so the last utterance ends by silence as it would live.
        chunk_samples: samples per chunk.

    Raises:
        BadInputError: the file is missing, empty, corrupt or not audio (from ``load_audio``).
    """

    def __init__(
        self,
        path: str | Path,
        realtime: bool = True,
        tail_s: float = 1.0,
        chunk_samples: int = FILE_CHUNK_SAMPLES,
    ) -> None:
        self.path = Path(path)
        audio = load_audio(self.path)
        self.audio = np.concatenate([audio, np.zeros(int(tail_s * SAMPLE_RATE), dtype=np.float32)])
        self.file_duration_s = len(audio) / SAMPLE_RATE
        self.realtime = realtime
        self.chunk_samples = max(1, int(chunk_samples))

    def run(self, sink: AudioSink, stop: threading.Event | None = None) -> None:
        """Feed the whole recording (plus the tail) into ``sink``; returns early when ``stop`` is set."""
        t0 = time.perf_counter()
        for start in range(0, len(self.audio), self.chunk_samples):
            if stop is not None and stop.is_set():
                return
            end = min(len(self.audio), start + self.chunk_samples)
            if self.realtime:
                delay = t0 + end / SAMPLE_RATE - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
            sink.feed(self.audio[start:end])
            if not self.realtime:
                sink.wait_idle()


class MicSource:
    """The microphone (:class:`~jarvis_desktop.audio.capture.MicCapture`, stream kept open) feeding a session.

    Args:
        settings: the ``[audio]`` device; ``None`` = defaults (the system's default input).
    """

    def __init__(self, settings: AudioSettings | None = None) -> None:
        self.settings = settings or AudioSettings()

    def run(
        self,
        sink: AudioSink,
        stop: threading.Event,
        duration_s: float | None = None,
        on_error: AudioDeviceErrorCallback | None = None,
    ) -> None:
        """Capture until ``stop`` is set (or ``duration_s`` seconds after the first block), feeding ``sink``.

        Raises:
            AudioDeviceError: no microphone, it cannot be opened, or no audio arrives within
                :data:`FIRST_BLOCK_TIMEOUT_S`.
        """
        mic = MicCapture(_ignore, settings=self.settings, on_error=on_error, on_block=sink.feed)
        with mic:
            if not mic.first_block.wait(FIRST_BLOCK_TIMEOUT_S):
                raise AudioDeviceError(
                    f"no audio from the microphone within {FIRST_BLOCK_TIMEOUT_S:.0f} s of opening it",
                    hint="check the input device in the system sound settings or [audio] device",
                )
            stop.wait(duration_s)


class AudioDeviceErrorCallback(Protocol):
    """Told about a device failure after capture started (on the capture thread)."""

    def __call__(self, error: AudioDeviceError) -> None: ...


def _ignore(audio: np.ndarray) -> None:
    """MicCapture's utterance callback: the session endpoints by itself."""
