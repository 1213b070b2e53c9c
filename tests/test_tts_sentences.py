"""SentenceStream: a streamed chat answer cut into sentences as soon as each completes (no model, fast)."""

from __future__ import annotations

import random

import pytest

from jarvis_desktop.tts.sentences import CUT_CHARS, FIRST_CUT_CHARS, HARD_CUT_CHARS, SentenceStream


def deltas(text: str, seed: int = 0) -> list[str]:
    """``text`` in 1-4 character pieces, like a chat model's tokens."""
    rng = random.Random(seed)
    out, i = [], 0
    while i < len(text):
        n = rng.randint(1, 4)
        out.append(text[i : i + n])
        i += n
    return out


def stream(text: str, seed: int = 0) -> list[str]:
    s = SentenceStream()
    out: list[str] = []
    for d in deltas(text, seed):
        out += s.feed(d)
    return out + s.flush()


@pytest.mark.parametrize("seed", range(5))
def test_sentences_come_out_whole_and_nothing_is_lost(seed):
    text = "Sure! The meeting moved to Friday. Is that fine? I think so."
    pieces = stream(text, seed)
    assert pieces == ["Sure!", "The meeting moved to Friday.", "Is that fine?", "I think so."]
    assert " ".join(pieces).split() == text.split()


def test_a_sentence_is_given_before_the_answer_ends():
    s = SentenceStream()
    got: list[tuple[int, str]] = []
    text = "The first sentence is done. The model is still writing the second"
    for i, d in enumerate(deltas(text)):
        got += [(i, p) for p in s.feed(d)]
    assert [p for _, p in got] == ["The first sentence is done."]
    first_char_of_next = text.index("The model")
    assert got[0][0] <= len(deltas(text[: first_char_of_next + 1])), "emitted as soon as the next word began"
    assert s.flush() == ["The model is still writing the second"]


@pytest.mark.parametrize(
    "sentence",
    [
        "Dr. Smith will see you at 3 p.m. tomorrow.",
        "Bring something warm, e.g. a coat or a scarf.",
        "Prices rose 3.5 percent in the U.S. Army stores last year.",
        "Well... maybe we should wait.",
        "It is approx. 5 km from here.",
        "Use `os.path. join` for that.",
        "Call extension No. 5 after lunch.",
    ],
)
def test_no_split_inside_abbreviations_numbers_and_ellipses(sentence):
    for seed in range(3):
        assert stream(sentence + " Next one.", seed) == [sentence, "Next one."]


def test_code_block_is_one_piece_even_with_periods_inside():
    text = "Here it is:\n```python\nx = 1. Then y.\nprint(x)\n```\nThat prints one. Done."
    pieces = stream(text, 2)
    assert pieces == ["Here it is:", "```python\nx = 1. Then y.\nprint(x)\n```", "That prints one.", "Done."]


def test_unclosed_code_block_is_held_until_flush():
    s = SentenceStream()
    out = []
    for d in deltas("Run this.\n```bash\nls -l. Then more.\nstill code"):
        out += s.feed(d)
    assert out == ["Run this."]
    assert s.flush() == ["```bash\nls -l. Then more.\nstill code"]


def test_list_items_and_headings_end_at_line_breaks():
    text = "## Shopping\n- milk\n- eggs\n1. First step\n2. Second step"
    assert stream(text) == ["## Shopping", "- milk", "- eggs", "1. First step", "2. Second step"]


def test_long_first_sentence_is_cut_early_at_a_comma():
    opening = "When you travel to the coast next weekend with the whole family"
    text = opening + ", remember to pack sunscreen and water for everyone in the car."
    pieces = stream(text)
    assert pieces[0] == opening + ","
    assert len(pieces[0]) > FIRST_CUT_CHARS
    assert " ".join(pieces).split() == text.split()


def test_short_first_sentence_is_not_cut_at_its_comma():
    text = "Yes, it will rain later today. Take an umbrella."
    assert stream(text) == ["Yes, it will rain later today.", "Take an umbrella."]


def test_later_long_sentence_is_cut_at_a_clause_past_the_limit():
    clause = "and then the road goes on past the old mill and the river bend"
    long_sentence = "Then " + ", ".join([clause] * 6) + "."
    pieces = stream("Okay. " + long_sentence, 1)
    assert pieces[0] == "Okay."
    assert len(pieces) > 2
    assert all(len(p) <= CUT_CHARS + len(clause) + 2 for p in pieces[1:])
    assert all(p.endswith((",", ".")) for p in pieces[1:])
    assert len(pieces[1]) > CUT_CHARS


def test_text_without_any_punctuation_is_cut_at_a_space():
    words = " ".join(f"word{i}" for i in range(120))
    pieces = stream("Fine. " + words)
    assert all(len(p) <= HARD_CUT_CHARS for p in pieces)
    assert " ".join(pieces).split() == ["Fine."] + words.split()


def test_flush_resets_the_stream_for_the_next_answer():
    s = SentenceStream()
    s.feed("An unfinished thought")
    assert s.flush() == ["An unfinished thought"]
    assert s.flush() == []
    assert s.feed("New answer. ") == []
    assert s.feed("More") == ["New answer."]


def test_empty_and_blank_deltas_give_nothing():
    s = SentenceStream()
    assert s.feed("") == []
    assert s.feed("   \n\n ") == []
    assert s.flush() == []
