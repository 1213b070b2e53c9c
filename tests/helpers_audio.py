"""Shared helpers for the audio/STT tests: espeak-ng test speech and transcript normalisation for WER."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from speech import speak

from jarvis_desktop.audio.wav import SAMPLE_RATE, load_audio

POCKETSPHINX_DATA = Path("/usr/share/pocketsphinx/test/data")


def espeak_wav(text: str, out: Path, voice: str = "en-us", speed: int = 150) -> Path:
    """Speak ``text`` with espeak-ng into a 16 kHz mono 16-bit WAV at ``out`` (see ``tests/speech.py``)."""
    return speak(text, out, voice=voice, wpm=speed)


def espeak_audio(text: str, tmp_dir: Path, **kw) -> np.ndarray:
    """espeak-ng speech for ``text`` as float32 16 kHz mono."""
    name = re.sub(r"\W+", "_", text)[:60] or "speech"
    return load_audio(espeak_wav(text, tmp_dir / f"{name}.wav", **kw))


def pad(audio: np.ndarray, before_s: float, after_s: float) -> np.ndarray:
    """Surround ``audio`` with digital silence."""
    return np.concatenate(
        [np.zeros(int(before_s * SAMPLE_RATE), np.float32), audio, np.zeros(int(after_s * SAMPLE_RATE), np.float32)]
    )


_UNITS = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
_SPELLING = {"mr": "mister", "mrs": "missus", "dr": "doctor", "ok": "okay"}


def normalise(text: str) -> str:
    """Lowercase, punctuation and hyphens to spaces, "5pm" -> "5 pm", number words -> digits
    ("twenty five" -> "25"), "Mr." -> "mister": the form both reference and hypothesis are compared in."""
    text = text.lower().replace("'", "")
    text = re.sub(r"(\d)([a-z])", r"\1 \2", text)
    text = re.sub(r"([a-z])(\d)", r"\1 \2", text)
    words = re.sub(r"[^a-z0-9 ]+", " ", text).split()
    out: list[str] = []
    i = 0
    while i < len(words):
        w = _SPELLING.get(words[i], words[i])
        if w in _TENS:
            value = _TENS[w]
            if i + 1 < len(words) and words[i + 1] in _UNITS[1:10]:
                value += _UNITS.index(words[i + 1])
                i += 1
            out.append(str(value))
        elif w in _UNITS:
            out.append(str(_UNITS.index(w)))
        else:
            out.append(w)
        i += 1
    return " ".join(out)


def corpus_wer(references: list[str], hypotheses: list[str]) -> float:
    """Corpus word error rate (jiwer) after :func:`normalise` on both sides."""
    import jiwer

    return jiwer.wer([normalise(r) for r in references], [normalise(h) for h in hypotheses])
