"""Live microphone capture: one PortAudio input stream kept open, push-to-talk and hands-free utterances.

The PortAudio callback only copies each block into a queue; a worker thread resamples (when the device
cannot run at 16 kHz), reports the level, records push-to-talk audio and runs the VAD endpointer, and calls
the user's callbacks. So a slow callback never makes the audio thread drop samples.

Keep the stream open between utterances: starting capture through PortAudio -> ALSA -> PulseAudio takes
0.4-1.9 s and audio before the first callback (see :attr:`MicCapture.first_block`) is lost.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

import numpy as np

from jarvis_desktop.audio.vad import Endpointer, rms_dbfs
from jarvis_desktop.audio.wav import SAMPLE_RATE
from jarvis_desktop.config import AudioSettings
from jarvis_desktop.errors import AudioDeviceError

log = logging.getLogger(__name__)

BLOCK_MS = 30.0
"""Length of one audio block in ms (480 samples at 16 kHz)."""

PUSH_TO_TALK_PRE_ROLL_S = 0.3
"""Audio kept from before :meth:`MicCapture.begin_utterance`, so the first syllable is not clipped."""

_STOP = object()


def _sounddevice():
    try:
        import sounddevice as sd
    except OSError as exc:  # PortAudio shared library missing
        raise AudioDeviceError(
            f"no microphone found: the PortAudio library is not available ({exc})",
            hint="install it with: sudo apt install libportaudio2",
        ) from exc
    return sd


def refresh_devices() -> None:
    """Make PortAudio enumerate the devices again (a microphone plugged in, or PulseAudio started, after
    the first use). Only call it while no stream is open."""
    sd = _sounddevice()
    try:
        sd._terminate()
        sd._initialize()
    except Exception as exc:
        raise AudioDeviceError(f"no microphone found: re-initialising PortAudio failed: {exc}") from exc


def list_input_devices() -> list[dict[str, Any]]:
    """Audio input devices PortAudio sees.

    Returns:
        One dict per device with an input channel: ``index`` (int), ``name`` (str), ``channels`` (int),
        ``default_samplerate`` (float, Hz), ``hostapi`` (str), ``is_default`` (bool).

    Raises:
        AudioDeviceError: PortAudio is not installed or cannot list devices.
    """
    sd = _sounddevice()
    try:
        devices = sd.query_devices()
        apis = sd.query_hostapis()
        default_in = sd.default.device[0]
    except Exception as exc:
        raise AudioDeviceError(f"no microphone found: cannot list audio devices: {exc}") from exc
    out = []
    for index, dev in enumerate(devices):
        if dev["max_input_channels"] <= 0:
            continue
        out.append(
            {
                "index": index,
                "name": dev["name"],
                "channels": int(dev["max_input_channels"]),
                "default_samplerate": float(dev["default_samplerate"]),
                "hostapi": apis[dev["hostapi"]]["name"],
                "is_default": index == default_in,
            }
        )
    return out


class MicCapture:
    """Record utterances from the microphone as float32 ``(n,)`` mono 16 kHz arrays.

    Args:
        on_utterance: called with each finished utterance (push-to-talk release, or a VAD endpoint in
            hands-free mode). Runs on the capture worker thread, not the caller's.
        on_level: called with the level in dBFS of every ~30 ms block (for a level meter); worker thread.
        settings: device, VAD threshold, endpoint silence, maximum utterance length.
        on_error: called with an :class:`AudioDeviceError` if the stream fails after it started.
        device_rate: open the device at this rate in Hz and resample to 16 kHz; ``None`` = 16 kHz when the
            device supports it, else its default rate.
        on_block: called with every captured block as float32 ``(n,)`` mono 16 kHz (after resampling), on the
            worker thread, before the level and the endpointer see it (a voice session feeds its own VAD with it).

    Attributes:
        hands_free: when True, the VAD endpointer emits utterances on its own (default False).
        first_block: ``threading.Event`` set when the first audio block arrives after :meth:`start`.
        device_rate: the rate the device actually runs at (Hz); audio is resampled to 16 kHz if it differs.
        overflows: count of blocks PortAudio reported as input overflow (samples lost).
    """

    def __init__(
        self,
        on_utterance: Callable[[np.ndarray], None],
        on_level: Callable[[float], None] | None = None,
        settings: AudioSettings | None = None,
        on_error: Callable[[AudioDeviceError], None] | None = None,
        device_rate: int | None = None,
        on_block: Callable[[np.ndarray], None] | None = None,
    ) -> None:
        self.on_utterance = on_utterance
        self.on_block = on_block
        self.on_level = on_level
        self.on_error = on_error
        self.settings = settings or AudioSettings()
        self.sample_rate = SAMPLE_RATE
        self.hands_free = False
        self.first_block = threading.Event()
        self.device_rate = int(device_rate) if device_rate else SAMPLE_RATE
        self._requested_rate = int(device_rate) if device_rate else None
        self.overflows = 0
        self.endpointer = Endpointer(self.settings, sample_rate=SAMPLE_RATE)
        self._stream = None
        self._worker: threading.Thread | None = None
        self._queue: queue.Queue = queue.Queue()
        self._lock = threading.Lock()
        self._resampler = None
        # worker-thread state
        self._recording = False
        self._ptt_blocks: list[np.ndarray] = []
        self._ptt_samples = 0
        self._recent: deque[np.ndarray] = deque()
        self._recent_samples = 0

    # -- public API -------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        """True between :meth:`start` and :meth:`stop`."""
        return self._stream is not None

    @property
    def recording(self) -> bool:
        """True between :meth:`begin_utterance` and :meth:`end_utterance` (push-to-talk held)."""
        return self._recording

    def start(self) -> None:
        """Open the input device and start capturing (no-op if already running).

        Returns at once; the first block arrives 0.4-2 s later (:attr:`first_block`).

        Raises:
            AudioDeviceError: no input device, the configured device is unknown, or it cannot be opened.
        """
        with self._lock:
            if self._stream is not None:
                return
            sd = _sounddevice()
            device = self._resolve_device(sd)
            rate = self._pick_rate(sd, device, self._requested_rate)
            self.device_rate = rate
            self._resampler = None
            if rate != SAMPLE_RATE:
                import soxr

                self._resampler = soxr.ResampleStream(rate, SAMPLE_RATE, 1, dtype="float32", quality="HQ")
            self.first_block.clear()
            self.endpointer.reset()
            self._queue = queue.Queue()
            self._worker = threading.Thread(target=self._run, args=(self._queue,), name="mic-capture", daemon=True)
            self._worker.start()
            try:
                stream = sd.InputStream(
                    device=device,
                    samplerate=rate,
                    channels=1,
                    dtype="float32",
                    blocksize=int(round(rate * BLOCK_MS / 1000.0)),
                    callback=self._callback,
                    finished_callback=self._finished,
                )
                stream.start()
            except Exception as exc:
                self._queue.put(_STOP)
                self._worker.join(timeout=2)
                self._worker = None
                raise AudioDeviceError(
                    f"cannot open the microphone ({_device_label(device)}): {exc}",
                    hint="check the input device in the system sound settings or [audio] device",
                ) from exc
            self._stream = stream

    def stop(self) -> None:
        """Close the stream and the worker. A push-to-talk recording still held is discarded."""
        with self._lock:
            stream, self._stream = self._stream, None
            worker, self._worker = self._worker, None
        if stream is not None:
            try:
                stream.stop()
                stream.close()
            except Exception as exc:  # device already gone
                log.warning("closing the microphone stream failed: %s", exc)
        if worker is not None:
            self._queue.put(_STOP)
            worker.join(timeout=5)
        self._recording = False
        self._ptt_blocks = []

    def begin_utterance(self) -> None:
        """Push-to-talk pressed: start recording (with ~0.3 s of audio from just before). Starts the stream
        if it is not running (then the first 0.4-2 s are lost: prefer calling :meth:`start` early)."""
        if not self.running:
            self.start()
        self._queue.put(("begin", None))

    def end_utterance(self) -> None:
        """Push-to-talk released: the recorded audio goes to ``on_utterance`` (on the worker thread),
        after every block captured before this call. Nothing is emitted if nothing was recorded."""
        self._queue.put(("end", None))

    def __enter__(self) -> MicCapture:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- PortAudio thread ---------------------------------------------------------------------
    def _callback(self, indata, frames, time_info, status) -> None:
        if status and status.input_overflow:
            self.overflows += 1
        self._queue.put(("audio", indata[:, 0].copy()))
        if not self.first_block.is_set():
            self.first_block.set()

    def _finished(self) -> None:
        if self._stream is not None:  # not a stop() we asked for
            self._queue.put(("error", "the audio input stream stopped unexpectedly (device removed?)"))

    # -- worker thread --------------------------------------------------------------------------
    def _run(self, q: queue.Queue) -> None:
        while True:
            item = q.get()
            if item is _STOP:
                return
            kind, payload = item
            try:
                if kind == "audio":
                    self._on_block(payload)
                elif kind == "begin":
                    self._begin()
                elif kind == "end":
                    self._end()
                elif kind == "error":
                    self._report(AudioDeviceError(payload))
            except Exception:  # a user callback failed: log it, keep capturing
                log.exception("microphone worker: %s handling failed", kind)

    def _on_block(self, block: np.ndarray) -> None:
        if self._resampler is not None:
            block = self._resampler.resample_chunk(block)
            if block.size == 0:
                return
        block = block.astype(np.float32, copy=False)
        if self.on_block is not None:
            self.on_block(block)
        if self.on_level is not None:
            self.on_level(rms_dbfs(block))
        self._remember(block)
        if self._recording:
            self._ptt_blocks.append(block)
            self._ptt_samples += len(block)
            if self._ptt_samples >= self.settings.max_utterance_s * SAMPLE_RATE:
                self._end()
            return
        if self.hands_free:
            for utt in self.endpointer.process(block):
                self.on_utterance(utt.audio)
        else:
            self.endpointer.process(block)  # keep the noise floor current for when hands-free turns on
            if self.endpointer.in_speech:
                self.endpointer.flush()

    def _remember(self, block: np.ndarray) -> None:
        self._recent.append(block)
        self._recent_samples += len(block)
        limit = int(PUSH_TO_TALK_PRE_ROLL_S * SAMPLE_RATE)
        while self._recent and self._recent_samples - len(self._recent[0]) >= limit:
            self._recent_samples -= len(self._recent.popleft())

    def _begin(self) -> None:
        if self._recording:
            return
        self._recording = True
        self.endpointer.flush()
        self._ptt_blocks = list(self._recent)
        self._ptt_samples = sum(len(b) for b in self._ptt_blocks)

    def _end(self) -> None:
        if not self._recording:
            return
        self._recording = False
        blocks, self._ptt_blocks, self._ptt_samples = self._ptt_blocks, [], 0
        if blocks:
            self.on_utterance(np.concatenate(blocks))

    def _report(self, error: AudioDeviceError) -> None:
        log.error("%s", error)
        if self.on_error is not None:
            self.on_error(error)

    # -- device selection ---------------------------------------------------------------------------
    def _resolve_device(self, sd) -> int | str | None:
        inputs = list_input_devices()
        if not inputs:  # maybe plugged in (or the sound server started) since PortAudio was initialised
            refresh_devices()
            inputs = list_input_devices()
        if not inputs:
            raise AudioDeviceError(
                "no microphone found: the system reports no audio input device",
                hint="plug in a microphone, or check that PulseAudio/PipeWire is running",
            )
        wanted = self.settings.device.strip()
        if not wanted:
            try:
                default_in = sd.default.device[0]
            except Exception:
                default_in = -1
            return None if default_in is not None and default_in >= 0 else inputs[0]["index"]
        if wanted.isdigit():
            index = int(wanted)
            if any(d["index"] == index for d in inputs):
                return index
        else:
            matches = [d for d in inputs if wanted.lower() in d["name"].lower()]
            if matches:
                exact = [d for d in matches if d["name"].lower() == wanted.lower()]
                return (exact or matches)[0]["index"]
        names = ", ".join(f"{d['index']}: {d['name']}" for d in inputs)
        raise AudioDeviceError(
            f"no microphone found: no input device matches '{wanted}' (available: {names})",
            hint="set [audio] device to one of these names or indexes, or leave it empty for the default",
        )

    @staticmethod
    def _pick_rate(sd, device, requested: int | None) -> int:
        if requested:
            try:
                sd.check_input_settings(device=device, samplerate=requested, channels=1, dtype="float32")
                return requested
            except Exception as exc:
                raise AudioDeviceError(
                    f"cannot open the microphone ({_device_label(device)}) at {requested} Hz: {exc}"
                ) from exc
        try:
            sd.check_input_settings(device=device, samplerate=SAMPLE_RATE, channels=1, dtype="float32")
            return SAMPLE_RATE
        except Exception:
            pass
        try:
            info = sd.query_devices(device, "input")
            rate = int(info["default_samplerate"])
            sd.check_input_settings(device=device, samplerate=rate, channels=1, dtype="float32")
            return rate
        except Exception as exc:
            raise AudioDeviceError(
                f"cannot open the microphone ({_device_label(device)}): it supports neither 16 kHz "
                f"nor its own default rate: {exc}"
            ) from exc


def _device_label(device: int | str | None) -> str:
    return "default input device" if device is None else f"device {device}"
