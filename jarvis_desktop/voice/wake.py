"""The "hey Jarvis" wake word: openWakeWord's ``hey_jarvis`` model (first stage) + a verifier (second stage).

First stage: ``pyopen-wakeword`` 1.1.0 (code Apache-2.0) carries its own TFLite runtime, openWakeWord's
melspectrogram and embedding feature models and ``hey_jarvis.tflite``; offline, about 9 % of one core. It is
fed 16-bit PCM in 80 ms chunks (1280 samples at 16 kHz) and scores each chunk in [0, 1]; a score at or above
the *sensitivity threshold* (default :data:`DEFAULT_THRESHOLD` = 0.3) is an *activation*. Even at
openWakeWord's default 0.5 it fires on near misses ("hey Travis",
"hey Jervis", "hey jar"), so every activation goes to a second stage, a :class:`~.wake_verify.WakeVerifier`,
before anything happens (the default verifier is Whisper on the wake segment: see :mod:`.wake_verify`).

**Licence: the openWakeWord models (hey_jarvis and the feature models) are CC BY-NC-SA 4.0** (non-commercial,
share-alike): :data:`LICENCE` is the text the UI and the README show.

Timing: the first stage peaks about 0.1-0.4 s after the phrase ends. The detector keeps the last
:data:`HISTORY_S` seconds of audio; the *wake segment* handed to the verifier is the ``segment_s`` seconds
(1.5 s by default) before the activation plus ``tail_s`` (0.24 s) after it, so the detector waits three more
80 ms frames before verifying. Times are audio times (samples fed since the last ``reset``, at 16 kHz), not
wall-clock times.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from jarvis_desktop.audio.wav import SAMPLE_RATE
from jarvis_desktop.errors import ModelNotFoundError
from jarvis_desktop.voice.wake_verify import Verdict, WakeVerifier

__all__ = [
    "CHUNK_SAMPLES",
    "LICENCE",
    "DEFAULT_THRESHOLD",
    "WakeDetection",
    "WakeWordDetector",
]

LICENCE = (
    "Wake word: openWakeWord models (hey_jarvis, melspectrogram, embedding) by David Scripka, "
    "licensed CC BY-NC-SA 4.0 (non-commercial use, share-alike; https://creativecommons.org/licenses/by-nc-sa/4.0/), "
    "run by pyopen-wakeword (Apache-2.0)."
)
"""The wake-word models' licence, for the Settings dialog and the README."""

INSTALL_HINT = "install it with: pip install pyopen-wakeword"

CHUNK_SAMPLES = 1280
"""Samples per first-stage step (80 ms at 16 kHz): openWakeWord's chunk size."""

DEFAULT_THRESHOLD = 0.3
"""Default first-stage sensitivity: lower fires more often. openWakeWord's own default is 0.5; with the verifier
as the gate, 0.3 is used: over 60 "hey jarvis" clips (bench/wake.py) the first stage missed 10 at 0.5, 8 at 0.4,
6 at 0.3 and 0.2 (those 6 score below 0.08: not heard at all). The extra activations (e.g. the onset of loud
brown noise, 0.36) cost one Whisper check each."""

HISTORY_S = 3.0
"""Seconds of recent audio the detector keeps for the wake segment."""

_TFLITE_MAGIC = b"TFL3"


@dataclass(frozen=True)
class WakeDetection:
    """One first-stage activation and what the verifier said about it.

    ``sample``: stream sample offset (16 kHz) of the end of the 80 ms chunk whose score crossed the threshold;
    ``time_s`` the same in seconds. ``score``: the highest first-stage score in [0, 1] seen up to verification.
    ``segment``: the float32 16 kHz wake segment given to the verifier. ``verdict``: the verifier's answer
    (``accepted`` and the heard ``text``; always accepted when the detector has no verifier).
    """

    sample: int
    score: float
    segment: np.ndarray
    verdict: Verdict

    @property
    def time_s(self) -> float:
        """``sample`` in seconds of audio since the stream started."""
        return self.sample / SAMPLE_RATE

    @property
    def accepted(self) -> bool:
        """True when the verifier confirmed the wake word (act only on these)."""
        return self.verdict.accepted


class WakeWordDetector:
    """Streaming "hey Jarvis" detector: feed float32 16 kHz chunks of any length, get verified detections.

    Args:
        threshold: first-stage sensitivity in (0, 1); an 80 ms score at or above it is an activation.
        refractory_s: after an *accepted* detection, activations are ignored for this many seconds of audio
            (the score stays high for several chunks after one phrase). After a *rejected* one, the detector
            re-arms as soon as the score falls below the threshold.
        verifier: the second stage; ``None`` accepts every activation (first stage only).
        segment_s / tail_s: the wake segment is ``segment_s`` seconds before the activation plus ``tail_s``
            after it.
        model_path: a custom openWakeWord ``.tflite`` wake-word model; ``None`` = the built-in hey_jarvis.

    Raises:
        ModelNotFoundError: pyopen-wakeword is not installed (the message says ``pip install pyopen-wakeword``),
            its TFLite runtime cannot load (it needs glibc >= 2.35), or ``model_path`` is missing or not a
            TFLite model.
    """

    def __init__(
        self,
        threshold: float = DEFAULT_THRESHOLD,
        refractory_s: float = 2.0,
        verifier: WakeVerifier | None = None,
        segment_s: float = 1.5,
        tail_s: float = 0.24,
        model_path: Path | str | None = None,
    ) -> None:
        if not 0.0 < threshold < 1.0:
            raise ValueError(f"wake-word threshold must be in (0, 1), got {threshold}")
        self.threshold = float(threshold)
        self.refractory_samples = int(refractory_s * SAMPLE_RATE)
        self.verifier = verifier
        self.segment_samples = int(segment_s * SAMPLE_RATE)
        self.tail_samples = int(round(tail_s * SAMPLE_RATE / CHUNK_SAMPLES)) * CHUNK_SAMPLES
        self._features, self._model = _load_models(Path(model_path).expanduser() if model_path else None)
        self.rejections: deque[WakeDetection] = deque(maxlen=20)
        self.activations = 0
        self.reset()

    def reset(self) -> None:
        """Forget the stream: feature buffers, audio history, refractory and pending state; time restarts at 0."""
        self._features.reset()
        self._model.reset()
        self._pending_pcm = np.zeros(0, dtype=np.int16)
        self._history: deque[np.ndarray] = deque(maxlen=int(HISTORY_S * SAMPLE_RATE) // CHUNK_SAMPLES)
        self._samples = 0
        self._blocked_until = 0
        self._armed = True
        self._pending: tuple[int, float] | None = None  # (activation sample, best score) awaiting its tail
        self.last_score = 0.0
        self.on_crossing: Callable[[int], None] | None = None
        """Called (on the feeding thread) with the stream sample of each new first-stage activation, the moment
        the score crosses the threshold: before its tail and verification (the session's barge-in uses it)."""

    def process(self, chunk: np.ndarray) -> list[WakeDetection]:
        """Feed float32 ``(n,)`` mono 16 kHz samples in [-1, 1] (any length); returns the *accepted* detections
        completed in it (usually none). Rejected ones are kept in :attr:`rejections`.

        The verifier runs inside this call (Whisper: ~0.2-0.5 s on 2 cores), only on activations.
        """
        x = np.clip(np.asarray(chunk, dtype=np.float32).reshape(-1), -1.0, 1.0)
        pcm = np.concatenate([self._pending_pcm, (x * 32767.0).astype(np.int16)])
        count = len(pcm) // CHUNK_SAMPLES
        self._pending_pcm = pcm[count * CHUNK_SAMPLES :]
        accepted: list[WakeDetection] = []
        for i in range(count):
            step = pcm[i * CHUNK_SAMPLES : (i + 1) * CHUNK_SAMPLES]
            detection = self._step(step)
            if detection is not None and detection.accepted:
                accepted.append(detection)
        return accepted

    def _step(self, pcm: np.ndarray) -> WakeDetection | None:
        self._history.append(pcm.astype(np.float32) / 32767.0)
        self._samples += CHUNK_SAMPLES
        score = self._score(pcm)
        self.last_score = score
        if self._pending is not None:
            start, best = self._pending
            self._pending = (start, max(best, score))
            if self._samples - start >= self.tail_samples:
                return self._verify()
            return None
        if score < self.threshold:
            self._armed = True
            return None
        if self._armed and self._samples >= self._blocked_until:
            self.activations += 1
            self._pending = (self._samples, score)
            if self.on_crossing is not None:
                self.on_crossing(self._samples)
            if self.tail_samples == 0:
                return self._verify()
        return None

    def _score(self, pcm: np.ndarray) -> float:
        score = 0.0
        for embedding in self._features.process_streaming(pcm.tobytes()):
            for probability in self._model.process_streaming(embedding):
                score = max(score, float(probability))
        return score

    def _verify(self) -> WakeDetection:
        assert self._pending is not None
        sample, best = self._pending
        self._pending = None
        self._armed = False
        audio = np.concatenate(list(self._history))
        want = self.segment_samples + (self._samples - sample)
        segment = audio[-want:].copy()
        verdict = self.verifier.verify(segment) if self.verifier else Verdict(True, "", "no verifier")
        detection = WakeDetection(sample, best, segment, verdict)
        if verdict.accepted:
            self._blocked_until = self._samples + self.refractory_samples
        else:
            self.rejections.append(detection)
        return detection


def _load_models(model_path: Path | None) -> tuple[Any, Any]:
    """(OpenWakeWordFeatures, OpenWakeWord) from pyopen-wakeword (untyped C-backed objects)."""
    try:
        from pyopen_wakeword import Model, OpenWakeWord, OpenWakeWordFeatures
    except ImportError as exc:
        raise ModelNotFoundError("the wake-word engine pyopen-wakeword is not installed", INSTALL_HINT) from exc
    if model_path is not None:
        _check_tflite(model_path)
    try:
        features = OpenWakeWordFeatures.from_builtin()
        model = OpenWakeWord.from_model(model_path) if model_path else OpenWakeWord.from_builtin(Model.HEY_JARVIS)
    except (OSError, ValueError, RuntimeError) as exc:
        raise ModelNotFoundError(
            f"the wake-word model cannot be loaded: {exc}",
            "pyopen-wakeword's TFLite runtime needs glibc >= 2.35; reinstall it with: pip install pyopen-wakeword",
        ) from exc
    return features, model


def _check_tflite(path: Path) -> None:
    """A missing file or a file without the TFLite signature would crash the C runtime: refuse it here."""
    try:
        with path.open("rb") as f:
            head = f.read(8)
    except OSError as exc:
        raise ModelNotFoundError(
            f"wake-word model not found: {path}", "leave the wake-word model empty for the built-in hey_jarvis"
        ) from exc
    if head[4:8] != _TFLITE_MAGIC:
        raise ModelNotFoundError(
            f"wake-word model {path} is not a TFLite model (corrupt?)",
            "leave the wake-word model empty for the built-in hey_jarvis",
        )
