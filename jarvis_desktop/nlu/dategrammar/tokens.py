"""Tokens of the date grammar: the original text split into normalised words and numbers with their
character offsets.

Normalisation: lowercase, no punctuation, "p.m." -> "pm", "o'clock" -> "oclock", "friday's" -> "friday",
fillers ("uh", "um", "please", ...) dropped, "a m"/"p m" after a number merged, and runs of number words
("twenty five", "a hundred and ten") merged into one number token.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from jarvis_desktop.nlu.dategrammar.words import FILLERS
from jarvis_desktop.nlu.numbers import NUMBER_WORDS, parse_number

_TOKEN_RE = re.compile(
    r"(?P<ampm>(?<![^\W\d_])[aApP]\s?\.\s?[mM]\b\.?)"
    r"|(?P<num>\d+(?:[:.]\d+)?)"
    r"|(?P<word>[^\W\d_]+(?:['\u2019][^\W\d_]+)*)"
    r"|(?P<sym>[@%&])"
)
_SYMBOLS = {"@": "@", "%": "%", "&": "and"}
#: a run of number words is at most this many tokens long
_MAX_NUMBER_WORDS = 8


@dataclass(slots=True)
class Token:
    """One normalised token over ``text[start:end]`` of the original text.

    ``text``: the normalised word, or the digits as written ("7", "3:30"), or the value of merged number
    words ("25"); ``value``: its integer value (None for words, decimals and "3:30"); ``number``: its
    float value ("1.5" -> 1.5; None for words and "3:30"); ``clock``: (hour, minute) when the token alone
    reads as a clock time ("3:30", "930", "1530", "nineteen hundred"); ``minute_like``: a two-digit
    number or a spoken 10..59 ("30", "05", "thirty"); ``spelled``: written in words; ``leading_zero``:
    written with a leading zero ("07", "07:30"); ``separator``: ":" or "." inside the number, else "".
    """

    text: str
    start: int
    end: int
    value: int | None = None
    number: float | None = None
    clock: tuple[int, int] | None = None
    minute_like: bool = False
    spelled: bool = False
    leading_zero: bool = False
    separator: str = ""


def _separated_number(text: str, start: int, end: int) -> Token:
    """ "3:30", "7.45", "1.5" (digits with ":" or ".")."""
    tok = Token(text, start, end)
    sep = ":" if ":" in text else "."
    whole, frac = text.split(sep)
    tok.separator = sep
    tok.number = float(whole + "." + frac) if sep == "." else None
    if len(frac) == 2 and int(whole) <= 24 and int(frac) <= 59 and len(whole) <= 2:
        tok.clock = (int(whole), int(frac))
        tok.leading_zero = len(whole) == 2 and whole[0] == "0"
    return tok


def _number(text: str, start: int, end: int) -> Token:
    """A digit token: "7", "30", "0700", "1530"."""
    if ":" in text or "." in text:
        return _separated_number(text, start, end)
    tok = Token(text, start, end)
    tok.value = int(text) if len(text) <= 9 else None
    tok.number = float(tok.value) if tok.value is not None else None
    tok.minute_like = len(text) == 2
    tok.leading_zero = len(text) >= 2 and text[0] == "0"
    if len(text) in (3, 4) and tok.value is not None:
        hours, minutes = divmod(tok.value, 100)
        if hours <= 23 and minutes <= 59:
            tok.clock = (hours, minutes)
    return tok


def _word(text: str, start: int, end: int) -> Token | None:
    """A word token, normalised; None for a filler."""
    word = text.lower().replace("\u2019", "'")
    if word in ("o'clock", "o'clk"):
        word = "oclock"
    elif word.endswith("'s"):
        word = word[:-2]
    elif "'" in word:
        word = word.replace("'", "")
    if word in FILLERS:
        return None
    return Token(word, start, end)


def _raw_tokens(text: str) -> list[Token]:
    """Tokens as matched, before any merging."""
    raw: list[Token] = []
    for match in _TOKEN_RE.finditer(text):
        kind, start, end, found = match.lastgroup, match.start(), match.end(), match.group()
        tok: Token | None
        if kind == "ampm":
            tok = Token("am" if found[0] in "aA" else "pm", start, end)
        elif kind == "num":
            tok = _number(found, start, end)
        elif kind == "word":
            tok = _word(found, start, end)
        else:
            tok = Token(_SYMBOLS[found], start, end)
        if tok is not None:
            raw.append(tok)
    return raw


def _number_words(raw: list[Token], i: int) -> tuple[Token, int] | None:
    """A run of number words at ``raw[i]`` as one number token, and how many raw tokens it used."""
    words: list[str] = []
    j = i
    while (
        j < len(raw)
        and (raw[j].text in NUMBER_WORDS or raw[j].text in ("a", "an", "and"))
        and j - i < _MAX_NUMBER_WORDS
    ):
        words.append(raw[j].text)
        j += 1
    parsed = parse_number(words, 0)
    if parsed is None:
        return None
    value, used = parsed
    tok = Token(str(value), raw[i].start, raw[i + used - 1].end, value=value, number=float(value))
    tok.spelled = True
    tok.minute_like = 10 <= value <= 59
    if value >= 100 and value % 100 == 0 and value // 100 <= 24:
        tok.clock = (value // 100, 0)  # "nineteen hundred" (hours)
    return tok, used


def _merged(raw: list[Token], i: int, out: list[Token]) -> tuple[Token, int] | None:
    """The merged token starting at ``raw[i]`` ("a m" after a number, "o clock", number words) and the
    count of raw tokens it covers; None when ``raw[i]`` stays as it is."""
    word = raw[i].text
    nxt = raw[i + 1].text if i + 1 < len(raw) else ""
    if word in ("a", "p") and nxt == "m" and out and (out[-1].value is not None or out[-1].clock):
        return Token("am" if word == "a" else "pm", raw[i].start, raw[i + 1].end), 2
    if word == "o" and nxt in ("clock", "clk"):
        return Token("oclock", raw[i].start, raw[i + 1].end), 2
    if word in NUMBER_WORDS or (word in ("a", "an") and nxt in ("hundred", "thousand")):
        return _number_words(raw, i)
    return None


def tokenize(text: str) -> list[Token]:
    """The normalised tokens of ``text``, in order, with character offsets into ``text``."""
    raw = _raw_tokens(text)
    out: list[Token] = []
    i = 0
    while i < len(raw):
        merged = _merged(raw, i, out)
        if merged is None:
            out.append(raw[i])
            i += 1
        else:
            out.append(merged[0])
            i += merged[1]
    return out
