"""Cut a document's text into chunks that keep their heading path and position (docs/knowledge.md).

The extractors (:mod:`.extract`) turn a file into :class:`Section` s: the text under one heading (on one PDF page),
as :class:`Paragraph` s that know their 1-based line. :func:`chunk_sections` packs each section's sentences into
chunks of about :data:`TARGET_WORDS` words (never more than :data:`MAX_WORDS`), the next chunk starting with the
last sentence or two of the one before (at most :data:`OVERLAP_WORDS` words), and never across a section: a chunk
has one heading path, one page and the line of its first sentence.

Why these sizes: the default embedder (all-MiniLM-L6-v2) reads at most 256 word pieces and drops the rest; English
runs at about 1.3 word pieces a word, so ~180 words plus the heading path fit in that window whole, and a passage
of that size is still short enough to quote to the chat model (five of them are ~1,200 tokens).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from jarvis_desktop.knowledge.types import Chunk, Location

#: a chunk is closed once it holds this many words ...
TARGET_WORDS = 180
#: ... and never grows past this many (a longer sentence is cut into pieces of this size)
MAX_WORDS = 240
#: the next chunk of a section starts with the previous chunk's last sentences, up to this many words
OVERLAP_WORDS = 40
#: the separator of a heading path (Location.heading)
HEADING_SEPARATOR = " > "

# a sentence ends with . ! ? (optionally closed by quotes/brackets) followed by white space
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+")


@dataclass(frozen=True)
class Paragraph:
    """A block of text (a paragraph, a list item, a code block) and the 1-based line it starts on (None: no line,
    e.g. a PDF page)."""

    text: str
    line: int | None = None


@dataclass
class Section:
    """The text under one heading path (outermost heading first; empty: before any heading) on one PDF page
    (None for other formats), in reading order."""

    headings: tuple[str, ...] = ()
    page: int | None = None
    paragraphs: list[Paragraph] = field(default_factory=list)


@dataclass(frozen=True)
class _Unit:
    """A sentence (or a piece of an over-long one): the smallest thing a chunk is made of."""

    text: str
    words: int
    line: int | None
    paragraph: int  # index of its paragraph in the section: units of one paragraph are joined with a space


def heading_path(headings: Iterable[str]) -> str:
    """The heading path as :attr:`Location.heading` holds it: "Guide > Install > Linux" ("" for none)."""
    return HEADING_SEPARATOR.join(h for h in headings if h)


class _Lines:
    """The line of each offset into a text, for offsets met in increasing order (linear in the text's length)."""

    def __init__(self, text: str, first_line: int | None) -> None:
        self.text = text
        self.line = first_line
        self.offset = 0

    def at(self, offset: int) -> int | None:
        if self.line is not None and offset > self.offset:
            self.line += self.text.count("\n", self.offset, offset)
            self.offset = offset
        return self.line


def _split_long(text: str, lines: _Lines, base: int, paragraph: int, max_words: int) -> Iterator[_Unit]:
    """Cut a sentence (at ``base`` in the paragraph) of more than ``max_words`` words into pieces of ``max_words``
    words, each with its line."""
    matches = list(re.finditer(r"\S+", text))
    for i in range(0, len(matches), max_words):
        part = matches[i : i + max_words]
        start, end = part[0].start(), part[-1].end()
        yield _Unit(text[start:end], len(part), lines.at(base + start), paragraph)


def _units(paragraphs: list[Paragraph], max_words: int) -> Iterator[_Unit]:
    """The section's sentences in order; a paragraph that fits in a chunk stays whole (lists, code, tables)."""
    for index, para in enumerate(paragraphs):
        text = para.text.strip()
        if not text:
            continue
        lead = len(para.text) - len(para.text.lstrip())
        lines = _Lines(para.text, para.line)
        words = len(text.split())
        if words <= max_words:
            yield _Unit(text, words, lines.at(lead), index)
            continue
        start = 0
        for match in [*_SENTENCE_END.finditer(text), None]:
            end = match.start() if match else len(text)
            sentence = text[start:end].strip()
            if sentence:
                offset = lead + start + (len(text[start:end]) - len(text[start:end].lstrip()))
                count = len(sentence.split())
                if count <= max_words:
                    yield _Unit(sentence, count, lines.at(offset), index)
                else:
                    yield from _split_long(sentence, lines, offset, index, max_words)
            if match:
                start = match.end()


def _join(units: list[_Unit]) -> str:
    parts: list[str] = []
    for i, unit in enumerate(units):
        if i:
            parts.append(" " if unit.paragraph == units[i - 1].paragraph else "\n\n")
        parts.append(unit.text)
    return "".join(parts)


def _pack(units: list[_Unit], target: int, maximum: int, overlap: int) -> Iterator[list[_Unit]]:
    """Greedy packing: close a chunk at ``target`` words (or before it would pass ``maximum``); the next one
    repeats the previous chunk's trailing units that fit in ``overlap`` words. A chunk that could take the whole
    rest of the section without passing ``maximum`` does so, rather than leave a small last chunk."""
    remaining = sum(u.words for u in units)
    current: list[_Unit] = []
    fresh = 0  # units in ``current`` that no earlier chunk holds
    words = 0
    for unit in units:
        if fresh and words + unit.words > maximum:
            yield current
            current = _tail(current, overlap)
            words = sum(u.words for u in current)
            fresh = 0
        while current and not fresh and words + unit.words > maximum:  # the overlap must leave room for the unit
            words -= current.pop(0).words
        current.append(unit)
        fresh += 1
        words += unit.words
        remaining -= unit.words
        if words >= target and words + remaining > maximum:
            yield current
            current = _tail(current, overlap)
            words = sum(u.words for u in current)
            fresh = 0
    if current and fresh:
        yield current


def _tail(units: list[_Unit], overlap: int) -> list[_Unit]:
    tail: list[_Unit] = []
    words = 0
    for unit in reversed(units[1:]):  # never the whole chunk again
        if words + unit.words > overlap:
            break
        tail.insert(0, unit)
        words += unit.words
    return tail


def chunk_sections(
    sections: Iterable[Section],
    target_words: int = TARGET_WORDS,
    max_words: int = MAX_WORDS,
    overlap_words: int = OVERLAP_WORDS,
) -> list[Chunk]:
    """Chunks of the sections in reading order, ``ordinal`` 0, 1, 2, ...

    Each chunk lies inside one section: its :class:`Location` has the section's heading path and page and the line
    of its first sentence (None when the paragraphs have no lines). Sections with no text give no chunk. Word
    counts are white-space separated words. Raises ValueError if ``0 < target_words <= max_words`` does not hold.
    """
    if not 0 < target_words <= max_words:
        raise ValueError(f"need 0 < target_words <= max_words, got {target_words}, {max_words}")
    chunks: list[Chunk] = []
    for section in sections:
        heading = heading_path(section.headings)
        units = list(_units(section.paragraphs, max_words))
        for group in _pack(units, target_words, max_words, max(0, overlap_words)):
            location = Location(page=section.page, heading=heading, line=group[0].line)
            chunks.append(Chunk(ordinal=len(chunks), text=_join(group), location=location))
    return chunks


def chunk_text(text: str, first_line: int | None = None) -> list[Chunk]:
    """Chunks of plain text with no headings (a note, a message): paragraphs are split at blank lines; the line of
    each chunk counts from ``first_line`` (None: chunks carry no line). One chunk when the text is short."""
    paragraphs: list[Paragraph] = []
    line = 1
    for block in re.split(r"(\n[ \t]*\n)", text):
        if block.strip() and not block.isspace():
            paragraphs.append(Paragraph(block, None if first_line is None else first_line + line - 1))
        line += block.count("\n")
    return chunk_sections([Section(paragraphs=paragraphs)])
