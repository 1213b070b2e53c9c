"""Parts of day and meals: "in the morning", "during the afternoon", "overnight", "at lunch",
"over breakfast", "after dinner", "dinnertime"."""

from __future__ import annotations

from jarvis_desktop.nlu.dategrammar.stream import Item, TokenStream
from jarvis_desktop.nlu.dategrammar.words import MEAL_TIME_WORDS, MEALS, PARTS_OF_DAY

_PART_PREPS = frozenset(
    {"in", "during", "by", "until", "till", "at", "every", "each", "through", "throughout", "first", "early", "late"}
)
_MEAL_PREPS = ("at", "during", "over", "after", "with", "by")
#: (meal, preposition) -> key; a meal said with another preposition gives no key
_MEAL_KEYS: dict[tuple[str, str], str] = {
    ("lunch", "at"): "during_lunch",
    ("lunch", "during"): "during_lunch",
    ("lunch", "over"): "during_lunch",
    ("lunch", "with"): "during_lunch",
    ("breakfast", "at"): "at_breakfast",
    ("breakfast", "during"): "during_breakfast",
    ("breakfast", "over"): "during_breakfast",
    ("breakfast", "with"): "during_breakfast",
    ("dinner", "at"): "at_dinner",
    ("dinner", "during"): "during_dinner",
    ("dinner", "over"): "during_dinner",
    ("dinner", "with"): "during_dinner",
    ("dinner", "after"): "after_dinner",
}


def match_part(ts: TokenStream, i: int) -> list[Item] | None:
    """A part-of-day item: "in the morning", "first thing in the morning", "every evening", "overnight"
    (a bare "morning" without preposition or article is not one)."""
    w = ts.word(i)
    k = i
    prep = False
    if w in _PART_PREPS:
        prep = True
        k += 1
        if w == "first" and ts.word(k) == "thing" and ts.word(k + 1) == "in":
            k += 2
    if ts.word(k) == "the":
        prep = True
        k += 1
    if ts.word(k) in ("early", "late", "mid"):
        k += 1
    part = PARTS_OF_DAY.get(ts.word(k))
    if part is not None and prep:
        return [Item("part", part, i, k + 1)]
    if ts.word(k) == "overnight":
        return [Item("part", "night", i, k + 1)]
    return None


def match_meal(ts: TokenStream, i: int) -> list[Item] | None:
    """A meal key: "at breakfast", "during lunch", "over dinner", "after dinner", "lunch time", "dinnertime"."""
    w = ts.word(i)
    if w in MEAL_TIME_WORDS:
        return [Item("key", MEAL_TIME_WORDS[w], i, i + 1)]
    prep, k = (w, i + 1) if w in _MEAL_PREPS else ("", i)
    if ts.word(k) in ("the", "my", "our"):
        k += 1
    meal = MEALS.get(ts.word(k))
    if meal is None:
        return None
    k += 1
    timeword = ts.word(k) == "time"
    if timeword:
        k += 1
    if prep == "" and not timeword:
        return None
    if prep in ("", "by"):
        prep = "during" if meal == "lunch" else "at"
    key = _MEAL_KEYS.get((meal, prep))
    return None if key is None else [Item("key", key, i, k)]
