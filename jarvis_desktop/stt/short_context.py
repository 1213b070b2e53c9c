"""Whisper on a short audio context: encode the utterance plus a few seconds of silence, not a 30 s window.

Whisper's encoder is trained on 30 s windows (3,000 mel frames) and faster-whisper always pads to that, so a
3 s command costs as much encoding as 30 s of audio. CTranslate2's encoder also accepts fewer frames (as
whisper.cpp's ``--audio-ctx`` does): measured here on 2 cores with tiny.en int8, encoding 3,000 frames took
363 ms, 1,000 frames 56 ms and 500 frames 36 ms.

Too little padding makes the decoder loop or miss the end (it has never seen a window end right after the
speech). The padding, :data:`CONTEXT_PAD_S`, was chosen on synthetic speech (12 commands x 5 voices, pink noise
at 15 dB, tiny.en, beam 5): word error rate 0.197 / 0.147 / 0.168 / 0.168 with 6 / 8 / 12 / 16 s of padding,
0.144 for the full 30 s window, at a median 147 / 161 / 200 / 231 ms against 386 ms. Checked afterwards on
real recordings it was not tuned on (Debian pocketsphinx-testdata): librivox 4.2 % both ways (median 385 vs
625 ms), cards 9.5 % vs 14.3 % (115 vs 439 ms).

A decode the decoder is unsure of (mean log-probability below -1.0, or a gzip compression ratio above 2.4,
i.e. a loop: faster-whisper's own fallback thresholds, or a run of 3+ words said twice in a row, a loop too short
for the ratio) returns ``None`` so the caller can use the full window with its temperature fallback. On 24 replies
of the hibari voice (tests/test_tts_wer.py) the loop check took the short context's word error rate from 11.2 %
to 9.4 %; the full window gave 8.1 %.

With a multilingual model and no fixed language ("auto"), the language is detected on the same short encoder
output (CTranslate2's ``detect_language`` accepts encoded features), so "auto" keeps the fast path;
:func:`detect_language_short` does the same for the full-window path, which would otherwise encode the 30 s
window twice (once to detect, once to decode).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from jarvis_desktop.audio.wav import SAMPLE_RATE
from jarvis_desktop.stt.transcript import Segment

__all__ = [
    "CONTEXT_PAD_S",
    "ShortDecode",
    "ShortDecodeOptions",
    "decode_short_context",
    "detect_language_short",
    "fits_short_context",
]

CONTEXT_PAD_S = 8.0
"""Seconds of silence appended to the utterance before encoding (see the module docstring for the figures)."""

WINDOW_S = 30.0
"""Whisper's full window; an utterance that does not fit with its padding takes the normal path."""

MAX_COMPRESSION_RATIO = 2.4
"""faster-whisper's ``compression_ratio_threshold``: above it the text repeats itself (a decoding loop)."""

LOOP_MIN_WORDS = 3
"""A run of this many words said twice in a row counts as a decoding loop (people rarely repeat 3 words at once)."""

MIN_AVG_LOGPROB = -1.0
"""faster-whisper's ``log_prob_threshold``: below it the decoder is guessing."""


@dataclass(frozen=True)
class ShortDecodeOptions:
    """One short-context decode: ``language`` (a Whisper code; ``None`` = detect it on a multilingual model,
    English on an English-only one), ``beam_size``, ``prompt`` (decoder priming text, ``""`` = none),
    ``max_new_tokens`` and ``pad_s`` (silence appended)."""

    language: str | None
    beam_size: int
    prompt: str
    max_new_tokens: int
    pad_s: float = CONTEXT_PAD_S


@dataclass(frozen=True)
class ShortDecode:
    """The result of :func:`decode_short_context`: one ``segment`` spanning the audio, the ``language`` it was
    decoded in and ``language_probability`` (the detector's, in [0, 1]; 1.0 when the language was given)."""

    segment: Segment
    language: str
    language_probability: float


def repeats_itself(text: str, min_words: int = LOOP_MIN_WORDS) -> bool:
    """True when ``text`` says the same run of at least ``min_words`` words twice in a row ("set the volume to
    thirty set the volume to thirty"): the short context's loop, too short for the compression-ratio test."""
    words = [w.strip(".,!?;:").lower() for w in text.split()]
    for size in range(min_words, len(words) // 2 + 1):
        for i in range(len(words) - 2 * size + 1):
            if words[i : i + size] == words[i + size : i + 2 * size]:
                return True
    return False


def fits_short_context(samples: np.ndarray, pad_s: float = CONTEXT_PAD_S) -> bool:
    """True when ``samples`` (16 kHz) plus ``pad_s`` seconds of silence fit in one 30 s Whisper window."""
    return pad_s > 0 and samples.size / SAMPLE_RATE + pad_s <= WINDOW_S


def detect_language_short(model: Any, samples: np.ndarray, pad_s: float = CONTEXT_PAD_S) -> tuple[str, float]:
    """The language of float32 ``(n,)`` 16 kHz ``samples`` and its probability in [0, 1], detected by a
    multilingual ``faster_whisper.WhisperModel`` on a short context (the samples plus ``pad_s`` s of silence; they
    must fit :func:`fits_short_context`). On 2 cores with base int8 this costs a third of a 30 s window's encoding
    for a 3 s utterance; on real speech it picks the same language as the full window.
    Not thread-safe on its own: callers serialise it with their other calls on ``model``.
    """
    return _detect(model, _encode_short(model, samples, pad_s))


def _encode_short(model: Any, samples: np.ndarray, pad_s: float) -> Any:
    """Whisper's encoder output (a CTranslate2 StorageView) for ``samples`` + ``pad_s`` s of silence."""
    from faster_whisper.transcribe import get_ctranslate2_storage

    frames = int(np.ceil((samples.size / SAMPLE_RATE + pad_s) * 100))
    padded = np.concatenate([samples, np.zeros(int(pad_s * SAMPLE_RATE) + 400, dtype=np.float32)])
    features = model.feature_extractor(padded)[:, : min(frames, int(WINDOW_S * 100))]
    return model.model.encode(get_ctranslate2_storage(np.ascontiguousarray(features[None])), to_cpu=False)


def _detect(model: Any, encoded: Any) -> tuple[str, float]:
    token, probability = model.model.detect_language(encoded)[0][0]  # the best ("<|fr|>", probability)
    return str(token)[2:-2], float(probability)


def decode_short_context(model: Any, samples: np.ndarray, options: ShortDecodeOptions) -> ShortDecode | None:
    """Decode float32 ``(n,)`` 16 kHz ``samples`` with a ``faster_whisper.WhisperModel`` on a short context.

    Returns a :class:`ShortDecode` (one segment spanning the audio, ``text`` may be ``""``; the language used or
    detected), or ``None`` when the decode looks unreliable (a loop or a low mean log-probability) and the
    full-window path should be used instead.
    Not thread-safe on its own: callers serialise it with their other calls on ``model``.
    """
    from faster_whisper.tokenizer import Tokenizer
    from faster_whisper.transcribe import get_compression_ratio, get_suppressed_tokens

    multilingual = bool(model.model.is_multilingual)
    encoded = _encode_short(model, samples, options.pad_s)
    language, probability = (options.language or "en"), 1.0
    if multilingual and options.language is None:
        language, probability = _detect(model, encoded)
    elif not multilingual:
        language = "en"
    tokenizer = Tokenizer(model.hf_tokenizer, multilingual, task="transcribe", language=language)
    prompt: list[int] = []
    if options.prompt:
        prompt = [tokenizer.sot_prev, *tokenizer.encode(" " + options.prompt.strip())]
    prompt += [*tokenizer.sot_sequence, tokenizer.no_timestamps]
    result = model.model.generate(
        encoded,
        [prompt],
        beam_size=max(1, options.beam_size),
        max_length=len(prompt) + options.max_new_tokens,
        return_scores=True,
        return_no_speech_prob=True,
        suppress_blank=True,
        suppress_tokens=list(get_suppressed_tokens(tokenizer, (-1,)) or ()),
    )[0]
    tokens = [t for t in result.sequences_ids[0] if t < tokenizer.eot]
    text = tokenizer.decode(tokens).strip()
    # CTranslate2's score is the sum of token log-probabilities / length (length_penalty 1); faster-whisper's
    # avg_logprob divides the sum by (length + 1).
    avg_logprob = float(result.scores[0]) * len(tokens) / (len(tokens) + 1) if tokens else 0.0
    if text and (
        avg_logprob < MIN_AVG_LOGPROB or get_compression_ratio(text) > MAX_COMPRESSION_RATIO or repeats_itself(text)
    ):
        return None
    segment = Segment(0.0, samples.size / SAMPLE_RATE, text, float(result.no_speech_prob), avg_logprob)
    return ShortDecode(segment, language, float(probability))
