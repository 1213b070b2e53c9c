"""The default voice: hibari-tts's embedded "heart" (Apache-2.0, derived from Kokoro's af_heart), 24 kHz, offline.

hibari-tts 0.2.1 ships one voice inside its wheel, ``assets/hibari.onnx`` (7.9 MB, int8); its other voices are
fetched from Hugging Face on first use. This wrapper only ever loads the embedded file: any other voice name is
refused before hibari is imported, and the model path is always passed explicitly, so hibari's download code
is never reached. On this 2-core machine one onnxruntime thread is faster than two (docs/speech.md).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from jarvis_desktop.errors import BadInputError, ModelNotFoundError
from jarvis_desktop.tts.synthesizer import Audio, VoiceInfo

EMBEDDED_VOICE = "heart"
"""The only voice inside the hibari-tts wheel; every other hibari voice needs a download."""
SAMPLE_RATE_HZ = 24000
"""hibari-tts output rate (``hibari.SAMPLE_RATE``)."""
LICENCE = "Apache-2.0"
"""Licence of hibari-tts and of its voice (PyPI metadata of hibari-tts 0.2.1; Kokoro-82M is Apache-2.0 too)."""
ORIGIN = "hibari-tts's embedded voice, an int8 ONNX model derived from Kokoro-82M's 'heart' voice (af_heart)"
MAX_TEXT_CHARS = 20_000
"""Longest text one :meth:`HibariSynthesizer.synthesize` call accepts (about 20 minutes of speech, 115 MB of
float32 audio); longer replies are fed sentence by sentence (``tts.sentences``)."""
MIN_SPEED, MAX_SPEED = 0.5, 2.0
"""hibari's documented speed range (1.0 = the voice's own pace)."""


def embedded_model_path() -> Path:
    """Path of hibari-tts's embedded ``hibari.onnx``, found without importing hibari.

    Raises:
        ModelNotFoundError: hibari-tts is not installed or its model file is missing.
    """
    spec = importlib.util.find_spec("hibari")
    locations = list(spec.submodule_search_locations or []) if spec else []
    path = Path(locations[0]) / "assets" / "hibari.onnx" if locations else None
    if path is None or not path.is_file():
        raise ModelNotFoundError(
            "the embedded voice (hibari-tts 'heart') is not installed",
            hint="install it with: pip install hibari-tts==0.2.1",
        )
    return path


def _engine_name() -> str:
    try:
        return f"hibari-tts {importlib.metadata.version('hibari-tts')}"
    except importlib.metadata.PackageNotFoundError:
        return "hibari-tts"


def check_voice(name: str) -> None:
    """Refuse any voice but the embedded one, before hibari is touched (so nothing is ever downloaded).

    Raises:
        ModelNotFoundError: ``name`` is not ``"heart"``; the message names the voice and says why.
    """
    if name != EMBEDDED_VOICE:
        raise ModelNotFoundError(
            f"the voice {name!r} is not available: only the voice embedded in hibari-tts, "
            f"{EMBEDDED_VOICE!r}, works offline, and Jarvis never downloads voices",
            hint=f"set the voice to {EMBEDDED_VOICE!r}",
        )


def _check_speed(speed: float) -> float:
    if not MIN_SPEED <= speed <= MAX_SPEED:
        raise BadInputError(f"speech speed {speed} is outside {MIN_SPEED}..{MAX_SPEED} (1.0 is the normal pace)")
    return float(speed)


class HibariSynthesizer:
    """:class:`~jarvis_desktop.tts.synthesizer.SpeechSynthesizer` on hibari-tts's embedded "heart" voice.

    The ONNX model loads on the first :meth:`synthesize` or :meth:`warm_up` (about 0.2 s) and stays loaded;
    inference is serialised by a lock, so one instance can be shared by threads.

    Args:
        voice: must be ``"heart"``; anything else raises at once (no import, no network).
        speed: pace, 0.5 (slow) .. 2.0 (fast), 1.0 = the voice's own.
        threads: onnxruntime threads (1: two were slower on the 2-core target, ../shared/notes/stack.md).
        model_path: another ONNX file with hibari's inputs and outputs instead of the embedded one (tests
            use a corrupt copy); ``None`` = the embedded ``hibari.onnx``.
        seed: seed of hibari's noise component; an int makes equal texts give identical audio,
            ``None`` varies it slightly from call to call.

    Raises:
        ModelNotFoundError: an unknown voice, or ``model_path`` (or the embedded model) does not exist.
        BadInputError: ``speed`` out of range.
    """

    def __init__(
        self,
        voice: str = EMBEDDED_VOICE,
        *,
        speed: float = 1.0,
        threads: int = 1,
        model_path: Path | str | None = None,
        seed: int | None = 0,
    ) -> None:
        check_voice(voice)
        self.speed = _check_speed(speed)
        self.threads = max(1, int(threads))
        self.model_path = Path(model_path).expanduser() if model_path is not None else embedded_model_path()
        if not self.model_path.is_file():
            raise ModelNotFoundError(f"voice model not found: {self.model_path}")
        self.seed = seed
        self._tts: Any = None  # hibari.Hibari (hibari-tts ships no type hints)
        self._load_lock = threading.Lock()
        self._run_lock = threading.Lock()

    @property
    def voice(self) -> VoiceInfo:
        """The "heart" voice: en-US, 24 kHz, Apache-2.0, derived from Kokoro's af_heart; size of the model file."""
        return VoiceInfo(
            name=EMBEDDED_VOICE,
            engine=_engine_name(),
            language="en-US",
            sample_rate_hz=SAMPLE_RATE_HZ,
            licence=LICENCE,
            origin=ORIGIN,
            size_bytes=self.model_path.stat().st_size,
        )

    @property
    def sample_rate_hz(self) -> int:
        """24000 (Hz)."""
        return SAMPLE_RATE_HZ

    @property
    def loaded(self) -> bool:
        """True once the model is in memory."""
        return self._tts is not None

    def warm_up(self) -> float:
        """Load the model and speak one word (discarded) so the next call is fast; returns the seconds taken.

        Raises:
            ModelNotFoundError: the model file is corrupt or cannot be loaded.
        """
        t0 = time.perf_counter()
        self.synthesize("Ready.")
        return time.perf_counter() - t0

    def synthesize(self, text: str) -> Audio:
        """Speech for ``text``: float32 ``(n,)`` mono at 24 kHz in [-1, 1]; ``(0,)`` if there is nothing to say.

        hibari splits the text into sentences itself and reads numbers, times and common abbreviations;
        pass it through :func:`~jarvis_desktop.tts.speakable.speakable` first so Markdown, URLs and symbols
        are never read aloud.

        Raises:
            BadInputError: more than :data:`MAX_TEXT_CHARS` characters.
            ModelNotFoundError: the model file is corrupt or cannot be loaded.
        """
        if len(text) > MAX_TEXT_CHARS:
            raise BadInputError(
                f"text of {len(text)} characters is too long to speak at once (at most {MAX_TEXT_CHARS})",
                hint="speak it sentence by sentence",
            )
        if not any(ch.isalnum() for ch in text):
            return np.zeros(0, dtype=np.float32)
        tts = self._load()
        with self._run_lock:
            audio = tts(text, speed=self.speed, seed=self.seed)
        return np.clip(np.asarray(audio, dtype=np.float32).reshape(-1), -1.0, 1.0)

    def _load(self) -> Any:
        if self._tts is not None:
            return self._tts
        with self._load_lock:
            if self._tts is None:
                self._tts = _open_model(self.model_path, self.threads)
        return self._tts


def _open_model(path: Path, threads: int) -> Any:
    """hibari.Hibari on ``path`` with the embedded voice's G2P (American English); never downloads."""
    from hibari import Hibari  # heavy (onnxruntime); with an explicit model path it never opens a URL

    if not path.is_file():
        raise ModelNotFoundError(f"voice model not found: {path}")
    try:
        return Hibari(voice=EMBEDDED_VOICE, model=str(path), threads=threads)
    except Exception as exc:  # onnxruntime raises its own unexported error types for a bad file
        raise ModelNotFoundError(
            f"the voice model {path} could not be loaded ({type(exc).__name__}: {str(exc)[:200]})",
            hint="reinstall it with: pip install --force-reinstall hibari-tts==0.2.1",
        ) from exc
