"""Streaming endpointing on Silero VAD probabilities: typed speech-start and endpoint events.

Units: audio is float32 mono at 16 kHz (samples in [-1, 1]) cut into 512-sample (32 ms) frames by
:class:`~jarvis_desktop.audio.silero.SileroVad`; every position is a *sample offset* since the stream started
(or since the last ``reset``); durations in settings are milliseconds or seconds as named.

State machine (per frame, probability ``p``):

* **waiting**: a frame with ``p >= threshold`` is *voiced*. After ``start_frames`` consecutive voiced frames
  speech starts: a :class:`SpeechStart` is emitted whose ``speech_sample`` is the first of those frames.
  The utterance audio begins ``pre_roll_ms`` earlier (the ring buffer of recent frames), so soft onsets
  ("f", "h", "s") that score low are kept and the first syllable survives.
* **speech**: a frame with ``p >= neg_threshold`` (hysteresis, below ``threshold``) keeps the utterance
  alive; ``end_silence_ms`` of frames below it end it: an :class:`Endpoint` is emitted whose audio runs from the
  pre-roll to ``post_roll_ms`` after the last voiced frame. An utterance reaching ``max_utterance_s`` is cut
  (``truncated=True``); if the talker is still going a new utterance starts at once (no audio is lost).

Tuning (the :class:`EndpointSettings` defaults). Data: espeak-ng speech, each clip = 1 s silence, utterance 1
(2-3 phrases joined by 300 ms pauses), 1.5 s gap, utterance 2, 1.2 s silence; conditions clean, pink noise 15/10/5
dB SNR, brown ("fan") noise 10/5 dB, a synthetic melody ("music") 10/5 dB; plus 8 s noise-only clips (pink,
brown, music, white at three levels). TUNING set: 4 sentence pairs x 2 voices (en-us, en-gb+f2) = 64 clips;
HELD-OUT: 4 other sentence pairs x 3 other voices (en+m3, en-gb-scotland, en-us+f3) = 96 clips. A clip is right
when exactly two endpoints come out and each covers its utterance. Grid: threshold 0.3-0.7, start_frames 2-4,
end_silence_ms 300-600 (neg_threshold = threshold - 0.15, Silero's own rule).

* ``end_silence_ms``: 300 and 350 ms split the 300 ms internal pauses (5 and 4 of 64 tuning clips wrong, the
  clean ones included: espeak's own word gaps add to the pause); 400 ms and more give 1/64 (the same music 5 dB
  clip at every length). 400 ms is the shortest safe value, so it is the default: median end-of-speech to
  endpoint 490 ms on tuning, 456 ms held-out (500 ms: 586 / 552 ms). The session can raise it for slow talkers.
* ``threshold`` 0.5 (Silero's default): 0.6-0.7 were ~20-60 ms faster and perfect on tuning but missed or split
  4/96 held-out clips (pink 5 dB, brown 5 dB, music); 0.3-0.4 were as accurate but 35-100 ms slower (the
  probability tail after speech stays above a low neg_threshold).
* ``start_frames`` 3 (96 ms): 2-4 made no difference in accuracy; 3 keeps clicks shorter than 96 ms out.
* ``pre_roll_ms`` 320: no clip had its onset cut (0 clipped onsets at 0.5 on both sets).
* Noise-only: no false start on pink, brown or white noise at any level (max probability 0.25); one 0.48 s
  false utterance in 8 s of the held-out melody at every threshold 0.4-0.6 (Silero hears tonal music as singing):
  the wake word and the transcript filters downstream must absorb it.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from jarvis_desktop.audio.silero import FRAME_SAMPLES, SAMPLE_RATE, SileroVad

__all__ = ["Endpoint", "EndpointEvent", "EndpointSettings", "Endpointer", "SileroEndpointer", "SpeechStart"]

TUNING_NOTE = (
    "threshold 0.5 / neg_threshold 0.35, start_frames 3 (96 ms), end_silence_ms 400, pre_roll_ms 320, post_roll_ms 96"
)
"""The chosen defaults in one line (the module docstring says why)."""


@dataclass(frozen=True)
class EndpointSettings:
    """Thresholds of :class:`Endpointer` (probabilities in [0, 1]; times in ms or s as named).

    ``threshold``: a frame at or above it is voiced. ``neg_threshold``: inside speech a frame stays
    "speech" down to this (hysteresis). ``start_frames``: consecutive voiced frames that start speech (3 = 96 ms,
    which also sets the shortest burst taken as speech). ``end_silence_ms``: silence that ends the utterance
    (a 300 ms pause inside a sentence must stay below it). ``pre_roll_ms`` / ``post_roll_ms``: audio kept before
    the first voiced frame / after the last one. ``max_utterance_s``: an utterance is cut at this length.
    """

    threshold: float = 0.5
    neg_threshold: float = 0.35
    start_frames: int = 3
    end_silence_ms: float = 400.0
    pre_roll_ms: float = 320.0
    post_roll_ms: float = 96.0
    max_utterance_s: float = 15.0


@dataclass(frozen=True)
class SpeechStart:
    """Speech began. ``speech_sample``: stream sample offset of the first voiced frame (16 kHz);
    ``probability``: the Silero probability of the frame that confirmed it."""

    speech_sample: int
    probability: float

    @property
    def time_s(self) -> float:
        """``speech_sample`` in seconds since the stream started."""
        return self.speech_sample / SAMPLE_RATE


@dataclass(frozen=True)
class Endpoint:
    """An utterance ended (by silence, or by the length cap when ``truncated``).

    Sample offsets are 16 kHz stream positions: ``start_sample`` (inclusive) / ``end_sample`` (exclusive) bound
    ``audio`` (pre-roll and post-roll included); ``speech_sample`` is the first voiced frame and
    ``last_voiced_sample`` the end of the last voiced frame (the "end of speech" latency is measured from it).
    ``audio``: float32 ``(end_sample - start_sample,)``. ``emitted_sample``: the stream position when the event
    was produced (``last_voiced_sample`` + the end silence, for a silence endpoint).
    """

    start_sample: int
    end_sample: int
    speech_sample: int
    last_voiced_sample: int
    emitted_sample: int
    audio: np.ndarray
    truncated: bool = False

    @property
    def duration_s(self) -> float:
        """Length of ``audio`` in seconds."""
        return (self.end_sample - self.start_sample) / SAMPLE_RATE


EndpointEvent = SpeechStart | Endpoint


class Endpointer:
    """The endpointing state machine on (frame, probability) pairs: no model inside, so it can be driven by
    :class:`SileroEndpointer` or by precomputed probabilities (tuning). Not thread-safe.

    Args:
        settings: thresholds; ``None`` = :class:`EndpointSettings` defaults.
    """

    def __init__(self, settings: EndpointSettings | None = None) -> None:
        s = settings or EndpointSettings()
        self.settings = s
        frame_ms = FRAME_SAMPLES * 1000.0 / SAMPLE_RATE
        self.start_frames = max(1, int(s.start_frames))
        self.end_frames = max(1, int(np.ceil(s.end_silence_ms / frame_ms)))
        self.pre_roll_frames = max(0, int(round(s.pre_roll_ms / frame_ms)))
        self.post_roll_frames = max(0, int(round(s.post_roll_ms / frame_ms)))
        self.max_frames = max(self.start_frames + 1, int(s.max_utterance_s * 1000.0 / frame_ms))
        self.reset()

    @property
    def in_speech(self) -> bool:
        """True between a :class:`SpeechStart` and its :class:`Endpoint`."""
        return self._in_speech

    def reset(self) -> None:
        """Forget the stream (positions restart at 0) and any utterance in progress."""
        self._frame_index = 0
        self._history: deque[np.ndarray] = deque(maxlen=self.pre_roll_frames + self.start_frames)
        self._voiced_run = 0
        self._in_speech = False
        self._utt: list[np.ndarray] = []
        self._utt_start = 0
        self._speech_sample = 0
        self._last_voiced_frame = 0
        self._silence_run = 0

    def push(self, frame: np.ndarray, probability: float) -> list[EndpointEvent]:
        """Advance by one 512-sample float32 frame with its speech probability; returns the events it caused
        (usually none; at most an :class:`Endpoint` followed by a :class:`SpeechStart`)."""
        index = self._frame_index
        self._frame_index += 1
        if self._in_speech:
            return self._push_speech(index, frame, probability)
        return self._push_waiting(index, frame, probability)

    def flush(self) -> list[EndpointEvent]:
        """End of stream: close an utterance in progress (as a silence endpoint) and return it."""
        if not self._in_speech:
            return []
        return [self._close(self._frame_index, truncated=False)]

    def _push_waiting(self, index: int, frame: np.ndarray, p: float) -> list[EndpointEvent]:
        self._history.append(frame)
        self._voiced_run = self._voiced_run + 1 if p >= self.settings.threshold else 0
        if self._voiced_run < self.start_frames:
            return []
        first_voiced = index - self.start_frames + 1
        frames = list(self._history)
        self._open(index + 1 - len(frames), first_voiced, frames)
        self._last_voiced_frame = index
        return [SpeechStart(first_voiced * FRAME_SAMPLES, float(p))]

    def _push_speech(self, index: int, frame: np.ndarray, p: float) -> list[EndpointEvent]:
        self._utt.append(frame)
        if p >= self.settings.neg_threshold:
            self._silence_run = 0
            if p >= self.settings.threshold:
                self._last_voiced_frame = index
        else:
            self._silence_run += 1
        if self._silence_run >= self.end_frames:
            return [self._close(index + 1, truncated=False)]
        if len(self._utt) >= self.max_frames:
            events: list[EndpointEvent] = [self._close(index + 1, truncated=True)]
            if p >= self.settings.threshold:  # still talking: the next utterance starts here
                self._open(index + 1, index + 1, [])
                self._last_voiced_frame = index
                events.append(SpeechStart((index + 1) * FRAME_SAMPLES, float(p)))
            return events
        return []

    def _open(self, start_frame: int, first_voiced: int, frames: list[np.ndarray]) -> None:
        self._in_speech = True
        self._utt = list(frames)
        self._utt_start = start_frame
        self._speech_sample = first_voiced * FRAME_SAMPLES
        self._silence_run = 0
        self._voiced_run = 0

    def _close(self, emitted_frame: int, truncated: bool) -> Endpoint:
        if truncated:
            end_frame = self._utt_start + len(self._utt)
        else:
            end_frame = min(self._utt_start + len(self._utt), self._last_voiced_frame + 1 + self.post_roll_frames)
        kept = self._utt[: end_frame - self._utt_start]
        audio = np.concatenate(kept) if kept else np.zeros(0, dtype=np.float32)
        event = Endpoint(
            start_sample=self._utt_start * FRAME_SAMPLES,
            end_sample=end_frame * FRAME_SAMPLES,
            speech_sample=self._speech_sample,
            last_voiced_sample=(self._last_voiced_frame + 1) * FRAME_SAMPLES,
            emitted_sample=emitted_frame * FRAME_SAMPLES,
            audio=audio.astype(np.float32, copy=False),
            truncated=truncated,
        )
        self._in_speech = False
        self._utt = []
        self._history.clear()
        self._silence_run = 0
        self._voiced_run = 0
        return event


class SileroEndpointer:
    """Silero VAD + :class:`Endpointer`: feed float32 16 kHz chunks of any length, get typed events.

    Args:
        settings: endpointing thresholds (``None`` = defaults).
        vad: a :class:`SileroVad` to use (``None`` = a new one on the model faster-whisper ships).

    Raises:
        ModelNotFoundError: the Silero model is missing or corrupt (when ``vad`` is ``None``).
    """

    def __init__(self, settings: EndpointSettings | None = None, vad: SileroVad | None = None) -> None:
        self.vad = vad or SileroVad()
        self.endpointer = Endpointer(settings)
        self.last_probability = 0.0

    def process(self, chunk: np.ndarray) -> list[EndpointEvent]:
        """Feed float32 ``(n,)`` mono 16 kHz samples in [-1, 1]; returns the events of the frames completed."""
        frames, probs = self.vad.process(chunk)
        events: list[EndpointEvent] = []
        for frame, p in zip(frames, probs, strict=True):
            events.extend(self.endpointer.push(frame, float(p)))
        if len(probs):
            self.last_probability = float(probs[-1])
        return events

    def flush(self) -> list[EndpointEvent]:
        """End of stream: the open utterance, if any, as an :class:`Endpoint` (a partial frame is dropped)."""
        return self.endpointer.flush()

    def reset(self) -> None:
        """Start a new stream: VAD state and endpointer state are cleared, positions restart at 0."""
        self.vad.reset()
        self.endpointer.reset()
