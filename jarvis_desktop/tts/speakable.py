"""Text for the ear: :func:`speakable` turns a reply (Markdown, code, URLs, times, numbers, emoji) into words.

The steps, in order: Markdown and code (``speakable_markdown``), links, abbreviations, clock times and dates
(``speakable_clock``), money, measures and numbers (``speakable_numbers``), then symbols: "&" is "and", "+"
before a number "plus", "=" "equals", "a/b" "a or b"; dashes become pauses; emoji and every other symbol are
dropped, so no reply ever makes the voice say "asterisk", "hash" or "slash". The rules and examples are in
docs/speech.md.
"""

from __future__ import annotations

import re
import unicodedata

from jarvis_desktop.tts.speakable_clock import speak_clock
from jarvis_desktop.tts.speakable_markdown import speak_links, strip_markdown
from jarvis_desktop.tts.speakable_numbers import speak_measures, speak_money, speak_numbers
from jarvis_desktop.tts.speakable_words import ABBREVIATIONS, SENTENCE_FINAL_ABBREVIATIONS

KEPT_PUNCTUATION = frozenset(".,!?;:'-()")
"""The only non-letter, non-digit characters :func:`speakable` leaves in its output (they make pauses)."""

_ABBREVIATION = re.compile(
    r"(?<![\w.])(" + "|".join(re.escape(a) for a in sorted(ABBREVIATIONS, key=len, reverse=True)) + r")(?![\w])"
)
_NUMBER_SIGN = re.compile(r"(?<![\w&])#\s?(?=\d)|\b(?:No|no|Nr|nr)\.\s?(?=\d)")
_WORD_SLASH = re.compile(r"(?<=[A-Za-z])/(?=[A-Za-z])")
_SYMBOL_WORDS = (
    (re.compile(r"\s*&\s*|\s+&amp;\s+"), " and "),
    (re.compile(r"(?<![\w+])\+(?=\s?\d)"), "plus "),
    (re.compile(r"\s+=\s+"), " equals "),
    (re.compile(r"\s*(?:—|–|--|\s-\s)\s*"), ", "),
    (re.compile(r"…|\.{3,}"), "..."),
    (re.compile(r"[’‘`´]"), "'"),
)
_LONE_HYPHEN = re.compile(r"(?<![A-Za-z])-|-(?![A-Za-z])")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([.,!?;:)])")
_REPEATED = re.compile(r"([,;:])(?:\s*[,;:])+|,\s*(?=[.!?])|\(\s*\)")
_STRAY_LEAD = re.compile(r"^[\s.,;:!?)]+")


def _abbreviation(m: re.Match[str]) -> str:
    short = m.group(1)
    words = ABBREVIATIONS[short]
    if short in SENTENCE_FINAL_ABBREVIATIONS:
        rest = m.string[m.end() : m.end() + 8].lstrip()
        if not rest or rest[0].isupper():
            words += "."
    return words


def _symbols(text: str) -> str:
    """Symbols with a spoken meaning as words, every other symbol and emoji dropped."""
    text = _WORD_SLASH.sub(" or ", text)
    for pattern, words in _SYMBOL_WORDS:
        text = pattern.sub(words, text)
    kept = [ch if ch.isalnum() or ch.isspace() or ch in KEPT_PUNCTUATION else " " for ch in text]
    return _LONE_HYPHEN.sub(" ", "".join(kept))


def _tidy(text: str) -> str:
    text = unicodedata.normalize("NFC", " ".join(text.split()))
    text = _SPACE_BEFORE_PUNCT.sub(r"\1", text)
    previous = None
    while previous != text:
        previous, text = text, _REPEATED.sub(lambda m: m.group(1) or "", text)
        text = _SPACE_BEFORE_PUNCT.sub(r"\1", " ".join(text.split()))
    return _STRAY_LEAD.sub("", text)


_CITATION_MARK = re.compile(r"[ \t]?\[\d{1,3}\](?!\()")


def speakable(text: str) -> str:
    """The words a voice should say for ``text``; ``""`` when nothing is speakable (empty, emoji only, symbols).

    Examples (docs/speech.md has the full list): ``"Alarm set for tomorrow 07:30."`` -> ``"Alarm set for
    tomorrow at seven thirty a m."``; ``"**Note:** see https://example.com"`` -> ``"Note: see a link to
    example dot com"``; ``"It costs $4.50 (approx.)"`` -> ``"It costs four dollars and fifty cents
    (approximately)"``. The output holds only letters, digits in words, spaces and :data:`KEPT_PUNCTUATION`.
    Pure and thread-safe; never raises on odd text.
    """
    text = strip_markdown(_CITATION_MARK.sub("", text.replace("\r\n", "\n")))  # "[1]": a grounded answer's citation
    text = speak_links(text)
    text = _ABBREVIATION.sub(_abbreviation, text)
    text = _NUMBER_SIGN.sub(lambda m: "Number " if m.group(0).startswith("N") else "number ", text)
    text = speak_clock(text)
    text = speak_numbers(speak_measures(speak_money(text)))
    return _tidy(_symbols(text))
