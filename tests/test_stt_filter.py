"""The hallucination filter on decoded segments: known silence phrases go only when the audio is quiet."""

from __future__ import annotations

import numpy as np
import pytest
from helpers_audio import espeak_audio, pad

from jarvis_desktop.audio.wav import SAMPLE_RATE
from jarvis_desktop.stt.whisper import Segment, filter_hallucinations, max_new_tokens, normalise_text


@pytest.fixture(scope="module")
def spoken(tmp_path_factory) -> np.ndarray:
    """1 s of room noise, "thank you" spoken, 1 s of room noise."""
    audio = pad(espeak_audio("thank you", tmp_path_factory.mktemp("filter")), 1.0, 1.0)
    return audio + (np.random.default_rng(0).standard_normal(len(audio)) * 0.002).astype(np.float32)


def seg(text: str, start: float = 1.0, end: float = 1.8, nsp: float = 0.2, lp: float = -0.5) -> Segment:
    return Segment(start, end, text, nsp, lp)


def test_silence_phrase_is_dropped_on_quiet_audio_and_kept_on_speech(spoken):
    quiet = (np.random.default_rng(1).standard_normal(3 * SAMPLE_RATE) * 0.002).astype(np.float32)
    assert filter_hallucinations([seg("Thank you.")], quiet) == []
    assert [s.text for s in filter_hallucinations([seg("Thank you.")], spoken)] == ["Thank you."]
    # A segment placed on the noise before the speech is quiet, even though the clip holds speech.
    assert filter_hallucinations([seg("you", 0.0, 0.8)], spoken) == []


def test_other_text_on_quiet_audio_is_kept_unless_unsure():
    quiet = (np.random.default_rng(2).standard_normal(3 * SAMPLE_RATE) * 0.002).astype(np.float32)
    assert len(filter_hallucinations([seg("turn the volume down")], quiet)) == 1
    assert filter_hallucinations([seg("turn the volume down", nsp=0.9)], quiet) == []


def test_no_speech_probability_with_low_confidence_drops(spoken):
    assert filter_hallucinations([seg("We'll see you next time.", nsp=0.77, lp=-1.47)], spoken) == []
    # A high no_speech_prob alone does not blank clear, confident speech ("No." scored 0.57 here).
    assert len(filter_hallucinations([seg("No.", nsp=0.65, lp=-0.8)], spoken)) == 1


def test_empty_punctuation_annotations_and_guesses_are_dropped(spoken):
    for text in [".", " . . ", "[Music]", "(upbeat music)", "♪ ♪"]:
        assert filter_hallucinations([seg(text)], spoken) == [], text
    assert filter_hallucinations([seg("some words", lp=-2.0)], spoken) == []


def test_normalise_text_and_token_budget():
    assert normalise_text(" We'll see you next time! ") == "well see you next time"
    assert max_new_tokens(2.0) == 40
    assert max_new_tokens(600.0) == 224
