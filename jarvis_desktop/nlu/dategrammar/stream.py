"""The token stream the matchers read, with what the whole utterance says (timer, alarm, volume), and
the date expressions (items) they find in it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from jarvis_desktop.nlu.dategrammar.tokens import Token
from jarvis_desktop.nlu.dategrammar.words import ALARM_WORDS, TIMER_WORDS

#: ``key``: a finished key; ``day``: today/tomorrow/... that may take a part of day; ``part``: a part of
#: day; ``clock``: a clock time (its key is set by the am/pm rules); ``dur``: a duration (a key only for
#: timers); ``void``: a vague or past expression, consumed, giving no key
ItemKind = Literal["key", "day", "part", "clock", "dur", "void"]


@dataclass(slots=True)
class Item:
    """A date expression over tokens ``start .. end - 1`` (token indices, not characters).

    Clock items carry ``hour``/``minute`` as said (12-hour unless ``fixed24``), ``meridiem`` ("am"/"pm")
    when said, and ``part`` the part of day that disambiguates them ("at 7 in the morning"). Duration
    items carry ``seconds`` (:data:`.durations.VAGUE` for a vague one). ``attached``: a part of day that
    belongs to a weekday ("friday morning"); ``dropped``: removed by a post-pass.
    """

    kind: ItemKind
    key: str | None
    start: int
    end: int
    hour: int = 0
    minute: int = 0
    meridiem: str | None = None
    fixed24: bool = False
    part: str | None = None
    seconds: float | None = None
    attached: bool = False
    dropped: bool = False


@dataclass
class TokenStream:
    """The tokens of one utterance and the intent hint; ``word(j)``/``value(j)``/``token(j)`` read
    position ``j`` and give ""/None outside the stream.

    Flags: ``timer_word`` (the text says "timer", "countdown", "count down", "stopwatch", "snooze"),
    ``timer`` (that, or the intent is ``timer_set``), ``alarm_intent`` (intent ``alarm_set``), ``alarm``
    (that, or an alarm/wake word), ``no_bare_hours`` (volume or media: "at 5" is not a time).
    """

    tokens: list[Token]
    intent: str | None
    words: list[str] = field(init=False)
    timer_word: bool = field(init=False)
    timer: bool = field(init=False)
    alarm_intent: bool = field(init=False)
    alarm: bool = field(init=False)
    no_bare_hours: bool = field(init=False)

    def __post_init__(self) -> None:
        self.words = [t.text for t in self.tokens]
        wordset = set(self.words)
        self.timer_word = bool(wordset & TIMER_WORDS) or self._has_count_down()
        self.timer = self.intent == "timer_set" or self.timer_word
        self.alarm_intent = self.intent == "alarm_set"
        self.alarm = self.alarm_intent or bool(wordset & ALARM_WORDS)
        self.no_bare_hours = self.intent in ("volume_set", "media_control") or "volume" in wordset

    def _has_count_down(self) -> bool:
        ws = self.words
        return any(ws[k] == "count" and ws[k + 1] == "down" for k in range(len(ws) - 1))

    @property
    def size(self) -> int:
        """Number of tokens."""
        return len(self.tokens)

    def word(self, j: int) -> str:
        """The normalised word at ``j`` ("" outside the stream)."""
        return self.words[j] if 0 <= j < len(self.words) else ""

    def value(self, j: int) -> int | None:
        """The integer value of the token at ``j`` (None for words and outside the stream)."""
        return self.tokens[j].value if 0 <= j < len(self.tokens) else None

    def token(self, j: int) -> Token | None:
        """The token at ``j`` (None outside the stream)."""
        return self.tokens[j] if 0 <= j < len(self.tokens) else None
