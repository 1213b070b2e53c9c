"""Whisper speech-to-text with guards against hallucinated text on silence and noise.

``SpeechToText`` wraps ``faster_whisper.WhisperModel(path, device="cpu", compute_type="int8", cpu_threads=2)``
on a local CTranslate2 model directory (default: the embedded Whisper tiny.en). It never contacts a model hub:
it only accepts an existing directory holding ``tokenizer.json`` (without it faster-whisper would fetch a
tokenizer from the hub) and loads with ``local_files_only=True``; it sets no environment variable (a process-wide
``HF_HUB_OFFLINE`` would also turn off the model catalogue's downloads in the app).

Hallucination guards (tiny.en invents "you", "Thank you." or "I hope you enjoyed this video" on silence):

1. Silero VAD (``vad_filter=True``, shipped inside faster-whisper) removes non-speech before decoding.
2. ``condition_on_previous_text=False``, so one invented segment cannot seed the next; the token budget
   scales with the audio length (:func:`max_new_tokens`), so a repetition loop on noise stays cheap.
3. A segment is dropped when it holds no word (".", "[Music]"), when its ``avg_logprob`` is very low
   (< :data:`VERY_LOW_LOGPROB`), or when its ``no_speech_prob`` exceeds ``no_speech_threshold`` and the
   decoder is unsure (``avg_logprob`` < -1.0) or the segment's audio is quiet.
4. The known silence phrases (:data:`HALLUCINATION_PHRASES`) are dropped only when the segment's audio is
   quiet (level below :data:`QUIET_DBFS`, or less than :data:`MIN_SNR_DB` above the clip's noise floor),
   so a clearly spoken "thank you" is kept.

Languages (``[stt] language``): a Whisper language code ("en", "fr", "de", ...) decodes in that language;
"auto" detects the language of each utterance (faster-whisper's ``language=None``; the short-context path detects
it on its own short encoder output) and reports it in :attr:`Transcript.language` with its probability. Any
language but English needs a multilingual model ("base", see :func:`jarvis_desktop.models.whisper_model_path`):
with an English-only model (the embedded tiny.en) another language or "auto" is refused at construction.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from jarvis_desktop.audio.vad import frame_levels_dbfs
from jarvis_desktop.audio.wav import SAMPLE_RATE, load_audio
from jarvis_desktop.config import Settings, SttSettings
from jarvis_desktop.errors import BadInputError, ModelNotFoundError
from jarvis_desktop.models import embedded_whisper_path, whisper_model_path
from jarvis_desktop.stt.short_context import (
    ShortDecodeOptions,
    decode_short_context,
    detect_language_short,
    fits_short_context,
)
from jarvis_desktop.stt.transcript import Segment, Transcript

__all__ = [
    "AUTO_LANGUAGE",
    "WHISPER_LANGUAGES",
    "Segment",
    "SpeechToText",
    "Transcript",
    "filter_hallucinations",
    "max_new_tokens",
    "model_is_multilingual",
    "resolve_language",
]

AUTO_LANGUAGE = "auto"
"""``[stt] language`` value meaning "detect the language of each utterance" (multilingual models only)."""

_LANGUAGE_CODES = (
    "af am ar as az ba be bg bn bo br bs ca cs cy da de el en es et eu fa fi fo fr gl gu ha haw he hi hr ht hu hy id "
    "is it ja jw ka kk km kn ko la lb ln lo lt lv mg mi mk ml mn mr ms mt my ne nl nn no oc pa pl ps pt ro ru sa sd si "
    "sk sl sn so sq sr su sv sw ta te tg th tk tl tr tt uk ur uz vi yi yo zh yue"
)
WHISPER_LANGUAGES = tuple(_LANGUAGE_CODES.split())
"""The language codes Whisper knows (faster-whisper's ``tokenizer._LANGUAGE_CODES``), for checking settings
without importing faster-whisper."""

_MULTILINGUAL_VOCABULARY = 51865
"""Vocabulary size from which CTranslate2 treats a Whisper model as multilingual (English-only ones have 51864)."""

_MODEL_HINT = "set [stt] model_path to a CTranslate2 Whisper directory, or leave it empty for the default"

VERY_LOW_LOGPROB = -1.6
"""Segments whose mean token log-probability is below this are dropped (the decoder is guessing)."""

UNSURE_LOGPROB = -1.0
"""Whisper's reference ``log_prob_threshold``: with a high ``no_speech_prob`` below it, a segment is dropped."""

QUIET_DBFS = -50.0
"""A segment whose loud frames (90th percentile of 30 ms RMS levels) are below this level counts as quiet."""

MIN_SNR_DB = 10.0
"""A segment less than this many dB above the clip's noise floor (10th percentile frame level) counts as quiet."""

HALLUCINATION_PHRASES = frozenset(
    {
        "you",
        "thank you",
        "thank you very much",
        "thanks",
        "thank you so much",
        "thank you for watching",
        "thanks for watching",
        "thank you for listening",
        "thanks for listening",
        "i hope you enjoyed this video",
        "i hope you enjoyed the video",
        "see you next time",
        "well see you next time",
        "see you in the next video",
        "please subscribe",
        "subscribe",
        "like and subscribe",
        "bye",
        "bye bye",
        "goodbye",
        "okay",
        "oh",
        "so",
        "hmm",
        "um",
        "uh",
        "ah",
        "yeah",
        "the end",
        "music",
        "applause",
        "silence",
        "blank audio",
    }
)
"""Normalised texts (lowercase, no punctuation) tiny.en is known to produce on silence and noise."""

_ANNOTATION = re.compile(r"^\s*[\[(*♪].*[\])*♪]\s*$")


class SpeechToText:
    """Transcribe 16 kHz mono speech with a local CTranslate2 Whisper model.

    The model loads lazily on the first :meth:`transcribe` or :meth:`warm_up` call (thread-safe); calls are
    serialised, so one instance can be shared by threads.

    Args:
        model_path: a CTranslate2 Whisper directory (``model.bin``, ``config.json``, ``tokenizer.json``);
            ``None`` = the one ``options`` choose (``model_path`` if set, else ``model``: "tiny.en" embedded or
            "base" joined on first use; :func:`jarvis_desktop.models.whisper_model_path`).
        options: decoding settings; ``None`` = :class:`~jarvis_desktop.config.SttSettings` defaults. Its
            ``language`` is a Whisper code or "auto" (see the module docstring); :attr:`language` holds the
            resolved value (``None`` = detect per utterance).

    Raises:
        ModelNotFoundError: the directory is missing or lacks model files (here), or the model fails to load
            (on first use).
        BadInputError: an unknown ``[stt] model`` or language code, or a language other than English (or
            "auto") with an English-only model such as tiny.en.
    """

    def __init__(self, model_path: Path | str | None = None, options: SttSettings | None = None) -> None:
        self.options = options or SttSettings()
        if model_path is None:
            model_path = whisper_model_path(Settings(stt=self.options))
        self.model_path = Path(model_path).expanduser()
        _check_model_dir(self.model_path)
        self.language: str | None = resolve_language(self.options.language, self.model_path)
        self._model: Any = None  # faster_whisper.WhisperModel (untyped library)
        self._load_lock = threading.Lock()
        self._run_lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> SpeechToText:
        """Build from the user's settings (``[stt]``; the model path via ``models.whisper_model_path``)."""
        return cls(whisper_model_path(settings), settings.stt)

    @property
    def loaded(self) -> bool:
        """True once the model is in memory."""
        return self._model is not None

    def warm_up(self) -> float:
        """Load the model now (and decode 1 s of silence once); returns the seconds it took.

        Raises:
            ModelNotFoundError: the model files are corrupt or cannot be loaded.
        """
        t0 = time.perf_counter()
        model = self._load()
        with self._run_lock:
            segments, _ = model.transcribe(
                np.zeros(SAMPLE_RATE, dtype=np.float32),
                language=self._language(),
                beam_size=1,
                vad_filter=False,
                without_timestamps=True,
            )
            list(segments)
        return time.perf_counter() - t0

    def transcribe(
        self,
        audio: np.ndarray | str | os.PathLike[str],
        *,
        prompt: str = "",
        beam_size: int | None = None,
        vad_filter: bool | None = None,
        short_context: bool = False,
    ) -> Transcript:
        """Transcribe one utterance or recording.

        Args:
            audio: float32 ``(n,)`` mono at 16 kHz in [-1, 1] (int16 is scaled; ``(n, 1)`` is accepted), or
                the path of an audio file (read with :func:`~jarvis_desktop.audio.wav.load_audio`).
            prompt: text the decoder is primed with (Whisper's ``initial_prompt``), e.g. ``"Hey Jarvis."`` for an
                utterance that starts with the wake phrase, so the name is spelled as such; ``""`` = none.
            beam_size / vad_filter: override the settings for this call (``None`` = ``[stt]``'s); the voice loop
                passes ``vad_filter=False`` because its audio is already endpointed by Silero VAD.
            short_context: encode the audio plus ``[stt] context_pad_s`` seconds of silence instead of a 30 s
                window (:mod:`jarvis_desktop.stt.short_context`: 2-4x faster; on real recordings as accurate, on
                synthetic voices a little less: 9.4 % vs 8.1 % WER on 24 hibari replies). The hands-free loop
                uses it (its latency goal); files and push-to-talk keep the full window.

        Returns:
            A :class:`Transcript`; its ``text`` is ``""`` when the audio holds no speech (silence, noise).

        Raises:
            BadInputError: empty, non-finite or wrongly shaped audio, or an unreadable file.
            ModelNotFoundError: the model cannot be loaded.
        """
        samples = _as_samples(audio)
        model = self._load()
        opts = self.options
        beam = max(1, int(opts.beam_size if beam_size is None else beam_size))
        use_vad = bool(opts.vad_filter if vad_filter is None else vad_filter)
        t0 = time.perf_counter()
        with self._run_lock:
            raw = self._decode_short(model, samples, prompt, beam, use_vad) if short_context else None
            if raw is None:
                raw = self._decode_full(model, samples, prompt, beam, use_vad)
        stt_seconds = time.perf_counter() - t0
        segments, language, probability = raw
        kept = filter_hallucinations(segments, samples, opts.no_speech_threshold)
        text = " ".join(s.text for s in kept).strip()
        if not text:
            language = probability = None
        return Transcript(text, len(samples) / SAMPLE_RATE, stt_seconds, kept, language, probability)

    def _decode_short(self, model: Any, samples: np.ndarray, prompt: str, beam: int, use_vad: bool) -> _Decoded | None:
        """The short-context decode (:mod:`jarvis_desktop.stt.short_context`), or ``None`` when it does not
        apply (off, too long) or is unsure."""
        pad_s = float(self.options.context_pad_s)
        if not fits_short_context(samples, pad_s):
            return None
        speech = _speech_only(samples) if use_vad else samples
        if speech.size == 0:
            return [], None, None
        tokens = max_new_tokens(speech.size / SAMPLE_RATE)
        short = decode_short_context(model, speech, ShortDecodeOptions(self._language(), beam, prompt, tokens, pad_s))
        if short is None:
            return None
        segment = replace(short.segment, start=0.0, end=samples.size / SAMPLE_RATE)  # levels are measured on all
        return [segment], short.language, short.language_probability

    def _decode_full(self, model: Any, samples: np.ndarray, prompt: str, beam: int, use_vad: bool) -> _Decoded:
        """faster-whisper's own 30 s window loop (with its temperature fallback). With "auto", an utterance that
        fits a short context has its language detected there first (faster-whisper would encode the full window
        once more to detect it: about 0.6 s with base on 2 cores)."""
        language, probability = self._language(), None
        pad_s = float(self.options.context_pad_s)
        if language is None and model.model.is_multilingual and fits_short_context(samples, pad_s):
            speech = _speech_only(samples) if use_vad else samples
            if speech.size:
                language, probability = detect_language_short(model, speech, pad_s)
        segments, info = model.transcribe(
            samples,
            language=language,
            beam_size=beam,
            vad_filter=use_vad,
            condition_on_previous_text=False,
            initial_prompt=prompt or None,
            no_speech_threshold=self.options.no_speech_threshold,
            log_prob_threshold=UNSURE_LOGPROB,
            max_new_tokens=max_new_tokens(len(samples) / SAMPLE_RATE),
        )
        kept = [
            Segment(float(s.start), float(s.end), s.text.strip(), float(s.no_speech_prob), float(s.avg_logprob))
            for s in segments
        ]
        return kept, str(info.language), float(info.language_probability if probability is None else probability)

    def _language(self) -> str | None:
        return self.language

    def _load(self) -> Any:
        if self._model is not None:
            return self._model
        with self._load_lock:
            if self._model is None:
                _check_model_dir(self.model_path)  # a local directory with tokenizer.json: no hub is asked
                from faster_whisper import WhisperModel

                try:
                    self._model = WhisperModel(
                        str(self.model_path),
                        device="cpu",
                        compute_type=self.options.compute_type or "int8",
                        cpu_threads=max(1, int(self.options.cpu_threads)),
                        local_files_only=True,
                    )
                except (RuntimeError, ValueError, OSError) as exc:
                    first = str(exc).splitlines()[0] if str(exc) else exc
                    raise ModelNotFoundError(
                        f"speech-to-text model in {self.model_path} could not be loaded "
                        f"(corrupt or not a CTranslate2 Whisper model): {first}",
                        hint=_MODEL_HINT,
                    ) from exc
        return self._model


_Decoded = tuple[list[Segment], "str | None", "float | None"]
"""(segments, language, language probability) of one decode."""


def model_is_multilingual(model_dir: Path | str) -> bool:
    """True when the CTranslate2 Whisper model in ``model_dir`` is multilingual (base, small, ...), False for an
    English-only one (tiny.en, base.en). Reads the vocabulary size from ``vocabulary.txt`` / ``vocabulary.json``
    (else ``tokenizer.json``), as CTranslate2 does, without loading the model.

    Raises:
        ModelNotFoundError: none of those files is readable.
    """
    folder = Path(model_dir)
    try:
        if (folder / "vocabulary.txt").is_file():
            with open(folder / "vocabulary.txt", "rb") as fh:
                size = sum(1 for _ in fh)
        elif (folder / "vocabulary.json").is_file():
            size = len(json.loads((folder / "vocabulary.json").read_text(encoding="utf-8")))
        else:
            tok = json.loads((folder / "tokenizer.json").read_text(encoding="utf-8"))
            # tokenizer.json lacks the 1,501 timestamp tokens that vocabulary files list
            size = len(tok["model"]["vocab"]) + len(tok.get("added_tokens", [])) + 1501
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelNotFoundError(
            f"speech-to-text model in {folder} has no readable vocabulary: {exc}", hint=_MODEL_HINT
        ) from exc
    return size >= _MULTILINGUAL_VOCABULARY


def resolve_language(language: str, model_dir: Path | str) -> str | None:
    """Check ``[stt] language`` against the model in ``model_dir``; returns the Whisper code to decode in, or
    ``None`` for "auto" (detect per utterance). ``""`` means "auto" on a multilingual model and "en" on an
    English-only one (what faster-whisper does with no language).

    Raises:
        BadInputError: an unknown code, or anything but "en" with an English-only model (tiny.en).
    """
    code = (language or "").strip().lower()
    multilingual = model_is_multilingual(model_dir)
    if not code:
        return None if multilingual else "en"
    if code != AUTO_LANGUAGE and code not in WHISPER_LANGUAGES:
        raise BadInputError(
            f"unknown speech language {language!r}: use a Whisper language code (en, fr, de, es, it, ...) or auto",
            hint="codes: " + " ".join(WHISPER_LANGUAGES),
        )
    if not multilingual and code != "en":
        name = "tiny.en" if _is_embedded(Path(model_dir)) else f"the English-only model in {model_dir}"
        wanted = "language detection (auto)" if code == AUTO_LANGUAGE else f"language {code!r}"
        raise BadInputError(
            f"{name} understands English only: choose the base model for other languages ({wanted} was asked)",
            hint='set [stt] model = "base" (multilingual), or [stt] language = "en"',
        )
    return None if code == AUTO_LANGUAGE else code


def _is_embedded(path: Path) -> bool:
    try:
        return path.resolve() == embedded_whisper_path().resolve()
    except ModelNotFoundError:
        return False


def max_new_tokens(duration_s: float) -> int:
    """Token budget per 30 s window: 8 tokens per second of audio + 24, at most 224. A fast talker needs
    about 5 tokens/s; the cap stops a runaway repetition on noise from costing seconds of decoding."""
    return min(224, int(min(duration_s, 30.0) * 8) + 24)


def filter_hallucinations(
    segments: list[Segment], audio: np.ndarray, no_speech_threshold: float = 0.6
) -> list[Segment]:
    """Keep the segments that are real speech (rules in the module docstring).

    Args:
        segments: decoded segments, times in seconds into ``audio``.
        audio: the float32 16 kHz clip they were decoded from (used to measure each segment's level).
        no_speech_threshold: ``no_speech_prob`` above which a segment is suspect.
    """
    if not segments:
        return []
    levels = frame_levels_dbfs(audio)
    floor = float(np.percentile(levels, 10)) if len(levels) else -100.0
    kept = []
    for seg in segments:
        norm = normalise_text(seg.text)
        if not norm or _ANNOTATION.match(seg.text):
            continue
        if seg.avg_logprob < VERY_LOW_LOGPROB:
            continue
        quiet = _is_quiet(seg, levels, floor)
        if seg.no_speech_prob > no_speech_threshold and (seg.avg_logprob < UNSURE_LOGPROB or quiet):
            continue
        if norm in HALLUCINATION_PHRASES and quiet:
            continue
        kept.append(seg)
    return kept


def normalise_text(text: str) -> str:
    """Lowercase, drop punctuation and apostrophes, squeeze spaces: ``"We'll see you!"`` -> ``"well see you"``."""
    text = text.lower().replace("'", "").replace("\u2019", "")
    return " ".join(re.sub(r"[^\w\s]", " ", text).split())


def _is_quiet(seg: Segment, levels: np.ndarray, floor: float) -> bool:
    frame_s = 0.03
    lo, hi = int(seg.start / frame_s), int(np.ceil(seg.end / frame_s))
    part = levels[lo:hi] if hi > lo else levels
    if len(part) == 0:
        part = levels
    if len(part) == 0:
        return True
    loud = float(np.percentile(part, 90))
    return loud < QUIET_DBFS or loud - floor < MIN_SNR_DB


def _speech_only(samples: np.ndarray) -> np.ndarray:
    """``samples`` with the non-speech parts cut out by faster-whisper's Silero VAD (default options)."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    chunks = get_speech_timestamps(samples, VadOptions())
    if not chunks:
        return np.zeros(0, dtype=np.float32)
    return np.concatenate([samples[c["start"] : c["end"]] for c in chunks]).astype(np.float32, copy=False)


def _check_model_dir(path: Path) -> None:
    if not path.is_dir():
        raise ModelNotFoundError(
            f"speech-to-text model not found: {path} is not a directory",
            hint=_MODEL_HINT,
        )
    missing = [name for name in ("model.bin", "config.json", "tokenizer.json") if not (path / name).is_file()]
    if missing:
        raise ModelNotFoundError(
            f"speech-to-text model in {path} is incomplete: missing {', '.join(missing)}",
            hint="a CTranslate2 Whisper directory needs model.bin, config.json and tokenizer.json",
        )


def _as_samples(audio: np.ndarray | str | os.PathLike[str]) -> np.ndarray:
    if isinstance(audio, (str, os.PathLike)):
        return load_audio(audio)
    arr = np.asarray(audio)
    if arr.ndim == 2 and 1 in arr.shape:
        arr = arr.reshape(-1)
    if arr.ndim != 1:
        raise BadInputError(f"audio must be mono, shape (n,); got shape {arr.shape}")
    if arr.size == 0:
        raise BadInputError("audio is empty (0 samples)")
    if np.issubdtype(arr.dtype, np.integer):
        scale = float(np.iinfo(arr.dtype).max) + 1.0
        arr = arr.astype(np.float32) / scale
    elif not np.issubdtype(arr.dtype, np.floating):
        raise BadInputError(f"audio must be float32 samples in [-1, 1]; got dtype {arr.dtype}")
    arr = arr.astype(np.float32, copy=False)
    if not np.all(np.isfinite(arr)):
        raise BadInputError("audio contains NaN or infinite samples")
    clipped: np.ndarray = np.clip(arr, -1.0, 1.0)
    return clipped
