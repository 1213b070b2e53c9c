"""The speech-engine Protocol every voice meets, and the facts about a voice (:class:`VoiceInfo`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

Audio = npt.NDArray[np.float32]
"""Synthesized speech: float32, shape ``(n,)``, mono, samples in [-1, 1] at the engine's ``sample_rate_hz``."""


@dataclass(frozen=True)
class VoiceInfo:
    """What a voice is and where it comes from, for the settings dialog, ``doctor`` and the docs.

    Attributes:
        name: the voice's name as the user selects it (e.g. ``"heart"``).
        engine: the engine that speaks it (e.g. ``"hibari-tts 0.2.1"``).
        language: BCP 47 tag of the language and accent (e.g. ``"en-US"``).
        sample_rate_hz: sample rate of the audio it produces, in Hz (e.g. 24000).
        licence: SPDX identifier of the model's licence (e.g. ``"Apache-2.0"``).
        origin: where the voice comes from (the model it is derived from, the package that ships it).
        size_bytes: size of the model file on disk, in bytes (0 when unknown).
    """

    name: str
    engine: str
    language: str
    sample_rate_hz: int
    licence: str
    origin: str
    size_bytes: int = 0


@runtime_checkable
class SpeechSynthesizer(Protocol):
    """A text-to-speech engine: text in, mono float32 audio out. See docs/speech.md to add one.

    Implementations load their model lazily (on the first :meth:`synthesize` or ``warm_up``), may be
    shared by threads (they serialise inference themselves), and never download anything.
    """

    @property
    def voice(self) -> VoiceInfo:
        """The voice this engine speaks with (no model load needed)."""
        ...

    @property
    def sample_rate_hz(self) -> int:
        """Sample rate of :meth:`synthesize`'s output, in Hz."""
        ...

    def synthesize(self, text: str) -> Audio:
        """Speech for ``text`` (already made speakable, see ``tts.speakable``).

        Returns:
            float32 ``(n,)`` mono at :attr:`sample_rate_hz`, in [-1, 1]; ``(0,)`` when the text holds
            nothing to say (empty or only whitespace/punctuation).

        Raises:
            BadInputError: the text is too long for one call.
            ModelNotFoundError: the model file is missing or corrupt.
        """
        ...
