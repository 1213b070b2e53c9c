"""Playing speech on a sound device: :class:`AudioOutput`, a sounddevice OutputStream fed from a queue.

The PortAudio callback (its own thread) copies queued samples into 20 ms blocks and writes zeros when the
queue is empty; nothing else runs there. :meth:`AudioOutput.play` only appends to the queue (opening the
stream first if it is closed), so neither the GUI thread nor a worker ever waits for the device. The stream
stays open while speaking and is closed after :data:`IDLE_CLOSE_S` of silence, so a PulseAudio/ALSA device is
not held forever.

Errors: when the device cannot be opened, :meth:`AudioOutput.play` raises
:class:`~jarvis_desktop.errors.AudioDeviceError` (naming the device). After a failure the device is tried
again at most every :data:`RETRY_S` seconds; in between, ``play`` raises the same error at once without
touching the device. If the stream dies while playing (device unplugged), the queue is dropped, the error is
kept in :attr:`AudioOutput.last_error` and logged, and the next ``play`` opens the device again. Nothing is
ever raised on the PortAudio thread. :class:`~jarvis_desktop.tts.speaker.Speaker` turns these errors into one
``"error"`` event per reply, so its caller's thread never sees them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from jarvis_desktop.errors import AudioDeviceError
from jarvis_desktop.tts.output_device import (
    NO_DEVICE_HINT,
    OutputFormat,
    pick_format,
    resolve_device,
    sounddevice_module,
)
from jarvis_desktop.tts.sink import StartCallback

log = logging.getLogger(__name__)

BLOCK_MS = 20.0
"""Length of one callback block in ms: a stop is heard within one block plus the device latency."""
LATENCY_S = 0.05
"""Output latency asked of PortAudio, in seconds. Through ALSA -> PulseAudio it reports 40-60 ms; with the
20 ms block the speech stops 60-80 ms after :meth:`AudioOutput.stop` (measured at a null sink's monitor,
docs/speech.md). Smaller values risk underruns while the chat model and Whisper load both cores."""
IDLE_CLOSE_S = 2.0
"""The stream is closed after this many seconds with nothing to play."""
RETRY_S = 5.0
"""After the device failed to open, it is tried again at most this often (seconds)."""


@dataclass(frozen=True)
class StopTiming:
    """How fast the last :meth:`AudioOutput.stop` silenced the output, as the stream itself saw it.

    Attributes:
        requested_at: ``time.perf_counter()`` when ``stop()`` was called.
        silent_block_at: ``time.perf_counter()`` when the first callback after it wrote zeros.
        output_latency_s: the stream's output latency as PortAudio reports it (``stream.latency``), seconds:
            how long a block written by the callback takes to reach the device's output.
    """

    requested_at: float
    silent_block_at: float
    output_latency_s: float

    @property
    def silent_within_ms(self) -> float:
        """Milliseconds from ``stop()`` until silence at the device: callback delay plus output latency."""
        return (self.silent_block_at - self.requested_at + self.output_latency_s) * 1000.0


class _Chunk:
    """One queued piece of audio and how far the callback has got through it."""

    __slots__ = ("on_start", "pos", "samples")

    def __init__(self, samples: npt.NDArray[np.float32], on_start: StartCallback | None) -> None:
        self.samples = samples
        self.pos = 0
        self.on_start = on_start


class AudioOutput:
    """Plays float32 mono chunks on a sounddevice OutputStream on its own (PortAudio callback) thread.

    Args:
        sample_rate_hz: rate of the audio given to :meth:`play`, in Hz (24000 for the "heart" voice). When the
            device does not take it, the stream runs at the device's default rate and each chunk is resampled
            (soxr).
        device: ``""`` = the system default output; else a sounddevice device index as text or (part of) a
            device name (``"pulse"``). To pick a PulseAudio sink, make it the default sink or start the app
            with ``PULSE_SINK=<sink>`` and use ``"pulse"``.
        volume: gain in [0, 1] applied as samples are written; may be changed later via :attr:`volume`.

    Raises:
        BadInputError: never; a bad device is only found when :meth:`play` (or :meth:`open`) opens it.
    """

    def __init__(self, sample_rate_hz: int, device: str = "", volume: float = 1.0) -> None:
        self._rate = int(sample_rate_hz)
        self.device = device
        self.volume = volume
        self._chunks: deque[_Chunk] = deque()
        self._queued_samples = 0
        self._lock = threading.Lock()  # guards _chunks, _queued_samples, _stop_at
        self._stream_lock = threading.Lock()  # guards opening and closing the stream
        self._stream: Any = None
        self._format: OutputFormat | None = None
        self._latency_s = 0.0
        self._idle = threading.Event()
        self._idle.set()
        self._sounding_until = 0.0
        self._last_active = 0.0
        self._stop_at: float | None = None
        self._last_stop: StopTiming | None = None
        self._failure: tuple[float, AudioDeviceError] | None = None
        self._closer: threading.Thread | None = None
        self.last_error: AudioDeviceError | None = None
        """The last device failure (opening, or the stream dying while it played); ``None`` if none."""
        self.underflows = 0
        """Callbacks PortAudio flagged as output underflow (the device ran dry: a click or gap)."""

    # -- public API ---------------------------------------------------------------------------------------
    @property
    def sample_rate_hz(self) -> int:
        """Rate of the audio :meth:`play` expects, in Hz."""
        return self._rate

    @property
    def volume(self) -> float:
        """Gain in [0, 1] applied to every sample written from now on."""
        return self._volume

    @volume.setter
    def volume(self, value: float) -> None:
        self._volume = float(min(1.0, max(0.0, value)))

    @property
    def playing(self) -> bool:
        """True while audio is queued or still in the device's buffer (until its output latency has passed)."""
        return not self._idle.is_set() or time.perf_counter() < self._sounding_until

    @property
    def queued_s(self) -> float:
        """Seconds of audio queued and not yet handed to the device."""
        return self._queued_samples / self._rate

    @property
    def is_open(self) -> bool:
        """True while the output stream is open (it closes after :data:`IDLE_CLOSE_S` of silence)."""
        return self._stream is not None

    @property
    def output_latency_s(self) -> float:
        """The open stream's output latency as PortAudio reports it, in seconds (0.0 before the first open)."""
        return self._latency_s

    @property
    def last_stop(self) -> StopTiming | None:
        """Timing of the last :meth:`stop` once the callback has written silence after it, else ``None``."""
        return self._last_stop

    def open(self) -> None:
        """Open the device now (``play`` does it lazily); a no-op when open.

        Raises:
            AudioDeviceError: no output device, the device is unknown, or it cannot be opened (see the module
                docstring for the retry rule).
        """
        with self._stream_lock:
            self._ensure_open()

    def play(self, audio: npt.NDArray[np.float32], on_start: StartCallback | None = None) -> None:
        """Queue ``audio`` after what is already queued; returns at once (after opening a closed stream, a few ms).

        Args:
            audio: float32 ``(n,)`` mono in [-1, 1] at :attr:`sample_rate_hz` (other float dtypes are converted;
                an empty array is ignored).
            on_start: called with the ``time.perf_counter()`` instant the chunk's first sample is handed to the
                device, on the PortAudio thread (it must return at once).

        Raises:
            AudioDeviceError: the device cannot be opened (the audio is dropped).
        """
        samples = np.ascontiguousarray(np.asarray(audio, dtype=np.float32).reshape(-1))
        if samples.size == 0:
            return
        with self._stream_lock:
            fmt = self._ensure_open()
            if fmt.sample_rate_hz != self._rate:
                samples = _resample(samples, self._rate, fmt.sample_rate_hz)
            with self._lock:
                self._chunks.append(_Chunk(samples, on_start))
                self._queued_samples += samples.size * self._rate // fmt.sample_rate_hz
                self._idle.clear()
                self._last_active = time.perf_counter()

    def stop(self) -> None:
        """Barge-in: drop everything queued. The next callback (within :data:`BLOCK_MS`) writes silence, which
        is heard after the device latency (:attr:`last_stop` tells both). Returns at once."""
        with self._lock:
            had_audio = bool(self._chunks) or time.perf_counter() < self._sounding_until
            self._chunks.clear()
            self._queued_samples = 0
            self._sounding_until = 0.0
            if had_audio and self._stream is not None:
                self._stop_at = time.perf_counter()
            self._idle.set()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until nothing is queued or sounding; returns False if ``timeout`` seconds passed first."""
        deadline = None if timeout is None else time.perf_counter() + timeout
        while True:
            remaining = None if deadline is None else deadline - time.perf_counter()
            if remaining is not None and remaining <= 0:
                return not self.playing
            if not self._idle.wait(remaining):
                return False
            tail = self._sounding_until - time.perf_counter()
            if tail <= 0:
                return True
            time.sleep(tail if remaining is None else min(tail, remaining))

    def close(self) -> None:
        """Stop and release the device. ``play`` may open it again later."""
        self.stop()
        with self._stream_lock:
            self._close_stream()

    # -- opening and closing --------------------------------------------------------------------------------
    def _ensure_open(self) -> OutputFormat:
        """Open the stream if closed; returns its format. Caller holds ``_stream_lock``."""
        if self._stream is not None and self._format is not None:
            return self._format
        if self._failure is not None and time.perf_counter() - self._failure[0] < RETRY_S:
            raise self._failure[1]
        try:
            fmt, stream = self._open_stream()
        except AudioDeviceError as exc:
            self._failure = (time.perf_counter(), exc)
            self.last_error = exc
            raise
        self._failure = None
        self._format, self._stream = fmt, stream
        self._latency_s = float(stream.latency)
        self._last_active = time.perf_counter()
        if self._closer is None or not self._closer.is_alive():
            self._closer = threading.Thread(target=self._close_when_idle, name="audio-output-idle", daemon=True)
            self._closer.start()
        return fmt

    def _open_stream(self) -> tuple[OutputFormat, Any]:
        sd = sounddevice_module()
        index, label = resolve_device(sd, self.device)
        fmt = pick_format(sd, index, label, self._rate)
        try:
            stream = sd.OutputStream(
                device=fmt.device,
                samplerate=fmt.sample_rate_hz,
                channels=fmt.channels,
                dtype="float32",
                blocksize=int(round(fmt.sample_rate_hz * BLOCK_MS / 1000.0)),
                latency=LATENCY_S,
                callback=self._callback,
                finished_callback=self._finished,
            )
            stream.start()
        except Exception as exc:
            raise AudioDeviceError(f"cannot open {label}: {exc}", hint=NO_DEVICE_HINT) from exc
        return fmt, stream

    def _close_when_idle(self) -> None:
        """Housekeeping thread: close the stream after :data:`IDLE_CLOSE_S` of silence, then end."""
        while True:
            time.sleep(0.25)
            with self._stream_lock:
                if self._stream is None:
                    return
                quiet = not self.playing and time.perf_counter() - self._last_active > IDLE_CLOSE_S
                if quiet:
                    self._close_stream()
                    return

    def _close_stream(self) -> None:
        """Caller holds ``_stream_lock``."""
        stream, self._stream = self._stream, None
        self._format = None
        if stream is None:
            return
        try:
            stream.abort()
            stream.close()
        except Exception as exc:  # the device is already gone
            log.warning("closing the audio output failed: %s", exc)

    # -- PortAudio thread -----------------------------------------------------------------------------------
    def _callback(self, outdata: npt.NDArray[np.float32], frames: int, time_info: Any, status: Any) -> None:
        now = time.perf_counter()
        if status and status.output_underflow:
            self.underflows += 1
        block = np.zeros(frames, dtype=np.float32)
        started: list[StartCallback] = []
        with self._lock:
            filled = self._fill(block, started)
            if filled:
                self._last_active = now
                self._sounding_until = now + self._latency_s + frames / self._stream_rate()
            elif self._stop_at is not None:
                self._last_stop = StopTiming(self._stop_at, now, self._latency_s)
                self._stop_at = None
            if not self._chunks:
                self._idle.set()
        outdata[:] = (block * self._volume)[:, None]
        for callback in started:
            callback(now)

    def _fill(self, block: npt.NDArray[np.float32], started: list[StartCallback]) -> int:
        """Copy queued samples into ``block``; returns how many. Caller holds ``_lock``."""
        filled = 0
        rate_ratio = self._rate / self._stream_rate()
        while filled < block.size and self._chunks:
            chunk = self._chunks[0]
            if chunk.pos == 0 and chunk.on_start is not None:
                started.append(chunk.on_start)
            n = min(block.size - filled, chunk.samples.size - chunk.pos)
            block[filled : filled + n] = chunk.samples[chunk.pos : chunk.pos + n]
            chunk.pos += n
            filled += n
            self._queued_samples = max(0, self._queued_samples - int(round(n * rate_ratio)))
            if chunk.pos >= chunk.samples.size:
                self._chunks.popleft()
        if not self._chunks:
            self._queued_samples = 0
        return filled

    def _stream_rate(self) -> int:
        fmt = self._format
        return fmt.sample_rate_hz if fmt is not None else self._rate

    def _finished(self) -> None:
        if self._stream is None:  # a close we asked for
            return
        error = AudioDeviceError("the audio output stopped unexpectedly (device removed?)", hint=NO_DEVICE_HINT)
        log.error("%s", error)
        self.last_error = error
        with self._lock:
            self._chunks.clear()
            self._queued_samples = 0
            self._idle.set()
        self._stream = None
        self._format = None


def _resample(samples: npt.NDArray[np.float32], from_hz: int, to_hz: int) -> npt.NDArray[np.float32]:
    """float32 ``(n,)`` at ``from_hz`` -> float32 at ``to_hz`` (soxr, high quality)."""
    import soxr

    return np.asarray(soxr.resample(samples, from_hz, to_hz, quality="HQ"), dtype=np.float32)
