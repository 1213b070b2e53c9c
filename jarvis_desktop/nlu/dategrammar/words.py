"""Word lists of the date grammar: which normalised tokens mean what (weekdays, parts of day, units...)."""

from __future__ import annotations

from jarvis_desktop.nlu import vocab

#: spoken fillers dropped by the tokenizer
FILLERS = frozenset(
    ["uh", "uhh", "uhm", "um", "umm", "hm", "hmm", "mm", "er", "erm", "ah", "eh", "please", "kindly", "like"]
)
#: weekday word (plural and short forms included) -> weekday name
WEEKDAYS: dict[str, str] = {d: d for d in vocab.WEEKDAYS}
WEEKDAYS.update({d + "s": d for d in vocab.WEEKDAYS})
WEEKDAYS.update({"tues": "tuesday", "weds": "wednesday", "thurs": "thursday", "wensday": "wednesday"})
#: part-of-day word -> part of day
PARTS_OF_DAY: dict[str, str] = {
    "morning": "morning",
    "mornings": "morning",
    "afternoon": "afternoon",
    "afternoons": "afternoon",
    "evening": "evening",
    "evenings": "evening",
    "night": "night",
    "nights": "night",
}
TOMORROW = frozenset({"tomorrow", "tomorow", "tommorow", "tommorrow", "tmrw", "tmr", "morrow"})
TONIGHT = frozenset({"tonight", "tonite", "tonigh"})
#: calendar period word -> unit of the ``this_/next_/last_`` keys
PERIOD_UNITS: dict[str, str] = {
    "week": "week",
    "weeks": "week",
    "weekend": "weekend",
    "weekends": "weekend",
    "month": "month",
    "months": "month",
    "year": "year",
    "years": "year",
}
#: meal word -> meal ("tea" is a meal word that gives no key)
MEALS: dict[str, str | None] = {
    "breakfast": "breakfast",
    "brunch": "breakfast",
    "lunch": "lunch",
    "dinner": "dinner",
    "supper": "dinner",
    "tea": None,
}
#: one-word meal times -> key
MEAL_TIME_WORDS: dict[str, str] = {
    "lunchtime": "during_lunch",
    "dinnertime": "at_dinner",
    "suppertime": "at_dinner",
    "breakfasttime": "at_breakfast",
}
#: duration unit word -> seconds
UNIT_SECONDS: dict[str, int] = {
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
UNIT_LETTERS: dict[str, int] = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
#: units that cannot be written as in_N_seconds / in_N_minutes / in_N_days (months and years vary in length)
UNSUPPORTED_UNITS = frozenset({"month", "months", "year", "years", "decade", "decades"})
#: hour-unit words (a bare minute count may follow them: "1 hour 30")
HOUR_UNITS = ("hour", "hours", "hr", "hrs", "h")
MINUTE_UNITS = ("minutes", "minute", "min", "mins")
#: quantities that make a duration vague ("a few minutes")
VAGUE_QUANTITIES = frozenset({"few", "several", "some", "couple", "many", "bunch", "number", "handful", "coupla"})
#: hedges that may stand before a duration or a clock time
APPROX = frozenset(
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
#: prepositions that announce a clock time
CLOCK_PREPS = frozenset(
    {"at", "by", "around", "till", "til", "until", "before", "after", "from", "since", "@", "between", "to"}
)
#: words after a number that make it a count, not an hour
NOT_AFTER_HOUR = frozenset(
    set(UNIT_SECONDS)
    | UNSUPPORTED_UNITS
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
NOON_WORDS = frozenset({"noon", "midday", "midnight"})
PLURAL_UNITS = frozenset({"seconds", "minutes", "hours", "days", "weeks", "months", "years"})
#: words before a bare number that make "<n> in the morning" a count, not a clock time ("chapter four ...")
NOT_CLOCK_BEFORE = frozenset(
    [
        "chapter",
        "chapters",
        "page",
        "pages",
        "episode",
        "episodes",
        "season",
        "level",
        "room",
        "floor",
        "row",
        "gate",
        "track",
        "number",
        "no",
        "part",
        "step",
        "section",
        "lesson",
        "unit",
        "volume",
        "book",
        "act",
        "scene",
        "bus",
        "route",
        "line",
        "platform",
        "table",
        "seat",
        "apartment",
        "flat",
        "building",
        "exit",
        "highway",
        "channel",
        "for",
        "the",
        "a",
        "an",
        "take",
        "takes",
        "took",
        "eat",
        "buy",
        "drink",
        "have",
        "get",
        "give",
        "top",
        "size",
        "version",
        "grade",
        "class",
        "year",
        "years",
        "age",
        "aged",
        "verse",
        "player",
        "team",
        "plus",
        "minus",
        "times",
        "of",
        "than",
        "only",
        "all",
        "those",
        "these",
        "first",
        "last",
    ]
)
TIMER_WORDS = frozenset({"timer", "timers", "countdown", "snooze", "stopwatch"})
WAKE_WORDS = frozenset({"wake", "waking", "wakeup", "woken"})
ALARM_WORDS = frozenset({"alarm", "alarms"}) | WAKE_WORDS
#: prepositions after which "noon"/"midnight" stay the bare key ("around noon", "before midnight"; rule 10)
BARE_NOON_PREPS = frozenset(
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
#: words that never start a date expression (fast path of the parser)
SKIP_START = frozenset(
    [
        "i",
        "me",
        "my",
        "you",
        "your",
        "it",
        "is",
        "are",
        "was",
        "be",
        "to",
        "and",
        "or",
        "but",
        "what",
        "what's",
        "whats",
        "which",
        "who",
        "how",
        "do",
        "does",
        "did",
        "can",
        "could",
        "would",
        "will",
        "should",
        "set",
        "remind",
        "reminder",
        "call",
        "open",
        "play",
        "please",
        "hey",
        "jarvis",
        "ok",
        "okay",
        "so",
        "of",
        "the",
        "an",
        "a",
        "that",
        "there",
        "then",
    ]
) - {"the", "a", "an", "to"}
