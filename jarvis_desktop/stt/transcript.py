"""What speech-to-text hands on: :class:`Transcript` (with its :class:`Segment` s) and the
:class:`SpeechRecognizer` interface a speech-to-text model offers (:class:`~.whisper.SpeechToText` is the one
the app ships)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np


@dataclass
class Segment:
    """One decoded stretch of speech. ``start``/``end`` in seconds from the clip start; ``no_speech_prob`` in
    [0, 1]; ``avg_logprob`` the mean token log-probability (natural log, <= 0)."""

    start: float
    end: float
    text: str
    no_speech_prob: float
    avg_logprob: float


@dataclass
class Transcript:
    """The result of :meth:`SpeechToText.transcribe`.

    ``text``: the kept segments joined by spaces; ``""`` when the audio holds no speech.
    ``duration_s``: audio length in seconds. ``stt_seconds``: wall-clock decoding time in seconds.
    ``segments``: the kept segments (dropped hallucinations are not listed).
    ``language``: the Whisper language code the text was decoded in ("en", "fr", ...): the one detected in this
    utterance when ``[stt] language`` is "auto", else the configured one ("en" for an English-only model);
    ``None`` when nothing was decoded (no speech) or the recogniser does not say.
    ``language_probability``: the detector's probability in [0, 1] for ``language``; 1.0 when the language was
    fixed; ``None`` with ``language``.
    """

    text: str
    duration_s: float
    stt_seconds: float
    segments: list[Segment] = field(default_factory=list)
    language: str | None = None
    language_probability: float | None = None

    @property
    def real_time_factor(self) -> float:
        """``stt_seconds / duration_s`` (below 1 is faster than real time); 0.0 for empty audio."""
        return self.stt_seconds / self.duration_s if self.duration_s > 0 else 0.0


class SpeechRecognizer(Protocol):
    """A speech-to-text model: lazily loaded, thread-safe.

    ``loaded``: the model is in memory. :meth:`warm_up` loads it now and returns the seconds it took.
    :meth:`transcribe` takes float32 ``(n,)`` mono 16 kHz samples in [-1, 1] or an audio file path and returns
    a :class:`Transcript` (``text == ""`` for silence); it raises BadInputError for unusable audio and
    ModelNotFoundError when the model cannot load. ``prompt`` primes the decoder (e.g. ``"Hey Jarvis."``);
    ``beam_size`` / ``vad_filter`` override the model's settings for one call (``None`` = its own);
    ``short_context``: trade a little accuracy for 2-4x speed (the hands-free loop's latency path).
    """

    @property
    def loaded(self) -> bool: ...

    def warm_up(self) -> float:
        """Load the model now; returns seconds spent."""
        ...

    def transcribe(
        self,
        audio: np.ndarray | str | os.PathLike[str],
        *,
        prompt: str = "",
        beam_size: int | None = None,
        vad_filter: bool | None = None,
        short_context: bool = False,
    ) -> Transcript:
        """Transcribe one utterance or recording."""
        ...
