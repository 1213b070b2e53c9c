"""The stable-prefix policy of streaming partial transcripts: LocalAgreement-2 (no model, no audio).

A streaming recogniser re-decodes the growing utterance every few hundred ms; each decode (a *hypothesis*) may
rewrite its last words. LocalAgreement-2 (Machacek et al., "Turning Whisper into Real-Time Transcription System",
2023) shows as *stable* the longest common word prefix of the last two hypotheses, and the rest of the newest one
as *unstable*. Stable words are committed: they stay stable even if a later hypothesis disagrees (the display never
takes back a word it called stable). Words are compared case- and punctuation-insensitively, so "ten," and "Ten"
agree; the newest hypothesis' spelling is what is shown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["LocalAgreement", "PartialText", "common_prefix"]

_EDGE = re.compile(r"^[^\w']+|[^\w']+$")


@dataclass(frozen=True)
class PartialText:
    """One partial: ``stable`` (committed words, space-joined) and ``unstable`` (the newest hypothesis' tail)."""

    stable: str
    unstable: str

    @property
    def text(self) -> str:
        """``stable`` and ``unstable`` joined by one space (either may be empty)."""
        return f"{self.stable} {self.unstable}".strip()


def _key(word: str) -> str:
    return _EDGE.sub("", word).lower()


def common_prefix(a: list[str], b: list[str]) -> int:
    """Number of leading words ``a`` and ``b`` share (compared without case and edge punctuation).

    >>> common_prefix(["Set", "a", "timer."], ["set", "a", "time", "for"])
    2
    """
    n = 0
    for x, y in zip(a, b, strict=False):
        if _key(x) != _key(y):
            break
        n += 1
    return n


class LocalAgreement:
    """LocalAgreement-2 over the hypotheses of one utterance (call :meth:`reset` for the next one).

    Not thread-safe: one caller at a time.
    """

    def __init__(self) -> None:
        self._previous: list[str] = []
        self._committed: list[str] = []

    @property
    def committed(self) -> str:
        """The stable words so far, space-joined."""
        return " ".join(self._committed)

    def reset(self) -> None:
        """Forget the hypotheses and the committed words (a new utterance)."""
        self._previous = []
        self._committed = []

    def update(self, hypothesis: str) -> PartialText:
        """Take the newest decode of the whole utterance so far; returns what to show.

        The committed prefix grows to the words the last two hypotheses share (never shrinks); ``unstable`` is the
        newest hypothesis after as many words as are committed (if it disagrees with them, the committed words are
        shown anyway: a word once stable is never taken back).
        """
        words = hypothesis.split()
        agreed = common_prefix(self._previous, words)
        if agreed > len(self._committed) and common_prefix(self._committed, words) == len(self._committed):
            self._committed = words[:agreed]
        self._previous = words
        return PartialText(" ".join(self._committed), " ".join(words[len(self._committed) :]))
