"""Number words -> integers (spec section 2, rule 3: number words and digits are equivalent)."""

from __future__ import annotations

import pytest

from jarvis_desktop.nlu.numbers import normalize_numbers, ordinal_value, parse_number, word_value, words_to_number


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("zero", 0),
        ("one", 1),
        ("seven", 7),
        ("ten", 10),
        ("twelve", 12),
        ("nineteen", 19),
        ("twenty", 20),
        ("twenty five", 25),
        ("twenty-five", 25),
        ("Forty-Five", 45),
        ("fifty nine", 59),
        ("ninety nine", 99),
        ("a hundred", 100),
        ("one hundred", 100),
        ("one hundred and five", 105),
        ("hundred twenty", 120),
        ("one hundred and twenty", 120),
        ("nineteen hundred", 1900),
        ("two thousand three hundred and one", 2301),
        ("42", 42),
    ],
)
def test_words_to_number(text, value):
    assert words_to_number(text) == value


@pytest.mark.parametrize(
    "text",
    ["", "three thirty", "ten twenty", "five four", "twenty thirty", "minutes", "a", "and", "one and a half"],
)
def test_words_that_are_not_one_number(text):
    # clock readings ("three thirty") and lists must not be summed into one number
    assert words_to_number(text) is None


@pytest.mark.parametrize(
    ("words", "start", "expected"),
    [
        (["at", "three", "thirty"], 1, (3, 2)),
        (["three", "thirty"], 1, (30, 2)),
        (["twenty", "five", "minutes"], 0, (25, 2)),
        (["nineteen", "thirty"], 0, (19, 1)),
        (["one", "and", "a", "half"], 0, (1, 1)),
        (["a", "hundred", "and", "ten", "minutes"], 0, (110, 4)),
        (["at", "noon"], 0, None),
        (["a", "minute"], 0, None),
    ],
)
def test_parse_number_stops_where_english_stops(words, start, expected):
    assert parse_number(words, start) == expected


@pytest.mark.parametrize(
    ("word", "value"), [("third", 3), ("21st", 21), ("2nd", 2), ("twentieth", 20), ("first", 1), ("three", None)]
)
def test_ordinal_value(word, value):
    assert ordinal_value(word) == value


@pytest.mark.parametrize(("word", "value"), [("Seven", 7), ("forty", 40), ("12", 12), ("hundred", None), ("x", None)])
def test_word_value(word, value):
    assert word_value(word) == value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("set a timer for twenty-five minutes", "set a timer for 25 minutes"),
        ("At three thirty, call Ana.", "At 3 30, call Ana."),
        ("thirty. One more", "30. 1 more"),
        ("no numbers here", "no numbers here"),
        ("a hundred and ten", "110"),
    ],
)
def test_normalize_numbers(text, expected):
    assert normalize_numbers(text) == expected
