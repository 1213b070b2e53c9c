"""Frame-level energy VAD and endpointing for the live microphone (pure numpy).

The stream is cut into frames of ``frame_ms`` (30 ms = 480 samples at 16 kHz) and each frame's RMS level in
dBFS is compared with an adaptive noise floor:

* **Noise floor**: the minimum frame level over the last ``floor_window_s`` seconds (minimum statistics), never
  below ``min_floor_dbfs``. It follows a quieter room at once and a louder steady noise (a fan switched on)
  within ``floor_window_s``, while the pauses between words keep it from climbing onto speech.
* **Onset**: ``start_frames`` consecutive frames louder than floor + ``vad_threshold_db``. The first
  ``warmup_ms`` of a stream only measure the floor.
* **Endpoint**: ``endpoint_silence_ms`` of frames below floor + ``vad_threshold_db - hysteresis_db``.
* **Utterance audio**: ``pre_roll_ms`` before the onset (soft consonants before the level rises) through
  ``post_roll_ms`` after the last voiced frame; cut at ``max_utterance_s`` (marked ``truncated``; if the talker
  is still going the next utterance continues at once, no audio is lost). Bursts with less than
  ``min_speech_ms`` of voiced frames (clicks, a knock) are discarded.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from jarvis_desktop.audio.wav import SAMPLE_RATE
from jarvis_desktop.config import AudioSettings

SILENCE_DBFS = -100.0
"""Level reported for digital silence and empty frames (dBFS)."""


def rms_dbfs(frame: np.ndarray) -> float:
    """RMS level of a block of float samples in dBFS (0 dBFS = RMS of a full-scale square wave, so a
    full-scale sine is -3 dBFS); :data:`SILENCE_DBFS` (-100) for silence or an empty block."""
    x = np.asarray(frame, dtype=np.float32).reshape(-1)
    if x.size == 0:
        return SILENCE_DBFS
    ms = float(np.mean(np.square(x, dtype=np.float64)))
    if ms <= 1e-10:
        return SILENCE_DBFS
    return max(SILENCE_DBFS, 10.0 * np.log10(ms))


def frame_levels_dbfs(audio: np.ndarray, frame_ms: float = 30.0, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Levels in dBFS of consecutive non-overlapping frames of ``frame_ms`` (a trailing partial frame is
    dropped); float64 array of shape ``(n_frames,)``."""
    x = np.asarray(audio, dtype=np.float32).reshape(-1)
    n = int(round(sample_rate * frame_ms / 1000.0))
    count = len(x) // n
    if count == 0:
        return np.zeros(0)
    frames = x[: count * n].reshape(count, n).astype(np.float64)
    ms = np.mean(frames * frames, axis=1)
    with np.errstate(divide="ignore"):
        db = 10.0 * np.log10(np.maximum(ms, 1e-10))
    return np.maximum(db, SILENCE_DBFS)


@dataclass
class Utterance:
    """One endpointed utterance.

    ``audio``: float32 ``(n,)`` at the endpointer's sample rate, pre-roll and post-roll included.
    ``start_s``/``end_s``: where ``audio`` starts and ends, in seconds since the stream started.
    ``speech_start_s``/``speech_end_s``: the detected onset and the end of the last voiced frame (seconds).
    ``truncated``: cut at ``max_utterance_s`` rather than ended by silence.
    """

    audio: np.ndarray
    start_s: float
    end_s: float
    speech_start_s: float
    speech_end_s: float
    truncated: bool = False

    @property
    def duration_s(self) -> float:
        """Length of ``audio`` in seconds."""
        return self.end_s - self.start_s


class Endpointer:
    """Streaming VAD + endpointing state machine. Feed audio with :meth:`process`; it returns the utterances
    that ended in that audio. Not thread-safe: feed it from one thread.

    Args:
        settings: ``vad_threshold_db``, ``endpoint_silence_ms``, ``max_utterance_s`` (defaults if ``None``).
        sample_rate: Hz of the float32 mono input.
        frame_ms: analysis frame length in ms.
        pre_roll_ms / post_roll_ms: audio kept before the onset / after the last voiced frame.
        start_frames: consecutive loud frames that start speech.
        min_speech_ms: utterances with less voiced audio are discarded.
        hysteresis_db: once in speech, a frame stays voiced down to ``vad_threshold_db - hysteresis_db``
            above the floor.
        floor_window_s: window of the minimum-statistics noise floor.
        min_floor_dbfs: the floor never goes below this (so digital silence does not make dither "speech").
        warmup_ms: the first frames of a stream only measure the noise floor.
    """

    def __init__(
        self,
        settings: AudioSettings | None = None,
        *,
        sample_rate: int = SAMPLE_RATE,
        frame_ms: float = 30.0,
        pre_roll_ms: float = 300.0,
        post_roll_ms: float = 200.0,
        start_frames: int = 3,
        min_speech_ms: float = 150.0,
        hysteresis_db: float = 4.0,
        floor_window_s: float = 3.0,
        min_floor_dbfs: float = -65.0,
        warmup_ms: float = 300.0,
    ) -> None:
        s = settings or AudioSettings()
        self.sample_rate = int(sample_rate)
        self.frame_len = max(1, int(round(sample_rate * frame_ms / 1000.0)))
        self.frame_s = self.frame_len / self.sample_rate
        self.threshold_db = float(s.vad_threshold_db)
        self.hysteresis_db = float(hysteresis_db)
        self.start_frames = max(1, int(start_frames))
        self.end_frames = max(1, int(np.ceil(s.endpoint_silence_ms / 1000.0 / self.frame_s)))
        self.max_frames = max(self.start_frames + 1, int(s.max_utterance_s / self.frame_s))
        self.pre_roll_frames = int(round(pre_roll_ms / 1000.0 / self.frame_s))
        self.post_roll_frames = int(round(post_roll_ms / 1000.0 / self.frame_s))
        self.min_speech_frames = int(np.ceil(min_speech_ms / 1000.0 / self.frame_s))
        self.min_floor_dbfs = float(min_floor_dbfs)
        self.warmup_frames = int(round(warmup_ms / 1000.0 / self.frame_s))
        self._floor_window = max(1, int(round(floor_window_s / self.frame_s)))
        self.reset()

    def reset(self) -> None:
        """Forget the stream: noise floor, partial frame and any utterance in progress."""
        self._pending = np.zeros(0, dtype=np.float32)
        self._levels: deque[float] = deque(maxlen=self._floor_window)
        self._history: deque[np.ndarray] = deque(maxlen=self.pre_roll_frames + self.start_frames)
        self._frame_index = 0
        self._in_speech = False
        self._loud_run = 0
        self._frames: list[np.ndarray] = []
        self._start_frame = 0
        self._onset_frame = 0
        self._last_voiced = 0
        self._voiced_count = 0
        self.level_dbfs = SILENCE_DBFS

    @property
    def in_speech(self) -> bool:
        """True while an utterance is open."""
        return self._in_speech

    @property
    def noise_floor_dbfs(self) -> float:
        """Current noise-floor estimate in dBFS."""
        if not self._levels:
            return self.min_floor_dbfs
        return max(self.min_floor_dbfs, min(self._levels))

    def process(self, audio: np.ndarray) -> list[Utterance]:
        """Feed float32 mono samples of any length; returns the utterances completed within them (often [])."""
        x = np.asarray(audio, dtype=np.float32).reshape(-1)
        if self._pending.size:
            x = np.concatenate([self._pending, x])
        n = len(x) // self.frame_len
        self._pending = x[n * self.frame_len :].copy()
        out: list[Utterance] = []
        for i in range(n):
            utt = self._step(x[i * self.frame_len : (i + 1) * self.frame_len])
            if utt is not None:
                out.append(utt)
        return out

    def flush(self) -> Utterance | None:
        """End the stream: close and return the open utterance, if it holds enough speech."""
        utt = self._finish(truncated=False) if self._in_speech else None
        self._in_speech = False
        return utt

    # -- state machine -------------------------------------------------------------------------
    def _step(self, frame: np.ndarray) -> Utterance | None:
        level = rms_dbfs(frame)
        self.level_dbfs = level
        idx = self._frame_index
        self._frame_index += 1
        self._levels.append(level)
        if idx < self.warmup_frames:
            self._history.append(frame)
            return None
        floor = self.noise_floor_dbfs
        if not self._in_speech:
            self._history.append(frame)
            self._loud_run = self._loud_run + 1 if level > floor + self.threshold_db else 0
            if self._loud_run >= self.start_frames:
                self._open(idx)
            return None
        self._frames.append(frame)
        if level > floor + self.threshold_db - self.hysteresis_db:
            self._last_voiced = idx
            self._voiced_count += 1
        if idx - self._last_voiced >= self.end_frames:
            return self._finish(truncated=False)
        if len(self._frames) >= self.max_frames:
            return self._cut(idx)
        return None

    def _open(self, idx: int) -> None:
        self._in_speech = True
        self._onset_frame = idx - self.start_frames + 1
        self._frames = list(self._history)
        self._start_frame = idx - len(self._frames) + 1
        self._history.clear()
        self._last_voiced = idx
        self._voiced_count = self.start_frames

    def _cut(self, idx: int) -> Utterance | None:
        utt = self._finish(truncated=True)
        # The talker may still be going: keep the utterance open, starting at the next frame.
        self._in_speech = True
        self._frames = []
        self._start_frame = self._onset_frame = idx + 1
        self._last_voiced = idx
        self._voiced_count = 0
        return utt

    def _finish(self, truncated: bool) -> Utterance | None:
        self._in_speech = False
        self._loud_run = 0
        keep_to = self._frames_end(truncated)
        frames = self._frames[:keep_to]
        self._frames = []
        if self._voiced_count < self.min_speech_frames or not frames:
            return None
        audio = np.concatenate(frames)
        start_s = self._start_frame * self.frame_s
        return Utterance(
            audio=audio,
            start_s=start_s,
            end_s=start_s + len(audio) / self.sample_rate,
            speech_start_s=self._onset_frame * self.frame_s,
            speech_end_s=(self._last_voiced + 1) * self.frame_s,
            truncated=truncated,
        )

    def _frames_end(self, truncated: bool) -> int:
        if truncated:
            return len(self._frames)
        last = self._last_voiced - self._start_frame + 1
        return min(len(self._frames), last + self.post_roll_frames)
