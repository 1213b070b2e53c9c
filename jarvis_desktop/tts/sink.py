"""What the :class:`~jarvis_desktop.tts.speaker.Speaker` plays into: the :class:`AudioSink` Protocol.

Two sinks ship: :class:`~jarvis_desktop.tts.output.AudioOutput` (a sound device) and
:class:`~jarvis_desktop.tts.wav_sink.WavSink` (a WAV file, for ``jarvis-desktop say --wav``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

StartCallback = Callable[[float], None]
"""Called with the ``time.perf_counter()`` instant at which a chunk's first sample was handed to the device.
It may run on the audio thread: it must return at once (put the value on a queue, set an event)."""


@runtime_checkable
class AudioSink(Protocol):
    """Plays float32 mono chunks in the order given, without blocking the caller."""

    @property
    def sample_rate_hz(self) -> int:
        """Rate of the audio :meth:`play` expects, in Hz."""
        ...

    @property
    def playing(self) -> bool:
        """True while audio is queued or still sounding."""
        ...

    @property
    def queued_s(self) -> float:
        """Seconds of audio queued and not yet handed to the device."""
        ...

    def play(self, audio: npt.NDArray[np.float32], on_start: StartCallback | None = None) -> None:
        """Queue ``audio`` (float32 ``(n,)`` mono in [-1, 1] at :attr:`sample_rate_hz`) after what is queued."""
        ...

    def stop(self) -> None:
        """Drop everything queued; silent as soon as the device allows. Returns at once."""
        ...

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until nothing is queued or sounding; False on timeout (seconds; ``None`` = no limit)."""
        ...

    def close(self) -> None:
        """Release the device or file; the sink is not used afterwards."""
        ...
