"""Days and calendar periods: "today", "tomorrow morning", "the day after tomorrow", "this time tomorrow",
"tonight", "last night", "next friday", "friday of next week", "this weekend", "next month"."""

from __future__ import annotations

from jarvis_desktop.nlu.dategrammar.stream import Item, TokenStream
from jarvis_desktop.nlu.dategrammar.words import PARTS_OF_DAY, PERIOD_UNITS, TOMORROW, TONIGHT, WEEKDAYS

_PLURAL_PARTS = ("mornings", "evenings", "nights")
_WEEKDAY_PREPS = ("on", "by", "until", "till", "for", "before", "after", "since", "from", "every", "each")


def combine_day_part(day: Item, part: str, end: int) -> list[Item]:
    """A relative day item followed by a part of day ending at token ``end``: one combined key
    ("tomorrow" + "morning" -> ``tomorrow_morning``, "today" + "night" -> ``tonight``), or for the other
    days ("the day after tomorrow morning") the day and an attached part item."""
    base = day.key
    if base == "today":
        key = "tonight" if part == "night" else f"this_{part}"
    elif base == "tomorrow":
        key = f"tomorrow_{part}"
    elif base == "yesterday":
        key = "last_night" if part == "night" else f"yesterday_{part}"
    else:
        return [day, Item("part", part, day.end, end, attached=True)]
    return [Item("key", key, day.start, end)]


def _part_after(ts: TokenStream, k: int) -> tuple[str, int] | None:
    """(part of day, end) of "[early|late] morning", "at night", "overnight" at ``k``."""
    if ts.word(k) in ("early", "late") and ts.word(k + 1) in PARTS_OF_DAY:
        k += 1
    if ts.word(k) in PARTS_OF_DAY:
        return PARTS_OF_DAY[ts.word(k)], k + 1
    if ts.word(k) == "at" and ts.word(k + 1) == "night":
        return "night", k + 2
    if ts.word(k) == "overnight":
        return "night", k + 1
    return None


def _with_part(ts: TokenStream, day: Item) -> list[Item]:
    """ "tomorrow morning", "today evening", "tomorrow at night" -> the combined key."""
    found = _part_after(ts, day.end)
    if found is None:
        return [day]
    return combine_day_part(day, *found)


def _day_after_before(ts: TokenStream, i: int) -> list[Item] | None:
    """ "[the] day after tomorrow", "[the] day before yesterday"."""
    k = i + 1 if ts.word(i) == "the" and ts.word(i + 1) == "day" else i
    if ts.word(k) != "day":
        return None
    relation, target = ts.word(k + 1), ts.word(k + 2)
    if relation == "after" and target in TOMORROW:
        return _with_part(ts, Item("day", "day_after_tomorrow", i, k + 3))
    if relation == "before" and target == "yesterday":
        return _with_part(ts, Item("day", "day_before_yesterday", i, k + 3))
    return None


def _same_time(ts: TokenStream, i: int) -> list[Item] | None:
    """ "this time tomorrow", "same time tomorrow", "this time next week"."""
    if ts.word(i) not in ("this", "same") or ts.word(i + 1) != "time":
        return None
    nw, k = ts.word(i + 2), i + 3
    if nw in TOMORROW:
        return [Item("key", "in_1_days", i, k)]
    if nw == "next" and ts.word(k) == "week":
        return [Item("key", "in_7_days", i, k + 1)]
    return None


def _day_word(ts: TokenStream, i: int) -> list[Item] | None:
    """ "tonight", "tomorrow [morning]", "tomorrow same time", "today [evening]", "yesterday [morning]"."""
    w = ts.word(i)
    if w in TONIGHT:
        return [Item("key", "tonight", i, i + 1)]
    if w in TOMORROW:
        if ts.word(i + 1) in ("same", "this") and ts.word(i + 2) == "time":
            return [Item("key", "in_1_days", i, i + 3)]
        return _with_part(ts, Item("day", "tomorrow", i, i + 1))
    if w in ("today", "yesterday"):
        return _with_part(ts, Item("day", w, i, i + 1))
    return None


def _this_last_part(ts: TokenStream, i: int) -> list[Item] | None:
    """ "this morning", "later this evening", "this early afternoon", "last night", "last evening"."""
    w = ts.word(i)
    later_this = w == "later" and ts.word(i + 1) == "this"
    if w not in ("this", "last") and not later_this:
        return None
    k = i + 2 if later_this else i + 1
    mod = "this" if later_this else w
    if ts.word(k) in ("early", "late"):
        k += 1
    said = ts.word(k)
    part = PARTS_OF_DAY.get(said)
    if not part or (said != part and said not in _PLURAL_PARTS):
        return None
    if mod == "this":
        return [Item("key", "tonight" if part == "night" else f"this_{part}", i, k + 1)]
    if part == "night":
        return [Item("key", "last_night", i, k + 1)]
    if part == "evening":
        return [Item("key", "yesterday_evening", i, k + 1)]
    return None


def match_day(ts: TokenStream, i: int) -> list[Item] | None:
    """A relative day at ``i``, with its part of day when one follows."""
    for form in (_day_after_before, _same_time, _day_word, _this_last_part):
        found = form(ts, i)
        if found is not None:
            return found
    return None


def _weekday_tail(ts: TokenStream, mod: str, day: str, s: int, k: int) -> list[Item]:
    """The ``{mod}_{day}`` key over ``s..k``, and an attached part of day ("friday morning") when one follows."""
    item = Item("key", f"{mod}_{day}", s, k)
    kk = k
    if ts.word(kk) in ("early", "late") and ts.word(kk + 1) in PARTS_OF_DAY:
        kk += 1
    part = PARTS_OF_DAY.get(ts.word(kk))
    if part:
        return [item, Item("part", part, kk, kk + 1, attached=True)]
    if ts.word(kk) == "at" and ts.word(kk + 1) == "night":
        return [item, Item("part", "night", kk, kk + 2, attached=True)]
    return [item]


def _weekday_modifier(ts: TokenStream, k: int) -> tuple[str, int]:
    """("this"/"next"/"last", index of the weekday) after "[the] coming/next/last/this past/...": "this"
    with ``k`` unchanged when no modifier is said."""
    if ts.word(k) == "the" and ts.word(k + 1) in ("coming", "following", "next", "previous", "last", "past"):
        k += 1
    said = ts.word(k)
    if said == "this" and ts.word(k + 1) in ("coming", "past"):
        return ("this" if ts.word(k + 1) == "coming" else "last"), k + 2
    if said in ("this", "coming", "upcoming"):
        return "this", k + 1
    if said in ("next", "following"):
        return "next", k + 1
    if said in ("last", "past", "previous"):
        return "last", k + 1
    return "this", k


def match_weekday(ts: TokenStream, i: int) -> list[Item] | None:
    """ "[on] [next|last|this coming|the following] friday [of next week]", "next week [on] friday"."""
    k = (
        i + 1
        if ts.word(i) in ("on", "by", "until", "till", "for", "before", "after", "since", "from", "every", "each")
        else i
    )
    if ts.word(k) in ("next", "last", "this") and ts.word(k + 1) == "week":
        kk = k + 2
        if ts.word(kk) in ("on", "at"):
            kk += 1
        if ts.word(kk) in WEEKDAYS:
            return _weekday_tail(ts, ts.word(k), WEEKDAYS[ts.word(kk)], i, kk + 1)
        return None
    mod, k = _weekday_modifier(ts, k)
    day = WEEKDAYS.get(ts.word(k))
    if day is None:
        return None
    k += 1
    # "friday next week", "friday of next week", "friday this week"
    kk = k + 1 if ts.word(k) == "of" else k
    if ts.word(kk) in ("next", "last", "this") and ts.word(kk + 1) == "week" and mod == "this":
        mod, k = ts.word(kk), kk + 2
    return _weekday_tail(ts, mod, day, i, k)


def _period_modifier(ts: TokenStream, k: int, said: str) -> tuple[str, int] | None:
    """("this"/"next"/"last", index of the unit) for "this", "this coming", "next", "the following",
    "last", "past", "coming"...; None when ``said`` is no modifier."""
    if said == "this" and ts.word(k + 1) in ("coming", "upcoming", "past"):
        return ("next" if ts.word(k + 1) != "past" else "last"), k + 2
    if said == "this":
        return "this", k + 1
    if said in ("next", "following", "coming", "upcoming"):
        return "next", k + 1
    if said in ("last", "past", "previous"):
        return "last", k + 1
    return None


def match_period(ts: TokenStream, i: int) -> list[Item] | None:
    """ "[over] the weekend", "this week", "next month", "the coming weekend", "later this week", "last year"."""
    k = i
    if ts.word(i) in ("over", "on", "at", "during", "for", "by", "until", "till", "within", "in"):
        k += 1
    if ts.word(k) == "later" and ts.word(k + 1) == "this":
        k += 1
    said = ts.word(k)
    if said == "the" and ts.word(k + 1) in ("coming", "upcoming", "following", "next", "previous", "past", "last"):
        k += 1
        said = ts.word(k)
    elif said == "the" and ts.word(k + 1) in ("weekend", "weekends"):
        return [Item("key", "this_weekend", i, k + 2)]
    if said in ("weekend", "weekends"):
        return None if ts.word(k - 1) in ("every", "each") else [Item("key", "this_weekend", i, k + 1)]
    modifier = _period_modifier(ts, k, said)
    if modifier is None:
        return None
    mod, k = modifier
    unit = PERIOD_UNITS.get(ts.word(k))
    if unit is None or ts.word(k) in ("weeks", "months", "years"):
        return None
    if unit == "weekend" and mod == "next" and said in ("coming", "upcoming", "this"):
        mod = "this"  # "the coming weekend", "this coming weekend"
    return [Item("key", f"{mod}_{unit}", i, k + 1)]
