"""Seeded, reproducible generator of the NLU training corpus (JSONL).

Each row is ``{"text", "intent", "date_keys", "payload", "template", "split"}``. The labels come from the
generator itself: a template knows its intent, each date slot knows the keys of the expression it drew
(:mod:`.datephrases`), and the payload is the slot filler. The rule extractor is never consulted, so the corpus
measures it.

Variety: 80-340 templates per intent (in ``jarvis_desktop/data/nlu_templates.json``, read by
:mod:`.templates`), slot fillers, number words vs digits, fillers ("uh", "hey jarvis", "could you"), two
surface styles (``asr``: lowercase, no punctuation; ``whisper``: capitalised, punctuated, ``3 p.m.``), small
recognition slips (dropped/duplicated short words, to/two/too, for/four) applied only to
the template words, and negatives (no date, vague times, durations, past offsets, meals as topics).

The train/validation split is by template: every template id (``"reminder_set/07"``, stable, written in
the data file) lands wholly in one split, about 20 % of each intent's templates in validation, chosen by a
hash of the template text (not the corpus seed), so the split does not move when the corpus seed changes
or a template is added.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections.abc import Callable
from pathlib import Path

from jarvis_desktop.nlu import datephrases as dg
from jarvis_desktop.nlu.templates import Template, TemplateBook, shipped_book

#: the shipped templates and fillers (jarvis_desktop/data/nlu_templates.json)
BOOK: TemplateBook = shipped_book()
#: intent -> the slot whose filler is the payload
PAYLOAD_SLOT: dict[str, str] = BOOK.payload_slot

#: size and seed of the shipped corpus (``train-nlu`` defaults)
DEFAULT_N = 18000
DEFAULT_SEED = 13
VALID_FRACTION = 0.2
SPLIT_SEED = 20240607
DATE_SLOTS = {"date", "when", "day", "pday", "clock", "dur", "durx", "aw", "dweek", "dayp", "negdur", "negago"}


def template_ids() -> dict[str, str]:
    """``{template_id: split}`` for every template; about 20 % of each intent's templates are validation."""
    out: dict[str, str] = {}
    for temps in BOOK.templates.values():
        # rank by a hash of the template's own text: adding a template does not reshuffle the others
        rank = sorted(temps, key=lambda t: hashlib.sha1(f"{SPLIT_SEED}:{t.text}".encode()).hexdigest())
        valid = {t.id for t in rank[: max(2, round(VALID_FRACTION * len(temps)))]}
        out.update({t.id: ("valid" if t.id in valid else "train") for t in temps})
    return out


# --------------------------------------------------------------------------------------------- date slots
def _date_for(intent: str, rng: random.Random, style: str) -> tuple[str, list[str]]:
    """The ``{date}``/``{when}`` draw for an intent; text "" means no date at all."""
    r = rng.random()
    if intent in ("reminder_set", "calendar_set"):
        table = [
            (0.20, "clock"),
            (0.47, "composite"),
            (0.62, "day"),
            (0.72, "in_minutes"),
            (0.77, "in_days"),
            (0.82, "tod"),
            (0.87, "meal"),
            (0.94, "negative"),
            (1.0, "none"),
        ]
    elif intent == "weather_query":
        table = [(0.5, "day"), (0.6, "tod"), (0.67, "in_days"), (0.72, "composite"), (0.75, "negative"), (1.0, "none")]
    else:
        table = [(0.5, "day"), (1.0, "none")]
    kind = next(k for p, k in table if r < p)
    if kind == "clock":
        return dg.clock_expr(rng, style)
    if kind == "composite":
        return dg.composite_expr(rng, style)
    if kind == "day":
        t, k, _ = dg.day_expr(rng, style)
        return t, k
    if kind == "in_minutes":
        return dg.in_minutes_expr(rng, style)
    if kind == "in_days":
        return dg.in_days_expr(rng, style)
    if kind == "tod":
        phrase, key = rng.choice(dg.TIME_OF_DAY)
        return phrase, [key]
    if kind == "meal":
        phrase, key = rng.choice(dg.MEALS)
        return phrase, [key]
    if kind == "negative":
        return rng.choice(dg.VAGUE), []
    return "", []


def _timer_duration(rng: random.Random, style: str, adjective: bool) -> tuple[str, list[str]]:
    if rng.random() < 0.08:  # under a minute: in_N_seconds (vocabulary 2.1, rule 12; 2.0 gave no key)
        n = rng.choice([10, 15, 20, 30, 45, 50])
        text = f"{dg.num(rng, n, style)} second" if adjective else f"{dg.num(rng, n, style)} seconds"
        return text, [f"in_{n}_seconds"]
    if adjective:
        n = rng.choice([1, 2, 3, 4, 5, 5, 7, 8, 10, 10, 12, 15, 20, 25, 30, 40, 45, 60, 90])
        if n == 60:
            return rng.choice(["one hour", "1 hour", "sixty minute"]), ["in_60_minutes"]
        if n == 30 and rng.random() < 0.4:
            return "half hour", ["in_30_minutes"]
        sep = "-" if style == "whisper" and rng.random() < 0.5 else " "
        return f"{dg.num(rng, n, style)}{sep}minute", [f"in_{n}_minutes"]
    text, n = dg.offset_minutes_expr(rng, style)
    return text, [f"in_{n}_minutes"]


def _alarm_when(rng: random.Random, style: str) -> tuple[str, list[str]]:
    r = rng.random()
    if r < 0.45:
        return dg.clock_expr(rng, style, hours=list(range(4, 12)), modes=("explicit", "bare", "natural"))
    if r < 0.55:
        h24 = rng.choice([5, 6])
        m = rng.choice([0, 0, 15, 30, 45])
        return "at " + dg.clock_phrase(rng, h24, m, style, "bare"), [dg.clock_key(h24, m)]
    if r < 0.9:
        return dg.composite_expr(rng, style, alarm=True)
    return dg.in_minutes_expr(rng, style)


def _alarm_clock(rng: random.Random, style: str, intent: str) -> tuple[str, list[str]]:
    h24 = rng.choice(list(range(4, 12)) + [13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23])
    m = dg.random_minute(rng)
    if 7 <= h24 <= 11 and intent == "alarm_set" and rng.random() < 0.3:
        return dg.clock_phrase(rng, h24, m, style, "bare"), [dg.clock_key(h24, m)]
    return dg.clock_phrase(rng, h24, m, style, "explicit"), [dg.clock_key(h24, m)]


def _when(intent: str, rng: random.Random, style: str) -> tuple[str, list[str]]:
    """``{when}``: a date that is never empty (a reminder mostly with keys)."""
    for _ in range(20):
        t, k = _date_for(intent, rng, style)
        if t and (k or intent != "reminder_set" or rng.random() < 0.3):
            return t, k
    return "tomorrow", ["tomorrow"]


def _future_day(intent: str, rng: random.Random, style: str) -> tuple[str, list[str]]:
    """``{day}``: a future day; an alarm's "{clock} {day}" gets no day-part that would flip am/pm."""
    for _ in range(20):
        t, k, fam = dg.day_expr(rng, style)
        if intent != "alarm_set" or fam in ("relative_days", "weekdays"):
            return t, k
    return "tomorrow", ["tomorrow"]


def _past_day(intent: str, rng: random.Random, style: str) -> tuple[str, list[str]]:
    """``{pday}``: a past or present day."""
    if rng.random() < 0.3:
        t, k = rng.choice(
            [
                ("yesterday", ["yesterday"]),
                ("last night", ["last_night"]),
                ("yesterday morning", ["yesterday_morning"]),
                ("last week", ["last_week"]),
            ]
        )
        return t, k
    t, k, _ = dg.day_expr(rng, style, future=False)
    return t, k


def _weekday(intent: str, rng: random.Random, style: str) -> tuple[str, list[str]]:
    """``{dweek}``: a weekday expression."""
    return dg.weekday_expr(rng, style)


def _possessive_day(intent: str, rng: random.Random, style: str) -> tuple[str, list[str]]:
    """``{dayp}``: "tomorrow's", "friday's"."""
    if rng.random() < 0.5:
        t, k = rng.choice([("today", "today"), ("tomorrow", "tomorrow")])
        return f"{t}'s", [k]
    day = rng.choice(dg.WEEKDAYS)
    return f"{dg._cap_day(day, style)}'s", [f"this_{day}"]


def _clock(intent: str, rng: random.Random, style: str) -> tuple[str, list[str]]:
    """``{clock}``: a clock time without "at"."""
    return _alarm_clock(rng, style, intent)


def _alarm_time(intent: str, rng: random.Random, style: str) -> tuple[str, list[str]]:
    """``{aw}``: when an alarm goes off."""
    return _alarm_when(rng, style)


def _negative_duration(intent: str, rng: random.Random, style: str) -> tuple[str, list[str]]:
    """``{negdur}``: "for ten minutes" (no key)."""
    n = rng.choice([10, 15, 20, 30, 45, 2, 3])
    return f"for {dg.num(rng, n, style)} {'hours' if n < 5 else 'minutes'}", []


def _negative_ago(intent: str, rng: random.Random, style: str) -> tuple[str, list[str]]:
    """``{negago}``: "three days ago" (no key)."""
    n = rng.choice([2, 3, 5, 10, 20])
    return f"{dg.num(rng, n, style)} {rng.choice(['hours', 'days', 'minutes', 'weeks', 'years'])} ago", []


def _timer_length(intent: str, rng: random.Random, style: str) -> tuple[str, list[str]]:
    """``{dur}``: a timer's length."""
    return _timer_duration(rng, style, adjective=False)


def _timer_adjective(intent: str, rng: random.Random, style: str) -> tuple[str, list[str]]:
    """``{durx}``: a timer's length as an adjective ("a ten-minute timer")."""
    return _timer_duration(rng, style, adjective=True)


_SLOT_DRAWS: dict[str, Callable[[str, random.Random, str], tuple[str, list[str]]]] = {
    "date": _date_for,
    "when": _when,
    "day": _future_day,
    "pday": _past_day,
    "dweek": _weekday,
    "dayp": _possessive_day,
    "clock": _clock,
    "aw": _alarm_time,
    "negdur": _negative_duration,
    "negago": _negative_ago,
    "dur": _timer_length,
    "durx": _timer_adjective,
}


def _slot_date(slot: str, intent: str, rng: random.Random, style: str) -> tuple[str, list[str]]:
    """The labelled date phrase of a date slot. Raises KeyError for an unknown slot."""
    return _SLOT_DRAWS[slot](intent, rng, style)


def _filler(slot: str, rng: random.Random) -> str:
    if slot == "event":
        if rng.random() < 0.5:
            return rng.choice(BOOK.event_patterns).format(c=rng.choice(BOOK.contacts))
        return rng.choice(BOOK.events)
    if slot == "n":
        return str(rng.choice([10, 20, 25, 30, 40, 50, 60, 70, 75, 80, 90, 100, 3, 5, 7]))
    return rng.choice(BOOK.slot_fillers[slot])


# --------------------------------------------------------------------------------------------- surface
_HOMOPHONES = {
    "to": ["two", "too"],
    "for": ["four"],
    "right": ["write"],
    "new": ["knew"],
    "know": ["no"],
    "there": ["their"],
    "hear": ["here"],
    "one": ["won"],
    "weather": ["whether"],
    "i": ["eye"],
}
_DROPPABLE = {"the", "a", "me", "my", "to", "an", "for", "up", "is"}


def _slip(words: list[str], rng: random.Random) -> list[str]:
    """One small recognition slip on template words: drop or duplicate a short word, or a homophone."""
    if not words:
        return words
    kind = rng.choice(["drop", "dup", "homophone", "homophone"])
    idx = list(range(len(words)))
    rng.shuffle(idx)
    for i in idx:
        w = words[i]
        if kind == "drop" and w in _DROPPABLE and len(words) > 2:
            return words[:i] + words[i + 1 :]
        if kind == "dup" and len(w) <= 4:
            return words[: i + 1] + [w] + words[i + 1 :]
        if kind == "homophone" and w in _HOMOPHONES:
            return words[:i] + [rng.choice(_HOMOPHONES[w])] + words[i + 1 :]
    return words


_QUESTION_START = (
    "what",
    "what's",
    "when",
    "where",
    "who",
    "why",
    "how",
    "how's",
    "is",
    "are",
    "do",
    "does",
    "will",
    "can",
    "could",
    "which",
    "any",
    "am",
    "should",
    "have",
    "would",
)


def _whisper_case(text: str, question: bool, pre: str) -> str:
    text = re.sub(r"\bi\b", "I", text)
    text = re.sub(r"\bi'(m|d|ll|ve)\b", lambda m: "I'" + m.group(1), text)
    for name in BOOK.contacts + [
        "Jarvis",
        "Rome",
        "Lisbon",
        "Boston",
        "Dune",
        "Phoenix",
        "Spotify",
        "Firefox",
        "Chrome",
        "Slack",
        "Zoom",
        "Discord",
        "Steam",
        "Gmail",
        "Python",
        "Europe",
        "Canada",
        "Barcelona",
        "Spanish",
        "French",
        "German",
        "Japanese",
        "Italian",
    ]:
        text = re.sub(rf"\b{re.escape(name.lower())}\b", name, text)
    text = text[0].upper() + text[1:]
    if pre and text.lower().startswith(pre) and "jarvis" in pre and len(text) > len(pre) + 1:
        text = text[: len(pre)] + "," + text[len(pre) :]
    if text.endswith("."):
        text = text[:-1]
    return text + ("?" if question else rng_punct(text))


def rng_punct(text: str) -> str:
    return "!" if text.lower().startswith(("wake", "stop", "mute")) and len(text) < 14 else "."


def _asr_case(text: str) -> str:
    text = text.lower()
    text = re.sub(r"[,?!;:](?=\s|$)", "", text)
    text = re.sub(r"\.(?=\s|$)", "", text)
    return re.sub(r"\s+", " ", text).strip()


def _template_words(parts: list[str], i: int, slip: bool, rng: random.Random) -> str:
    """The template words ``parts[i]``, with one recognition slip when ``slip``; the words next to a date
    slot stay intact, so a slip never changes the date keys."""
    words = parts[i].split()
    if slip:
        head = words[:1] if i > 0 and parts[i - 1] in DATE_SLOTS else []
        tail = words[-1:] if i + 1 < len(parts) and parts[i + 1] in DATE_SLOTS and words else []
        core = words[len(head) : len(words) - len(tail)]
        words = head + _slip(core, rng) + tail
    return " ".join(words)


def _fill(intent: str, template: Template, rng: random.Random, style: str) -> tuple[str, list[str], str]:
    """The template's slots filled: ``(text, date_keys, payload)`` before fillers and surface style."""
    parts = re.split(r"\{(\w+)\}", template.text)
    keys: list[str] = list(template.keys)
    payload = ""
    pieces: list[str] = []
    slip_at = rng.randrange(len(parts)) if rng.random() < 0.15 else -1
    if template.keys:  # the template's own words hold its date: a slip could change the keys
        slip_at = -1
    for i, part in enumerate(parts):
        if i % 2 == 0:  # template words
            pieces.append(_template_words(parts, i, i == slip_at, rng))
        elif part in DATE_SLOTS:
            text, k = _slot_date(part, intent, rng, style)
            keys.extend(k)
            pieces.append(text)
        else:
            text = _filler(part, rng)
            if part == PAYLOAD_SLOT.get(intent):
                payload = text
            pieces.append(text)
    text = " ".join(p for p in pieces if p)
    return re.sub(r"\s+", " ", text).strip(), keys, payload


def _prefix(first: str, rng: random.Random) -> tuple[str, bool]:
    """A filler ("hey jarvis") or polite ("could you") prefix, or ""; and whether it makes a question."""
    r = rng.random()
    if r < 0.25:
        return rng.choice(BOOK.filler_pre), False
    if r < 0.4 and first in BOOK.imperative:
        pre = rng.choice(BOOK.polite_pre)
        return pre, pre.startswith(("could", "can", "would"))
    return "", False


def render(intent: str, template: Template, rng: random.Random, style: str) -> tuple[str, list[str], str]:
    """Fill one template: returns ``(text, date_keys, payload)`` with labels from the slots and the
    template's own ``keys``, with fillers and the surface ``style`` ("asr" or "whisper") applied."""
    text, keys, payload = _fill(intent, template, rng, style)
    first = text.split()[0] if text else ""
    pre, polite_question = _prefix(first, rng)
    question = first in _QUESTION_START or polite_question
    if pre:
        text = f"{pre} {text}"
    if rng.random() < 0.07 and not question:
        text = f"{text} {rng.choice(BOOK.filler_post)}"
    if style == "whisper":
        text = _whisper_case(text, question, pre)
        payload = _whisper_case(payload, False, "")[:-1] if payload else ""
    else:
        text = _asr_case(text)
        payload = _asr_case(payload)
    return text, keys, payload


def generate(n: int = 8000, seed: int = 13) -> list[dict]:
    """``n`` distinct labelled utterances, reproducible for a given ``seed``.

    Returns rows ``{"text": str, "intent": str, "date_keys": list[str], "payload": str,
    "template": "intent/NN", "split": "train" | "valid"}``. Raises ValueError if ``n < 1``.
    """
    if n < 1:
        raise ValueError("n must be >= 1")
    rng = random.Random(seed)
    splits = template_ids()
    intents = list(BOOK.templates)
    weights = {
        "reminder_set": 2.2,
        "calendar_set": 1.6,
        "alarm_set": 1.4,
        "timer_set": 1.0,
        "schedule_query": 1.1,
        "schedule_remove": 1.1,
        "weather_query": 1.1,
        "general_chat": 2.4,
    }
    w = [weights.get(i, 0.8) for i in intents]
    rows: list[dict] = []
    seen: set[str] = set()
    attempts = 0
    while len(rows) < n and attempts < n * 20:
        attempts += 1
        intent = rng.choices(intents, w)[0]
        choices = BOOK.templates[intent]
        template = choices[rng.randrange(len(choices))]
        style = "asr" if rng.random() < 0.55 else "whisper"
        text, keys, payload = render(intent, template, rng, style)
        if text.lower() in seen:
            continue
        seen.add(text.lower())
        tid = template.id
        rows.append(
            {
                "text": text,
                "intent": intent,
                "date_keys": keys,
                "payload": payload,
                "template": tid,
                "split": splits[tid],
            }
        )
    return rows


def write_corpus(path: str | Path, n: int = 8000, seed: int = 13) -> list[dict]:
    """Generate and write the corpus as JSONL (one row per line, UTF-8); returns the rows."""
    rows = generate(n, seed)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    return rows


def read_corpus(path: str | Path) -> list[dict]:
    """Read a JSONL corpus written by :func:`write_corpus`."""
    with Path(path).open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]
