"""Cutting a streamed chat answer into sentences as they complete, so speech starts before the answer ends.

Feed the text deltas as the model writes them; :meth:`SentenceStream.feed` returns each sentence as soon as it
is complete, :meth:`SentenceStream.flush` the rest at the end. A sentence ends at ``.``, ``!``, ``?`` or ``…``
followed by a space and a word that does not start in lower case (so "e.g. the", "3 p.m. tomorrow" and
"wait... what" stay whole), never after a title or short form ("Dr.", "e.g.", "No."), an initialism ("U.S."),
a list number ("1.") or inside a number ("3.5"); a line break also ends one (Markdown headings and list items).
A fenced code block is one piece, given whole when its closing fence arrives. The pieces are raw text: pass each
through :func:`~jarvis_desktop.tts.speakable.speakable` before synthesis.

Long sentences are cut at a clause boundary (``,`` ``;`` ``:`` or a dash, followed by a space):

* the first piece after :data:`FIRST_CUT_CHARS` (60) characters: at the SmolLM2 chat speed measured here
  (35-40 tokens/s, about 4 characters a token, ../shared/notes/stack.md) 60 characters arrive in about 0.4 s,
  so the first audio never waits much longer than that for a long opening sentence;
* later pieces after :data:`CUT_CHARS` (200) characters: by then the voice is busy with about 10-13 s of speech
  (about 15-20 spoken characters a second), so longer pieces cost no delay and keep the intonation whole;
* with no clause boundary at all, at the last space before :data:`HARD_CUT_CHARS` (300) characters.
"""

from __future__ import annotations

import re

from jarvis_desktop.tts.speakable_words import NON_FINAL_ABBREVIATIONS

FIRST_CUT_CHARS = 60
"""A first piece longer than this is cut at its first clause boundary past it (see the module docstring)."""
CUT_CHARS = 200
"""A later piece longer than this is cut at its first clause boundary past it."""
HARD_CUT_CHARS = 300
"""A piece with no clause boundary is cut at its last space before this many characters."""

_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s+(\S))")
_CLAUSE_END = re.compile(r"(?:[,;:]|\s[—–-])(?=\s)")
_FENCES = ("```", "~~~")
_INITIALISM = re.compile(r"^(?:[A-Za-z]\.)*[A-Za-z]\.$")
_OPENERS = "(\"'“‘[*_"


def _is_sentence_end(text: str, m: re.Match[str]) -> bool:
    """True when the punctuation matched by ``_SENTENCE_END`` in ``text`` ends a sentence."""
    if m.group(1).islower() or text.count("`", 0, m.start()) % 2:
        return False
    if text[m.start() : m.end()].rstrip("\"'”’)]") != ".":
        return True
    token = text[text.rfind(" ", 0, m.start()) + 1 : m.start() + 1]
    token = token[token.rfind("\n") + 1 :].lstrip(_OPENERS)
    if token in NON_FINAL_ABBREVIATIONS or _INITIALISM.match(token):
        return False
    return not (token[:-1].isdigit() and not text[: m.start() + 1 - len(token)].strip())


def _fence_at(text: str) -> int:
    found = [i for i in (text.find(f) for f in _FENCES) if i >= 0]
    return min(found) if found else -1


class SentenceStream:
    """Incremental sentence splitter for one streamed answer (not thread-safe: one stream per answer).

    Args:
        first_cut: clause-cut threshold of the first piece, in characters (default :data:`FIRST_CUT_CHARS`).
        cut: clause-cut threshold of later pieces, in characters (default :data:`CUT_CHARS`).
        hard_cut: cut at a space when a piece has no clause boundary, in characters (:data:`HARD_CUT_CHARS`).
    """

    def __init__(self, first_cut: int = FIRST_CUT_CHARS, cut: int = CUT_CHARS, hard_cut: int = HARD_CUT_CHARS) -> None:
        self.first_cut = first_cut
        self.cut = cut
        self.hard_cut = max(hard_cut, first_cut, cut)
        self._buf = ""
        self._pieces = 0

    def feed(self, delta: str) -> list[str]:
        """Add the next delta (any length, even ``""``); returns the pieces completed by it, stripped, in order."""
        self._buf += delta
        return self._drain(final=False)

    def flush(self) -> list[str]:
        """End of the answer: returns the remaining pieces (an unclosed code block whole); the stream is reset."""
        out = self._drain(final=True)
        self._buf, self._pieces = "", 0
        return out

    def _drain(self, final: bool) -> list[str]:
        out: list[str] = []
        while True:
            self._buf = self._buf.lstrip()
            end = self._next_cut(final)
            if end <= 0:
                return out
            piece, self._buf = self._buf[:end].strip(), self._buf[end:]
            if piece:
                out.append(piece)
                self._pieces += 1

    def _next_cut(self, final: bool) -> int:
        """Length of the next complete piece at the start of the buffer; 0 when it is not complete yet."""
        text = self._buf
        if not text:
            return 0
        if text.startswith(_FENCES):
            return self._code_block_end(text, final)
        fence = _fence_at(text)
        span = text[:fence] if fence >= 0 else text
        end = self._sentence_end(span)
        if end:
            return end
        if fence > 0:
            return fence
        end = self._long_cut(span)
        return end or (len(text) if final else 0)

    @staticmethod
    def _code_block_end(text: str, final: bool) -> int:
        fence = text[:3]
        body = text.find("\n")
        close = text.find(fence, body + 1) if body >= 0 else -1
        if close < 0:
            return len(text) if final else 0
        line_end = text.find("\n", close)
        return line_end if line_end >= 0 else close + len(fence)

    @staticmethod
    def _sentence_end(span: str) -> int:
        newline = span.find("\n")
        for m in _SENTENCE_END.finditer(span):
            if 0 <= newline < m.start():
                break
            if _is_sentence_end(span, m):
                return m.end()
        return newline if newline > 0 else 0

    def _long_cut(self, span: str) -> int:
        limit = self.first_cut if self._pieces == 0 else self.cut
        if len(span) <= limit:
            return 0
        for m in _CLAUSE_END.finditer(span, limit):
            if span.count("`", 0, m.start()) % 2 == 0:
                return m.end()
        if len(span) < self.hard_cut:
            return 0
        space = span.rfind(" ", 0, self.hard_cut)
        return space if space > 0 else self.hard_cut
