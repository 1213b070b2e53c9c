"""Rule-based date-key extraction (spec section 2, vocabulary 2.0) with character spans.

Pipeline: tokenise the original text keeping character offsets -> normalise tokens (lowercase, no
punctuation, "p.m." -> "pm", "o'clock" -> "oclock", fillers such as "uh"/"um"/"please" dropped,
runs of number words -> one number token) -> a hand-written grammar over the tokens finds date
expressions (items) -> a post-pass applies the context rules (day + part of day, am/pm from context,
rule 9, timers) -> keys, in the order they appear, filtered by :func:`vocab.is_valid_key`.

Extraction does not depend on the current time (resolution does: :mod:`jarvis_desktop.nlu.resolve`).
It never raises for any string; non-strings raise :class:`BadInputError`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from jarvis_desktop.errors import BadInputError
from jarvis_desktop.nlu import vocab
from jarvis_desktop.nlu.numbers import NUMBER_WORDS, parse_number

__all__ = ["DateSpan", "extract_date_spans", "extract_date_keys"]

#: Only the start of a very long text is read (spoken commands are short); keeps worst-case time low.
MAX_CHARS = 4000


@dataclass(frozen=True)
class DateSpan:
    """One date key and the part of the original text it came from.

    ``text[start:end]`` is the expression (e.g. "tomorrow", "at 3 pm", "in ten minutes", "at 7 in the
    morning"); offsets are Python string indices into the text given to :func:`extract_date_spans`.
    """

    key: str
    start: int
    end: int


# ---------------------------------------------------------------------------------------------
# word lists

_FILLERS = frozenset(["uh", "uhh", "uhm", "um", "umm", "hm", "hmm", "mm", "er", "erm", "ah", "eh", "please", "kindly", "like"])
_WEEKDAYS = {d: d for d in vocab.WEEKDAYS}
_WEEKDAYS.update({d + "s": d for d in vocab.WEEKDAYS})
_WEEKDAYS.update({"tues": "tuesday", "weds": "wednesday", "thurs": "thursday", "wensday": "wednesday"})
_PARTS = {
    "morning": "morning",
    "mornings": "morning",
    "afternoon": "afternoon",
    "afternoons": "afternoon",
    "evening": "evening",
    "evenings": "evening",
    "night": "night",
    "nights": "night",
}
_TOMORROW = frozenset({"tomorrow", "tomorow", "tommorow", "tommorrow", "tmrw", "tmr", "morrow"})
_TONIGHT = frozenset({"tonight", "tonite", "tonigh"})
_PERIOD_UNITS = {
    "week": "week",
    "weeks": "week",
    "weekend": "weekend",
    "weekends": "weekend",
    "month": "month",
    "months": "month",
    "year": "year",
    "years": "year",
}
_MEALS = {
    "breakfast": "breakfast",
    "brunch": "breakfast",
    "lunch": "lunch",
    "dinner": "dinner",
    "supper": "dinner",
    "tea": None,
}
_MEAL_TIME_WORDS = {
    "lunchtime": "during_lunch",
    "dinnertime": "at_dinner",
    "suppertime": "at_dinner",
    "breakfasttime": "at_breakfast",
}
_UNIT_SECONDS = {
    "second": 1,
    "seconds": 1,
    "sec": 1,
    "secs": 1,
    "minute": 60,
    "minutes": 60,
    "min": 60,
    "mins": 60,
    "minuite": 60,
    "minuites": 60,
    "hour": 3600,
    "hours": 3600,
    "hr": 3600,
    "hrs": 3600,
    "day": 86400,
    "days": 86400,
    "week": 604800,
    "weeks": 604800,
    "wk": 604800,
    "wks": 604800,
    "fortnight": 1209600,
    "fortnights": 1209600,
}
#: single letters are units only when glued to digits ("10m", "2h", "30s")
_UNIT_LETTERS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
#: units that cannot be written as in_N_minutes / in_N_days (months and years vary in length)
_UNSUPPORTED_UNITS = frozenset({"month", "months", "year", "years", "decade", "decades"})
_VAGUE_QTY = frozenset({"few", "several", "some", "couple", "many", "bunch", "number", "handful", "coupla"})
_APPROX = frozenset(
    {
        "about",
        "around",
        "roughly",
        "approximately",
        "approx",
        "just",
        "exactly",
        "precisely",
        "another",
        "only",
        "maybe",
        "perhaps",
        "abt",
    }
)
_CLOCK_PREPS = frozenset(
    {"at", "by", "around", "till", "til", "until", "before", "after", "from", "since", "@", "between", "to"}
)
_NOT_AFTER_HOUR = frozenset(
    set(_UNIT_SECONDS)
    | _UNSUPPORTED_UNITS
    | {
        "percent",
        "%",
        "per",
        "degrees",
        "degree",
        "times",
        "people",
        "persons",
        "dollars",
        "euros",
        "pounds",
        "items",
        "things",
        "songs",
        "tracks",
        "of",
        "out",
        "more",
        "less",
        "point",
        "th",
        "st",
        "nd",
        "rd",
        "x",
        "k",
        "gb",
        "mb",
        "kb",
    }
)
_NOON_WORDS = frozenset({"noon", "midday", "midnight"})
_PLURAL_UNITS = frozenset({"seconds", "minutes", "hours", "days", "weeks", "months", "years"})
#: words before a bare number that make "<n> in the morning" a count, not a clock time ("chapter four ...")
_NOT_CLOCK_BEFORE = frozenset(
    ["chapter", "chapters", "page", "pages", "episode", "episodes", "season", "level", "room", "floor", "row", "gate", "track", "number", "no", "part", "step", "section", "lesson", "unit", "volume", "book", "act", "scene", "bus", "route", "line", "platform", "table", "seat", "apartment", "flat", "building", "exit", "highway", "channel", "for", "the", "a", "an", "take", "takes", "took", "eat", "buy", "drink", "have", "get", "give", "top", "size", "version", "grade", "class", "year", "years", "age", "aged", "verse", "player", "team", "plus", "minus", "times", "of", "than", "only", "all", "those", "these", "first", "last"]
)
_TIMER_WORDS = frozenset({"timer", "timers", "countdown", "snooze", "stopwatch"})
_WAKE_WORDS = frozenset({"wake", "waking", "wakeup", "woken"})
_ALARM_WORDS = frozenset({"alarm", "alarms"}) | _WAKE_WORDS

# cue kinds for am/pm from context (rule 8)
_CUE_OF_PART = {"morning": "morning", "afternoon": "afternoon", "evening": "evening", "night": "night"}

_TOKEN_RE = re.compile(
    r"(?P<ampm>(?<![^\W\d_])[aApP]\s?\.\s?[mM]\b\.?)"
    r"|(?P<num>\d+(?:[:.]\d+)?)"
    r"|(?P<word>[^\W\d_]+(?:['\u2019][^\W\d_]+)*)"
    r"|(?P<sym>[@%&])"
)


class _Tok:
    """A normalised token: ``w`` text, ``num`` integer value (numbers), ``fnum`` float value,
    ``hm`` (hour, minute) when the token itself reads as a clock time, ``two`` True for a
    minute-like number ("30", "05", "thirty"), ``words`` True when written in words."""

    __slots__ = ("w", "num", "fnum", "hm", "two", "words", "start", "end", "lead0", "sep")

    def __init__(self, w: str, start: int, end: int) -> None:
        self.w = w
        self.start = start
        self.end = end
        self.num: int | None = None
        self.fnum: float | None = None
        self.hm: tuple[int, int] | None = None
        self.two = False
        self.words = False
        self.lead0 = False
        self.sep = ""


def _tokenize(text: str) -> list[_Tok]:
    raw: list[_Tok] = []
    for m in _TOKEN_RE.finditer(text):
        kind = m.lastgroup
        s, e = m.start(), m.end()
        g = m.group()
        if kind == "ampm":
            raw.append(_Tok("am" if g[0] in "aA" else "pm", s, e))
        elif kind == "num":
            t = _Tok(g, s, e)
            if ":" in g or "." in g:
                sep = ":" if ":" in g else "."
                a, b = g.split(sep)
                t.sep = sep
                t.fnum = float(a + "." + b) if sep == "." else None
                if sep == "." and len(b) != 2:
                    t.num = None  # a decimal such as "1.5"
                if len(b) == 2 and int(a) <= 24 and int(b) <= 59 and len(a) <= 2:
                    t.hm = (int(a), int(b))
                    t.lead0 = len(a) == 2 and a[0] == "0"
            else:
                t.num = int(g) if len(g) <= 9 else None
                t.fnum = float(t.num) if t.num is not None else None
                t.two = len(g) == 2
                t.lead0 = len(g) >= 2 and g[0] == "0"
                if len(g) in (3, 4) and t.num is not None:
                    hh, mm = divmod(t.num, 100)
                    if hh <= 23 and mm <= 59:
                        t.hm = (hh, mm)
            raw.append(t)
        elif kind == "word":
            w = g.lower().replace("\u2019", "'")
            if w in ("o'clock", "o'clk"):
                w = "oclock"
            elif w.endswith("'s"):
                w = w[:-2]
            elif "'" in w:
                w = w.replace("'", "")
            if w in _FILLERS:
                continue
            raw.append(_Tok(w, s, e))
        else:
            raw.append(_Tok({"@": "@", "%": "%", "&": "and"}[g], s, e))
    # merge "a m"/"p m" after a number, "o clock", and runs of number words
    out: list[_Tok] = []
    i = 0
    n = len(raw)
    while i < n:
        t = raw[i]
        w = t.w
        if w in ("a", "p") and i + 1 < n and raw[i + 1].w == "m" and out and (out[-1].num is not None or out[-1].hm):
            nt = _Tok("am" if w == "a" else "pm", t.start, raw[i + 1].end)
            out.append(nt)
            i += 2
            continue
        if w == "o" and i + 1 < n and raw[i + 1].w in ("clock", "clk"):
            out.append(_Tok("oclock", t.start, raw[i + 1].end))
            i += 2
            continue
        if w in NUMBER_WORDS or (w in ("a", "an") and i + 1 < n and raw[i + 1].w in ("hundred", "thousand")):
            j = i
            words = []
            while j < n and (raw[j].w in NUMBER_WORDS or raw[j].w in ("a", "an", "and")) and j - i < 8:
                words.append(raw[j].w)
                j += 1
            parsed = parse_number(words, 0)
            if parsed is not None:
                value, used = parsed
                nt = _Tok(str(value), t.start, raw[i + used - 1].end)
                nt.num = value
                nt.fnum = float(value)
                nt.words = True
                nt.two = 10 <= value <= 59
                if value >= 100 and value % 100 == 0 and value // 100 <= 24:
                    nt.hm = (value // 100, 0)  # "nineteen hundred" (hours)
                out.append(nt)
                i += used
                continue
        out.append(t)
        i += 1
    return out


# ---------------------------------------------------------------------------------------------
# items


class _Item:
    """A date expression found in the token stream, over tokens ``s..e-1``.

    kinds: ``key`` (a finished key), ``day`` (today/tomorrow/yesterday/... that may take a part of
    day), ``part`` (a part of day), ``clock``, ``dur`` (a duration, a key only for timers),
    ``void`` (a vague or past expression: consumed, gives no key).
    """

    __slots__ = ("kind", "key", "s", "e", "h", "m", "mer", "fixed", "part", "secs", "attached", "drop")

    def __init__(self, kind: str, key: str | None, s: int, e: int) -> None:
        self.kind = kind
        self.key = key
        self.s = s
        self.e = e
        self.h = 0
        self.m = 0
        self.mer: str | None = None
        self.fixed = False  # 24-hour reading, no am/pm guess
        self.part: str | None = None  # part of day that disambiguates a clock time ("in the morning")
        self.secs: float | None = None
        self.attached = False  # part of day attached to a weekday ("friday morning")
        self.drop = False


_VAGUE = -1.0
_UNSUPPORTED = -2.0


class _Parser:
    def __init__(self, toks: list[_Tok], intent: str | None) -> None:
        self.t = toks
        self.n = len(toks)
        self.ws = [t.w for t in toks]
        wordset = set(self.ws)
        #: a timer word in the text itself ("timer", "countdown", "count down", "stopwatch")
        self.timer_word = bool(wordset & _TIMER_WORDS) or self._has_count_down()
        self.timer = intent == "timer_set" or self.timer_word
        self.alarm_intent = intent == "alarm_set"
        self.alarm = self.alarm_intent or bool(wordset & _ALARM_WORDS)
        self.no_bare_hours = intent in ("volume_set", "media_control") or "volume" in wordset

    def _has_count_down(self) -> bool:
        ws = self.ws
        return any(ws[k] == "count" and ws[k + 1] == "down" for k in range(len(ws) - 1))

    def w(self, j: int) -> str:
        return self.ws[j] if 0 <= j < self.n else ""

    def num(self, j: int) -> int | None:
        return self.t[j].num if 0 <= j < self.n else None

    # ----------------------------------------------------------------- durations
    def _unit(self, j: int) -> float | None:
        w = self.w(j)
        if (
            w == "day"
            and self.w(j + 1) in ("after", "before")
            and (self.w(j + 2) in _TOMORROW or self.w(j + 2) == "yesterday")
        ):
            return None  # "... four day after tomorrow": the day is a date, not a unit
        if w in _UNIT_SECONDS:
            return float(_UNIT_SECONDS[w])
        if w in _UNSUPPORTED_UNITS:
            return _UNSUPPORTED
        if w in _UNIT_LETTERS and j > 0 and self.t[j - 1].end == self.t[j].start and self.t[j - 1].fnum is not None:
            return float(_UNIT_LETTERS[w])
        return None

    def _dur_part(self, j: int) -> tuple[float, int, bool] | None:
        """One ``quantity unit`` at j -> (seconds | _VAGUE | _UNSUPPORTED, end, days_only)."""
        w = self.w(j)
        # "half an hour", "half hour", "a half hour", "half a minute"
        k = -1
        if w == "half":
            k = j + 1
        elif w in ("a", "an") and self.w(j + 1) == "half":
            k = j + 2
        if k >= 0:
            if self.w(k) in ("a", "an"):
                k += 1
            u = self._unit(k)
            if u is None:
                return None
            return (u if u < 0 else 0.5 * u), k + 1, u >= 86400 and u % 172800 == 0
        # "a quarter of an hour", "quarter hour", "three quarters of an hour"
        q = None
        if w == "quarter":
            q, k = 1, j + 1
        elif w in ("a", "an") and self.w(j + 1) == "quarter":
            q, k = 1, j + 2
        elif self.num(j) is not None and self.w(j + 1) in ("quarter", "quarters"):
            q, k = self.num(j), j + 2
        if q is not None:
            if self.w(k) == "of":
                k += 1
            if self.w(k) in ("a", "an"):
                k += 1
            if self.w(k) in ("hour", "hours", "hr"):
                return q * 900.0, k + 1, False
            return None
        # quantity
        t = self.t[j] if j < self.n else None
        if t is None:
            return None
        if w in ("a", "an", "the") and self.w(j + 1) in _VAGUE_QTY or w in _VAGUE_QTY:
            k = j + 1 if w in _VAGUE_QTY else j + 2
            if self.w(k) == "of":
                k += 1
            if self.w(k) in ("more", "extra"):
                k += 1
            if self._unit(k) is not None:
                return _VAGUE, k + 1, False
            return None
        if t.fnum is not None and not (t.hm and t.sep == ":"):
            val = t.fnum
            k = j + 1
        elif w in ("a", "an"):
            val, k = 1.0, j + 1
        else:
            return None
        if self.w(k) == "and" and self.w(k + 1) in ("a", "an") and self.w(k + 2) == "half":
            val += 0.5
            k += 3
        elif self.w(k) == "and" and self.w(k + 1) in ("a", "an") and self.w(k + 2) == "quarter":
            val += 0.25
            k += 3
        u = self._unit(k)
        if u is None:
            return None
        k += 1
        if u < 0:
            return u, k, False
        if self.w(k) == "and" and self.w(k + 1) in ("a", "an") and self.w(k + 2) == "half":
            val += 0.5
            k += 3
        secs = val * u
        return secs, k, u >= 86400 and secs % 86400 == 0

    def _dur(self, j: int) -> tuple[float, int, bool] | None:
        """A duration at j ("1 hour 15 minutes", "an hour and a half", "two weeks and a day")."""
        first = self._dur_part(j)
        if first is None:
            return None
        secs, k, days_only = first
        if secs < 0:
            return secs, k, False
        last_unit_hours = self.w(k - 1) in ("hour", "hours", "hr", "hrs", "h")
        while True:
            kk = k + 1 if self.w(k) in ("and", "plus") else k
            nxt = self._dur_part(kk)
            if nxt is None or nxt[0] < 0:
                break
            secs += nxt[0]
            days_only = days_only and nxt[2]
            k = nxt[1]
            last_unit_hours = self.w(k - 1) in ("hour", "hours", "hr", "hrs", "h")
        # "1 hour 30", "1h30": trailing bare minutes after hours
        if last_unit_hours:
            kk = k + 1 if self.w(k) == "and" else k
            m = self.num(kk)
            if (
                m is not None
                and 0 < m < 60
                and self.t[kk].sep == ""
                and self._unit(kk + 1) is None
                and self.w(kk + 1) not in ("am", "pm", "oclock")
            ):
                secs += m * 60
                k = kk + 1
                days_only = False
        return secs, k, days_only

    def _offset_item(self, secs: float, days_only: bool, s: int, e: int) -> _Item:
        if secs < 0:
            return _Item("void", None, s, e)
        if self.timer or not days_only:
            minutes = int(secs / 60 + 0.5)
            if secs < 60 or minutes < 1:
                return _Item("void", None, s, e)
            return _Item("key", f"in_{minutes}_minutes", s, e)
        return _Item("key", f"in_{int(secs // 86400)}_days", s, e)

    def _vague_tail(self, k: int) -> tuple[bool, int]:
        """After a duration: "or two"/"or three" make it vague; "or so" is only approximate."""
        if self.w(k) == "or":
            if self.w(k + 1) == "so":
                return False, k + 2
            if self.num(k + 1) is not None or self.w(k + 1) in ("two", "more", "less"):
                return True, k + 2
        return False, k

    def m_in(self, i: int) -> list[_Item] | None:
        """in/after/within [about] DURATION -> in_N_*; vague -> nothing."""
        w = self.w(i)
        if w not in ("in", "after", "within"):
            return None
        k = i + 1
        while k < i + 3 and (
            self.w(k) in _APPROX or (self.w(k) == "the" and self.w(k + 1) == "next" and w == "within")
        ):
            k += 1
        d = self._dur(k)
        if d is None:
            return None
        secs, k, days_only = d
        prev = self.w(i - 1)
        if prev in _PLURAL_UNITS or (
            prev in ("are", "is", "there") and ("many" in self.ws[:i] or "much" in self.ws[:i])
        ):
            return [_Item("void", None, i, k)]  # "how many minutes are in a day": a unit conversion
        vague, k = self._vague_tail(k)
        if self.w(k) in ("time", "times") or (self.w(k) == "from" and self.w(k + 1) in ("now", "today")):
            k += 1 if self.w(k) in ("time", "times") else 2
        if vague or w == "within":
            secs = _VAGUE
        return [self._offset_item(secs, days_only, i, k)]

    def m_duration(self, i: int) -> list[_Item] | None:
        """DURATION [from now | later | ago], "for DURATION", "a week today"."""
        s = i
        k = i
        if self.w(i) in ("for", "every", "each"):
            k = i + 1
            while k < i + 3 and self.w(k) in _APPROX:
                k += 1
        elif self.w(i) in _APPROX and self.w(i + 1) != "":
            k = i + 1
        t0 = self.t[k] if k < self.n else None
        if t0 is not None and t0.hm and self.w(k + 1) == "hours" and (t0.words or len(t0.w) == 4):
            return None  # "1500 hours", "nineteen hundred hours" are clock times
        d = self._dur(k)
        if d is None:
            return None
        secs, k, days_only = d
        vague, k = self._vague_tail(k)
        nw = self.w(k)
        if (
            nw in ("past", "to", "after", "till", "til", "before", "of")
            and self.t[k - 1].w in ("minute", "minutes", "min", "mins")
            and (1 <= (self.num(k + 1) or 0) <= 12 or self.w(k + 1) in _NOON_WORDS)
        ):
            return None  # "five minutes past three" is a clock time
        if nw in ("ago", "back", "earlier", "before", "prior", "previously"):
            return [_Item("void", None, s, k + 1)]
        if nw == "from" and self.w(k + 1) in ("now", "today", "tomorrow"):
            if self.w(k + 1) == "tomorrow" and secs > 0:
                secs += 86400
            return [self._offset_item(_VAGUE if vague else secs, days_only, s, k + 2)]
        if nw in ("later", "hence") or (nw == "today" and days_only and self.w(s) not in ("for", "every", "each")):
            return [self._offset_item(_VAGUE if vague else secs, days_only, s, k + 1)]
        if self.w(s) in ("every", "each"):
            return [_Item("void", None, s, k)]
        it = _Item("dur", None, s, k)
        it.secs = _VAGUE if vague else secs
        return [it]

    # ----------------------------------------------------------------- clock times
    def _core(self, j: int) -> tuple[int, int, int, int, bool] | None:
        """A clock reading at j -> (hour, minute, end, strength, fixed24). strength 2 = a time by its
        form alone ("half past seven", "3:30"), 1 = with a time preposition or context."""
        w = self.w(j)
        t = self.t[j] if j < self.n else None
        if t is None:
            return None
        # half past seven, quarter to eight, twenty past six, ten to five, five minutes past three
        rel = None
        k = j
        if w == "half":
            rel, k = 30, j + 1
        elif w == "quarter" or (w == "a" and self.w(j + 1) == "quarter"):
            rel, k = 15, (j + 1 if w == "quarter" else j + 2)
        elif t.num is not None and 1 <= t.num <= 30 and t.sep == "" and not t.hm:
            rel, k = t.num, j + 1
            if self.w(k) in ("minutes", "minute", "min", "mins"):
                k += 1
            elif (
                t.num % 5
                or self.w(j - 1) in ("from", "between")
                or (self.w(k) in ("to", "till", "til", "before") and t.num not in (5, 10, 20, 25))
            ):
                rel = None  # "from 3 to 5" is a range, not "3 minutes to 5"
        if rel is not None:
            d = self.w(k)
            if (
                d in ("past", "after", "to", "till", "til", "of", "before")
                and (rel != 30 or d == "past")
                and self.w(k + 1) in _NOON_WORDS
                and not (d == "of" and w not in ("quarter", "a"))
            ):
                # "quarter to midnight" 23:45, "one minute to midnight" 23:59, "ten past noon" 12:10
                mid = self.w(k + 1) == "midnight"
                if d in ("past", "after"):
                    return (0 if mid else 12), rel, k + 2, 2, True
                return (23 if mid else 11), 60 - rel, k + 2, 2, True
            if d in ("past", "after", "to", "till", "til", "of", "before") and (rel != 30 or d == "past"):
                hn = self.num(k + 1)
                ht = self.t[k + 1] if k + 1 < self.n else None
                if hn is not None and 1 <= hn <= 12 and ht is not None and ht.sep == "" and self._unit(k + 2) is None:
                    strength = 2 if w in ("half", "quarter", "a") or d == "past" or k > j + 1 else 1
                    if d in ("past", "after"):
                        return hn, rel, k + 2, strength, False
                    if d == "of" and w not in ("quarter", "a"):
                        return None
                    return (hn - 1) or 12, 60 - rel, k + 2, strength, False
            if (
                w == "half"
                and self.num(j + 1) is not None
                and 1 <= (self.num(j + 1) or 0) <= 12
                and j > 0
                and self.w(j - 1) == "at"
            ):
                return self.num(j + 1) or 0, 30, j + 2, 1, False  # British "at half seven"
            if w in ("half", "quarter", "a"):
                return None
        if t.hm and t.sep:
            h, m = t.hm
            if h == 24:
                h = 0
            fixed = h >= 13 or h == 0 or t.lead0
            return h, m, j + 1, (2 if t.sep == ":" else 1), fixed
        if t.num is None:
            return None
        v = t.num
        if (
            t.hm
            and not t.words
            and len(w) in (3, 4)
            and not (1900 <= v <= 2099 and self.w(j + 1) != "hours")
            and not (len(w) == 3 and v % 100 == 0 and self.w(j + 1) not in ("am", "pm", "hours"))
        ):
            h, m = t.hm  # "930", "1530", "0700" (not a year such as 2025)
            return h, m, j + 1, 1, h >= 13 or h == 0 or t.lead0
        if t.words and v >= 100 and t.hm:  # "nineteen hundred"
            h, m = t.hm
            return h, m, j + 1, 1, True
        if not 0 <= v <= 24 or (t.words and v > 23):
            return None
        h = 0 if v == 24 else v
        fixed = h >= 13 or h == 0 or (t.lead0 and not t.words)
        nt = self.t[j + 1] if j + 1 < self.n else None
        # "three thirty", "7 45", "nine oh five", "seven o five"
        if (
            nt is not None
            and nt.num is not None
            and nt.two
            and nt.sep == ""
            and not nt.hm
            and nt.num <= 59
            and self._unit(j + 2) is None
            and not (self.w(j + 2) in ("to", "past", "after", "till") and self.num(j + 3) is not None)
        ):
            if nt.words or not t.words:
                return h, nt.num, j + 2, 1, fixed
        if (
            nt is not None
            and nt.w in ("oh", "o", "zero")
            and self.num(j + 2) is not None
            and 0 <= (self.num(j + 2) or 0) <= 9
            and self.t[j + 2].words
        ):
            return h, self.num(j + 2) or 0, j + 3, 1, fixed
        if nt is not None and nt.w == "hundred":
            return h, 0, j + 2, 1, True
        return h, 0, j + 1, 0, fixed

    def _part_suffix(self, k: int) -> tuple[str, int] | None:
        """ "in the morning", "in the afternoon", "in the evening", "at night", "in the night"."""
        w = self.w(k)
        if w in ("in", "during") and self.w(k + 1) == "the":
            kk = k + 2
            if self.w(kk) in ("early", "late", "mid"):
                kk += 1
            p = _PARTS.get(self.w(kk))
            if p:
                return p, kk + 1
        if w == "at" and self.w(k + 1) == "night":
            return "night", k + 2
        if w == "overnight":
            return "night", k + 1
        return None

    def _clock_at(self, j: int, trig: bool, s: int) -> _Item | None:
        c = self._core(j)
        if c is None:
            return None
        h, m, k, strength, fixed = c
        if self.w(k) in _NOT_AFTER_HOUR and not (self.w(k) == "day" and self._unit(k) is None):
            if not (self.w(k) in ("hours", "hrs") and (fixed or m or self.w(k - 1) == "hundred" or self.t[j].hm)):
                return None
            k += 1  # "at 1500 hours", "nineteen hundred hours"
            strength = 2
        it = _Item("clock", None, s, k)
        it.h, it.m, it.fixed = h, m, fixed
        nw = self.w(k)
        if nw in ("oclock", "sharp", "exactly", "precisely"):
            strength = max(strength, 2 if nw == "oclock" else strength)
            k += 1
            nw = self.w(k)
        if nw in ("am", "pm") and h <= 12:
            it.mer = nw
            strength = 2
            k += 1
        elif nw in ("am", "pm"):
            k += 1
            strength = 2
        if h == 12 and m == 0 and self.w(k) in ("noon", "midday", "midnight"):
            it.mer = "am" if self.w(k) == "midnight" else "pm"
            strength = 2
            k += 1
        ps = self._part_suffix(k)
        if ps:  # "at 7 in the morning"; without "at": "seven in the morning" but not "chapter four in the morning"
            it.part = ps[0]
            strength = max(strength, 1)
            k = ps[1]
            if (
                not trig
                and strength < 2
                and 1 <= h <= 12
                and not fixed
                and (m or self.w(j - 1) not in _NOT_CLOCK_BEFORE)
            ):
                strength = 2
        if strength == 0 and not trig:
            return None
        if strength < 2 and not trig and not self._day_before(s):
            return None
        if strength == 0 and self.no_bare_hours:
            return None
        it.e = k
        return it

    def _day_before(self, s: int) -> bool:
        w = self.w(s - 1)
        return w in _TOMORROW or w in _TONIGHT or w in ("today", "yesterday") or w in _WEEKDAYS or w in _PARTS

    def m_clock(self, i: int) -> list[_Item] | None:
        w = self.w(i)
        trig = False
        j = i
        if w in _CLOCK_PREPS and w != "to" or w == "for" and self.alarm:
            trig = True
            j = i + 1
        elif self.alarm and self.w(i - 1) in ("alarm", "alarms") and self.t[i].num is not None:
            trig = True  # "alarm 9 saturday", "alarm nine thirty"
        if w == "from":
            d = self._dur(j)
            if d is not None and d[0] > 0:
                return None  # "countdown from one and a half hours" is a duration, not "from 1 pm"
        if trig:
            while j < i + 3 and (self.w(j) in _APPROX or self.w(j) in ("at", "about", "the")):
                j += 1
        it = self._clock_at(j, trig, i)
        if it is None:
            return None
        # ranges: "from 3 to 5 pm", "between 9 and 11 am" -> the start of the range
        if w in ("from", "between", "at", "by") or self.w(i - 1) in ("from", "between"):
            conn = self.w(it.e)
            if conn in ("to", "till", "til", "until", "through", "thru", "and"):
                j2 = it.e + 1
                if self.w(j2) in _APPROX:
                    j2 += 1
                it2 = self._clock_at(j2, True, j2)
                if it2 is not None and (w in ("from", "between") or it2.mer or it2.part):
                    if it.mer is None and not it.fixed and (it2.mer or it2.part):
                        if it2.mer and not it2.fixed:
                            h1 = it.h % 12
                            h2 = it2.h % 12
                            it.mer = it2.mer if h1 <= h2 else ("am" if it2.mer == "pm" else "pm")
                        elif it2.part and not it.part:
                            it.part = it2.part
                    it.e = it2.e
        return [it]

    def m_noon(self, i: int) -> list[_Item] | None:
        w = self.w(i)
        k = i
        at = False
        if w == "at" or w == "@":
            at, k = True, i + 1
            if self.w(k) in _APPROX:
                k += 1
        if self.num(k) == 12 and self.t[k].sep == "" and self.w(k + 1) in ("noon", "midday", "midnight"):
            at, k = True, k + 1
        nw = self.w(k)
        if nw in ("noon", "midday", "noontime", "midnight"):
            # rule 10: "at noon" or a bare time point ("lock the door midnight") is the clock time;
            # after another preposition ("around noon", "before midnight") it is the bare key
            if not at and self.w(i - 1) in _BARE_NOON_PREPS:
                return [_Item("key", "midnight" if nw == "midnight" else "noon", i, k + 1)]
            return [_Item("key", "at_midnight" if nw == "midnight" else "at_noon", i, k + 1)]
        return None

    # ----------------------------------------------------------------- days, weekdays, periods
    def m_day(self, i: int) -> list[_Item] | None:
        w = self.w(i)
        k = i
        if w == "the" and self.w(i + 1) == "day":
            k = i + 1
        if self.w(k) == "day" and self.w(k + 1) in ("after", "before"):
            target = self.w(k + 2)
            if self.w(k + 1) == "after" and target in _TOMORROW:
                return self._with_part(_Item("day", "day_after_tomorrow", i, k + 3))
            if self.w(k + 1) == "before" and target == "yesterday":
                return self._with_part(_Item("day", "day_before_yesterday", i, k + 3))
            return None
        # "this time tomorrow", "same time tomorrow", "this time next week"
        if w in ("this", "same") and self.w(i + 1) == "time":
            nw, k = self.w(i + 2), i + 3
            if nw in _TOMORROW:
                return [_Item("key", "in_1_days", i, k)]
            if nw == "next" and self.w(k) == "week":
                return [_Item("key", "in_7_days", i, k + 1)]
            return None
        if w in _TONIGHT:
            return [_Item("key", "tonight", i, i + 1)]
        if w in _TOMORROW:
            if self.w(i + 1) in ("same", "this") and self.w(i + 2) == "time":
                return [_Item("key", "in_1_days", i, i + 3)]
            return self._with_part(_Item("day", "tomorrow", i, i + 1))
        if w == "today":
            return self._with_part(_Item("day", "today", i, i + 1))
        if w == "yesterday":
            return self._with_part(_Item("day", "yesterday", i, i + 1))
        if w in ("this", "last", "yesterday") or (w == "later" and self.w(i + 1) == "this"):
            k = i + 1 if w != "later" else i + 2
            if w == "later":
                w = "this"
            if self.w(k) in ("early", "late"):
                k += 1
            p = _PARTS.get(self.w(k))
            if p and self.w(k) == p or (p and self.w(k) in ("mornings", "evenings", "nights")):
                if w == "this":
                    return [_Item("key", "tonight" if p == "night" else f"this_{p}", i, k + 1)]
                if p == "night":
                    return [_Item("key", "last_night", i, k + 1)]
                if p == "evening":
                    return [_Item("key", "yesterday_evening", i, k + 1)]
        return None

    def _with_part(self, it: _Item) -> list[_Item]:
        """ "tomorrow morning", "today evening", "tomorrow at night" -> combined key."""
        k = it.e
        p = None
        if self.w(k) in ("early", "late") and self.w(k + 1) in _PARTS:
            k += 1
        if self.w(k) in _PARTS:
            p, k = _PARTS[self.w(k)], k + 1
        elif self.w(k) == "at" and self.w(k + 1) == "night":
            p, k = "night", k + 2
        elif self.w(k) == "overnight":
            p, k = "night", k + 1
        if p is None:
            return [it]
        return self._combine(it, p, k)

    @staticmethod
    def _combine(it: _Item, p: str, end: int) -> list[_Item]:
        base = it.key
        if base == "today":
            key = "tonight" if p == "night" else f"this_{p}"
        elif base == "tomorrow":
            key = f"tomorrow_{p}"
        elif base == "yesterday":
            key = "last_night" if p == "night" else f"yesterday_{p}"
        else:  # day after tomorrow morning -> two keys
            part = _Item("part", p, it.e, end)
            part.attached = True
            return [it, part]
        return [_Item("key", key, it.s, end)]

    def m_weekday(self, i: int) -> list[_Item] | None:
        w = self.w(i)
        k = i
        mod = "this"
        if w in ("on", "by", "until", "till", "for", "before", "after", "since", "from", "every", "each"):
            k += 1
        # "next week friday", "next week on friday"
        if self.w(k) in ("next", "last", "this") and self.w(k + 1) == "week":
            kk = k + 2
            if self.w(kk) in ("on", "at"):
                kk += 1
            if self.w(kk) in _WEEKDAYS:
                return self._weekday_tail(self.w(k), _WEEKDAYS[self.w(kk)], i, kk + 1)
            return None
        if self.w(k) == "the" and self.w(k + 1) in ("coming", "following", "next", "previous", "last", "past"):
            k += 1
        mw = self.w(k)
        if mw == "this" and self.w(k + 1) in ("coming", "past"):
            mod = "this" if self.w(k + 1) == "coming" else "last"
            k += 2
        elif mw in ("this", "coming", "upcoming"):
            k += 1
        elif mw in ("next", "following"):
            mod, k = "next", k + 1
        elif mw in ("last", "past", "previous"):
            mod, k = "last", k + 1
        day = _WEEKDAYS.get(self.w(k))
        if day is None:
            return None
        k += 1
        # "friday next week", "friday of next week", "friday this week"
        kk = k + 1 if self.w(k) == "of" else k
        if self.w(kk) in ("next", "last", "this") and self.w(kk + 1) == "week" and mod == "this":
            mod, k = self.w(kk), kk + 2
        return self._weekday_tail(mod, day, i, k)

    def _weekday_tail(self, mod: str, day: str, s: int, k: int) -> list[_Item]:
        it = _Item("key", f"{mod}_{day}", s, k)
        kk = k
        if self.w(kk) in ("early", "late") and self.w(kk + 1) in _PARTS:
            kk += 1
        p = _PARTS.get(self.w(kk))
        if p:
            part = _Item("part", p, kk, kk + 1)
        elif self.w(kk) == "at" and self.w(kk + 1) == "night":
            part = _Item("part", "night", kk, kk + 2)
        else:
            return [it]
        part.attached = True
        return [it, part]

    def m_period(self, i: int) -> list[_Item] | None:
        w = self.w(i)
        k = i
        if w in ("over", "on", "at", "during", "for", "by", "until", "till", "within", "in"):
            k += 1
        if self.w(k) == "later" and self.w(k + 1) == "this":
            k += 1
        mw = self.w(k)
        if mw == "the" and self.w(k + 1) in ("coming", "upcoming", "following", "next", "previous", "past", "last"):
            k += 1
            mw = self.w(k)
        elif mw == "the" and self.w(k + 1) in ("weekend", "weekends"):
            return [_Item("key", "this_weekend", i, k + 2)]
        if mw == "this" and self.w(k + 1) in ("coming", "upcoming", "past"):
            mod = "next" if self.w(k + 1) != "past" else "last"
            k += 2
        elif mw == "this":
            mod, k = "this", k + 1
        elif mw in ("next", "following"):
            mod, k = "next", k + 1
        elif mw in ("last", "past", "previous"):
            mod, k = "last", k + 1
        elif mw in ("coming", "upcoming"):
            mod, k = "next", k + 1
        elif mw in ("weekend", "weekends"):
            if self.w(k - 1) in ("every", "each"):
                return None
            return [_Item("key", "this_weekend", i, k + 1)]
        else:
            return None
        unit = _PERIOD_UNITS.get(self.w(k))
        if unit is None or (self.w(k) in ("weeks", "months", "years")):
            return None
        if unit == "weekend" and mod == "next" and mw in ("coming", "upcoming", "this"):
            mod = "this"  # "the coming weekend", "this coming weekend"
        return [_Item("key", f"{mod}_{unit}", i, k + 1)]

    # ----------------------------------------------------------------- parts of day, meals
    def m_part(self, i: int) -> list[_Item] | None:
        w = self.w(i)
        k = i
        prep = False
        if w in (
            "in",
            "during",
            "by",
            "until",
            "till",
            "at",
            "every",
            "each",
            "through",
            "throughout",
            "first",
            "early",
            "late",
        ):
            prep = True
            k += 1
            if w == "first" and self.w(k) == "thing" and self.w(k + 1) == "in":
                k += 2
        if self.w(k) == "the":
            prep = True
            k += 1
        if self.w(k) in ("early", "late", "mid"):
            k += 1
        p = _PARTS.get(self.w(k))
        if p is None or not prep:
            if self.w(k) == "overnight":
                return [_Item("part", "night", i, k + 1)]
            return None
        return [_Item("part", p, i, k + 1)]

    def m_meal(self, i: int) -> list[_Item] | None:
        w = self.w(i)
        k = i + 1
        if w in _MEAL_TIME_WORDS:
            return [_Item("key", _MEAL_TIME_WORDS[w], i, i + 1)]
        prep = w
        if w not in ("at", "during", "over", "after", "with", "by"):
            prep, k = "", i
        if self.w(k) in ("the", "my", "our"):
            k += 1
        meal = _MEALS.get(self.w(k))
        if meal is None:
            return None
        k += 1
        timeword = self.w(k) == "time"
        if timeword:
            k += 1
        if prep == "" and not timeword:
            return None
        if prep == "" or prep == "by":
            prep = "during" if meal == "lunch" else "at"
        if meal == "lunch":
            key = None if prep == "after" else "during_lunch"
        elif meal == "breakfast":
            key = {
                "at": "at_breakfast",
                "during": "during_breakfast",
                "over": "during_breakfast",
                "with": "during_breakfast",
            }.get(prep)
        else:
            key = {
                "at": "at_dinner",
                "during": "during_dinner",
                "over": "during_dinner",
                "with": "during_dinner",
                "after": "after_dinner",
            }.get(prep)
        if key is None:
            return None
        return [_Item("key", key, i, k)]

    # ----------------------------------------------------------------- driver
    def parse(self) -> list[_Item]:
        items: list[_Item] = []
        matchers = (
            self.m_in,
            self.m_day,
            self.m_noon,
            self.m_weekday,
            self.m_period,
            self.m_meal,
            self.m_duration,
            self.m_clock,
            self.m_part,
        )
        i = 0
        n = self.n
        ws = self.ws
        while i < n:
            if ws[i] in _SKIP_START and self.t[i].num is None and not self.t[i].hm:
                i += 1
                continue
            for m in matchers:
                got = m(i)
                if got:
                    items.extend(got)
                    i = max(x.e for x in got)
                    break
            else:
                i += 1
        return items


_BARE_NOON_PREPS = frozenset(
    {
        "around",
        "about",
        "before",
        "by",
        "until",
        "till",
        "til",
        "after",
        "since",
        "near",
        "past",
        "towards",
        "toward",
        "from",
        "to",
        "approximately",
        "roughly",
        "nearly",
        "almost",
        "circa",
        "ish",
    }
)
#: words that never start a date expression (fast path)
_SKIP_START = frozenset(
    ["i", "me", "my", "you", "your", "it", "is", "are", "was", "be", "to", "and", "or", "but", "what", "what's", "whats", "which", "who", "how", "do", "does", "did", "can", "could", "would", "will", "should", "set", "remind", "reminder", "call", "open", "play", "please", "hey", "jarvis", "ok", "okay", "so", "of", "the", "an", "a", "that", "there", "then"]
) - {"the", "a", "an", "to"}


def _cues(parser: _Parser, items: list[_Item]) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """Context saying which half of the clock nearby times are in (rule 8), as (token position, cue) pairs:
    ``strong`` from parts of day and meal keys, ``weak`` from words ("wake me", "alarm", "dinner at")
    that count only when no part of day is said."""
    strong: list[tuple[int, str]] = []
    weak: list[tuple[int, str]] = []
    for it in items:
        key = it.key or ""
        if it.kind == "part":
            strong.append((it.s, _CUE_OF_PART[key]))
        elif it.kind == "key":
            if key in ("tonight", "last_night") or key.endswith("_night"):
                strong.append((it.s, "night"))
            elif key.endswith("morning"):
                strong.append((it.s, "morning"))
            elif key.endswith("afternoon"):
                strong.append((it.s, "afternoon"))
            elif key.endswith("evening"):
                strong.append((it.s, "evening"))
            elif key.endswith("dinner"):
                strong.append((it.s, "dinner"))
            elif key.endswith("breakfast"):
                strong.append((it.s, "breakfast"))
    ws = parser.ws
    clock_starts = {it.s for it in items if it.kind == "clock"}
    for j, w in enumerate(ws):
        if w in ("alarm", "alarms"):
            weak.append((j, "alarm"))
        elif (
            w in _WAKE_WORDS
            or w in ("awake", "rouse", "arise")
            or (w in ("get", "be", "getting", "im", "i'm") and parser.w(j + 1) == "up")
            or (w == "of" and parser.w(j + 1) == "bed" and parser.w(j - 1) == "out")
        ):
            weak.append((j, "morning"))
        elif w in ("bed", "bedtime") and parser.w(j - 1) != "of":
            weak.append((j, "night"))
        elif w in ("dinner", "supper") and j + 1 in clock_starts:
            weak.append((j, "dinner"))  # "dinner at 7"; not "order dinner ... at 4"
        elif w in ("breakfast", "brunch") and j + 1 in clock_starts:
            weak.append((j, "breakfast"))
    if parser.alarm_intent:
        weak.append((-1000, "alarm"))
    return strong, weak


def _hour24(it: _Item, cue: str | None) -> int:
    """Rule 8: a clock reading plus its am/pm, its part of day or context -> 24-hour hour."""
    h = it.h
    if it.fixed or h > 12 or h == 0:
        return h % 24
    if it.mer == "am":
        return 0 if h == 12 else h
    if it.mer == "pm":
        return 12 if h == 12 else h + 12
    if cue == "alarm":
        return h if 4 <= h <= 11 else (12 if h == 12 else h + 12)
    if cue == "dinner":
        return h + 12 if 5 <= h <= 11 else (12 if h == 12 else h if 7 <= h <= 11 else h + 12)
    if cue == "breakfast":
        return h if h <= 11 else 12
    if cue == "morning":
        return h if h != 12 else 12
    if cue == "afternoon":
        return 12 if h == 12 else h + 12
    if cue == "evening":
        return 0 if h == 12 else h + 12
    if cue == "night":
        if h == 12:
            return 0
        return h if h <= 4 else h + 12
    if h == 12:
        return 12
    return h if 7 <= h <= 11 else h + 12


def extract_date_spans(text: str, intent: str | None = None) -> list[DateSpan]:
    """Date keys of ``text`` with their character spans, in the order they appear.

    Args:
        text: an utterance or ASR transcript (any case, punctuation optional, fillers allowed). Only the
            first :data:`MAX_CHARS` characters are read. ``bytes`` are decoded as UTF-8 (errors replaced);
            None gives [].
        intent: the utterance's intent label if known; ``"timer_set"`` turns durations into
            ``in_N_minutes`` (rule 12), ``"alarm_set"`` reads "for 7" as a clock time,
            ``"volume_set"``/``"media_control"`` ignore bare numbers after "at".

    Returns:
        One :class:`DateSpan` per key; every key passes :func:`vocab.is_valid_key`. A key appears once.

    Raises:
        BadInputError: ``text`` is not a str, bytes or None.
    """
    if text is None:
        return []
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8", errors="replace")
    if not isinstance(text, str):
        raise BadInputError(f"date-key extraction needs text, got {type(text).__name__}")
    if not text:
        return []
    toks = _tokenize(text[:MAX_CHARS])
    if not toks:
        return []
    p = _Parser(toks, intent)
    items = p.parse()
    if not items:
        return []

    # day + adjacent "in the <part>" -> combined key unless the part is the half of a clock time
    clocks = [it for it in items if it.kind == "clock"]
    for a, b in zip(items, items[1:]):
        if b.kind != "part" or b.attached:
            continue
        if any(c.s == b.e for c in clocks):
            continue
        if a.e == b.s and a.kind == "day" and a.key in ("today", "tomorrow", "yesterday"):
            new = _Parser._combine(a, b.key or "", b.e)[0]
            a.kind, a.key, a.e = new.kind, new.key, new.e
            b.drop = True
        elif a.e == b.s and (a.kind == "day" or (a.kind == "key" and a.key and a.key.split("_")[-1] in vocab.WEEKDAYS)):
            b.attached = True
    # am/pm from context (rule 8) and rule 9 (a part of day that only disambiguates adds no key)
    strong, weak = _cues(p, [it for it in items if not it.drop])
    for it in clocks:
        cue = it.part
        if cue is None:
            # a bare part of day right before the clock ("in the evening at eight")
            for b in items:
                if b.kind == "part" and not b.attached and not b.drop and b.e == it.s:
                    cue = b.key
                    b.drop = True
        for pool in (strong, weak):
            if cue is None and pool:
                cue = min(pool, key=lambda c: abs(c[0] - it.s))[1]
        try:
            it.key = vocab.clock_key(_hour24(it, cue), it.m)
        except ValueError:
            it.key = None
    if clocks:
        for b in items:
            if b.kind == "part" and not b.attached:
                b.drop = True
    has_day_or_clock = any(
        not it.drop and it.kind in ("day", "clock", "part", "key") and it.key and not it.key.startswith("in_")
        for it in items
    )
    out: list[DateSpan] = []
    seen: set[str] = set()
    for it in items:
        if it.drop:
            continue
        key = it.key
        if it.kind == "dur":
            key = None
            # a timer word makes a duration the timer's length; the timer_set hint alone does so only when
            # no day or clock time stands ("book a meeting tomorrow at 3 for 2 hours" has no in_ key)
            if (p.timer_word or (p.timer and not has_day_or_clock)) and it.secs is not None and it.secs >= 60:
                key = f"in_{int(it.secs / 60 + 0.5)}_minutes"
        elif it.kind == "void":
            key = None
        if not key or key in seen or not vocab.is_valid_key(key):
            continue
        seen.add(key)
        e = min(max(it.e, it.s + 1), len(toks))
        out.append(DateSpan(key, toks[it.s].start, toks[e - 1].end))
    return out


def extract_date_keys(text: str, intent: str | None = None) -> list[str]:
    """The date keys of ``text`` (spec section 2), e.g. ``"remind me to call mom tomorrow at 3 pm"
    -> ["tomorrow", "at_3pm"]``; ``[]`` when there is none. Same arguments and errors as
    :func:`extract_date_spans`."""
    return [s.key for s in extract_date_spans(text, intent)]
