"""English number words -> integers, for the date-key grammar (spec section 2, rule 3: number words
and digits are equivalent).

Works on *normalised tokens*: lowercase words without punctuation, hyphenated compounds already split
("twenty-five" -> ["twenty", "five"]). Covers zero..nine hundred ninety-nine thousand, "a hundred",
"one hundred and five", and ordinals ("third", "21st"). "a"/"an", "half", "quarter" and "couple" are
*not* numbers here: whether "a" means 1 depends on the unit that follows ("a minute" vs "a few minutes"),
so the duration grammar in :mod:`jarvis_desktop.nlu.datekeys` decides that.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

UNITS: dict[str, int] = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
}
TEENS: dict[str, int] = {
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
TENS: dict[str, int] = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fourty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
ORDINALS: dict[str, int] = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
    "eleventh": 11,
    "twelfth": 12,
    "thirteenth": 13,
    "fourteenth": 14,
    "fifteenth": 15,
    "sixteenth": 16,
    "seventeenth": 17,
    "eighteenth": 18,
    "nineteenth": 19,
    "twentieth": 20,
    "thirtieth": 30,
}
#: every word that can start or continue a number
NUMBER_WORDS = frozenset(UNITS) | frozenset(TEENS) | frozenset(TENS) | {"hundred", "thousand"}

_ORDINAL_DIGITS_RE = re.compile(r"^(\d+)(?:st|nd|rd|th)$")
_WORD_RE = re.compile(r"[A-Za-z]+|\d+")


def word_value(word: str) -> int | None:
    """The value of one number word (``"seven" -> 7``, ``"forty" -> 40``) or a digit string
    (``"42" -> 42``); None for anything else (including "hundred", which needs a multiplicand)."""
    w = word.lower()
    if w.isdigit():
        return int(w)
    return UNITS.get(w, TEENS.get(w, TENS.get(w)))


@dataclass
class _NumberState:
    """A number being read: ``total`` (thousands) + ``current``, the kind of the ``last`` word read
    ("unit", "teen", "tens", "hundred", "thousand") and whether any word was used (``got``)."""

    current: int = 0
    total: int = 0
    last: str = ""
    got: bool = False

    def take(self, w: str) -> bool:
        """Add word ``w``; False when English does not combine it with what was read."""
        if w in UNITS or w in TEENS:
            return self._small(w)
        if w in TENS:
            if self.last in ("unit", "teen", "tens"):
                return False
            self.current += TENS[w]
            self.last = "tens"
            return True
        if w == "hundred":
            return self._hundred()
        if w == "thousand":
            return self._thousand()
        return False

    def _small(self, w: str) -> bool:
        if self.last in ("unit", "teen") or (self.last == "tens" and (w in TEENS or w == "zero")):
            return False
        self.current += UNITS.get(w, TEENS.get(w, 0))
        self.last = "teen" if w in TEENS else "unit"
        return True

    def _hundred(self) -> bool:
        if (
            self.last == "hundred"
            or (self.got and self.current % 100 == 0 and self.current != 0)
            or self.current >= 100
        ):
            return False
        self.current = (self.current if self.got else 1) * 100
        self.last = "hundred"
        return True

    def _thousand(self) -> bool:
        if self.last == "thousand" or self.total:
            return False
        self.total = (self.current if self.got else 1) * 1000
        self.current = 0
        self.last = "thousand"
        return True


def _joining_and(words: Sequence[str], j: int, last: str) -> bool:
    """ "and" inside a number: "one hundred and five", "two thousand and twenty"."""
    nxt = words[j + 1] if j + 1 < len(words) else ""
    return words[j] == "and" and last in ("hundred", "thousand") and (nxt in UNITS or nxt in TEENS or nxt in TENS)


def parse_number(words: Sequence[str], start: int = 0) -> tuple[int, int] | None:
    """Parse the longest number written in words at ``words[start:]``.

    Args:
        words: normalised lowercase tokens (no hyphens, no punctuation).
        start: index of the first token to read.

    Returns:
        ``(value, end)`` with ``end`` the index after the last token used, or None when
        ``words[start]`` does not start a number. Adjacent numbers that English does not combine stay
        apart, so clock readings survive: ``["three", "thirty"]`` parses as 3 (end=1), then 30;
        ``["twenty", "five"]`` parses as 25; ``["nineteen", "hundred"]`` as 1900;
        ``["a", "hundred", "and", "twenty"]`` as 120; ``["one", "and", "a", "half"]`` as 1.
    """
    n = len(words)
    j = start
    if j < n and words[j] in ("a", "an") and j + 1 < n and words[j + 1] in ("hundred", "thousand"):
        j += 1  # "a hundred" = one hundred; the "a" is handled as 1 below
        state = _NumberState(current=1, last="unit", got=True)
    else:
        state = _NumberState()
    while j < n:
        if _joining_and(words, j, state.last):
            j += 1
            continue
        if not state.take(words[j]):
            break
        state.got = True
        j += 1
    if not state.got:
        return None
    return state.total + state.current, j


def words_to_number(text: str) -> int | None:
    """The whole of ``text`` read as one number: ``"twenty-five" -> 25``, ``"One hundred and five"
    -> 105``, ``"42" -> 42``; None when it is not exactly one number."""
    words = [w.lower() for w in _WORD_RE.findall(text)]
    if len(words) == 1 and words[0].isdigit():
        return int(words[0])
    parsed = parse_number(words) if words else None
    if parsed is None or parsed[1] != len(words):
        return None
    return parsed[0]


def ordinal_value(word: str) -> int | None:
    """``"third" -> 3``, ``"21st" -> 21``, ``"twentieth" -> 20``; None when not an ordinal."""
    w = word.lower()
    m = _ORDINAL_DIGITS_RE.match(w)
    if m:
        return int(m.group(1))
    return ORDINALS.get(w)


def normalize_numbers(text: str) -> str:
    """``text`` with runs of number words replaced by digits, e.g.
    ``"set a timer for twenty-five minutes" -> "set a timer for 25 minutes"``.

    Only runs of number words change; everything else (case, punctuation) is kept. Clock readings stay
    separate: ``"at three thirty" -> "at 3 30"``.
    """
    matches = list(re.finditer(r"[A-Za-z]+", text))
    words = [m.group(0).lower() for m in matches]
    out: list[str] = []
    pos = 0
    i = 0
    while i < len(words):
        if words[i] in NUMBER_WORDS or (
            words[i] in ("a", "an") and i + 1 < len(words) and words[i + 1] in ("hundred", "thousand")
        ):
            limit = i + 1  # a number never spans punctuation: "thirty. One" is 30 then 1
            while limit < len(words) and re.fullmatch(
                r"[\s-]*", text[matches[limit - 1].end() : matches[limit].start()]
            ):
                limit += 1
            parsed = parse_number(words[:limit], i)
            if parsed is not None:
                value, end = parsed
                out.append(text[pos : matches[i].start()])
                out.append(str(value))
                pos = matches[end - 1].end()
                i = end
                continue
        i += 1
    out.append(text[pos:])
    return "".join(out)
