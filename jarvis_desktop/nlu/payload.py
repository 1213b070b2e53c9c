"""The utterance's payload: what the action works on, with the date expressions, fillers and the intent's
trigger words removed.

    "remind me to call mom tomorrow at 3 pm"            -> "call mom"        (reminder_set)
    "take a note: buy milk"                             -> "buy milk"        (note_create)
    "take a note: pick up the dry cleaning on friday"   -> "pick up the dry cleaning on friday" (note_create)
    "open firefox"                                      -> "firefox"         (app_open)
    "search the web for python decorators"              -> "python decorators" (web_search)
    "schedule a meeting with Ana next tuesday at 2 pm"  -> "meeting with Ana" (calendar_set)
    "play some jazz"                                    -> "jazz"            (media_control)

A note keeps the user's whole text, date words included ("on friday", "later"): it is saved, not
scheduled. Every other intent loses its date expressions ("call mom", not "call mom tomorrow at 3 pm").
Intents without a payload (timers, alarms, queries, volume, chat, ...) give "". Pure rules, no model.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_FILLER_HEAD = re.compile(
    r"^(?:(?:hey|ok|okay|hi|so|uh|um|uhm|er|hmm|well|alright|jarvis|please|go ahead and|yo|listen|"
    r"excuse me|quick question|just|i'?d like you to|i want you to|would you mind|"
    r"(?:could|can|would|will) you)\b[\s,]*)+",
    re.I,
)
_FILLER_TAIL = re.compile(r"(?:[\s,]+(?:please|thanks|thank you|for me|jarvis|now please))+$", re.I)
_EDGE_WORDS = (
    r"(?:to|two|too|that|about|for|four|so|on|at|by|in|and|saying|called|named|of|with|this|next|"
    r"before|around|after|until)"
)
_TAIL_EDGE_WORDS = (
    r"(?:to|that|about|for|so|on|at|by|in|and|saying|called|named|of|with|this|next|before|"
    r"around|after|until)"
)
_TO = r"(?:to|two|too)"
_FOR = r"(?:for|four)"
#: a preposition right before a cut-out date belongs to it ("call mom [at] <date>", "meeting [on] <date>")
_DATE_PREP = re.compile(r"\b(?:at|on|in|by|before|around|after|until|for|from|this|next|during|over)\s*$", re.I)


def _rx(*alternatives: str) -> re.Pattern:
    joined = "|".join(alternatives)
    return re.compile(rf"^(?:{joined})\b\s*", re.I)


_TRIGGERS: dict[str, list[re.Pattern]] = {
    "reminder_set": [
        # everything up to the first reminder word, then its connectors: "shoot me a reminder to", "jog my memory to"
        re.compile(
            r"^(?:\S+\s+){0,6}?(?:remind(?:er|ed)?s?|remember|memory|forget|forgetting|heads up|nudge|"
            r"buzz me|flag it)\b"
            rf"(?:\s+(?:for me|for|me|us|{_TO}|about|that|of|so|i|it|need|have|should|must|will|once more|"
            r"when it'?s)\b)*\s*",
            re.I,
        ),
        _rx(
            r"make sure (?:that )?i",
            r"(?:ping|nudge|alert|tell|text|shoot|message|notify|poke) me(?: about)?",
            r"let me know(?: that)?",
            r"give me a shout",
        ),
        _rx(
            r"(?:again |once more )?(?:that says|says|to go and|go and|to not forget to|not forget to|"
            r"the thing|again to|again)"
        ),
        _rx(
            rf"(?:(?:that )?i (?:need {_TO}|have {_TO}|should|must|gotta|want {_TO})|"
            rf"i'?ve got {_TO}|so (?:that )?i|{_TO})"
        ),
    ],
    "note_create": [
        _rx(
            r"note it down",
            r"write this in a note",
            r"make note that",
            r"make a note of this",
            r"take this down",
            r"take down",
            r"note for later",
            r"note please",
            r"(?:can you )?remember(?: this| that)?(?: for me)?",
            r"record that",
            r"keep a record that",
            r"file a note",
            r"save this as a note",
            r"jot (?:this down|a note)",
            r"write (?:that|this) down",
            r"put down a note",
        ),
        re.compile(
            r"^(?:\S+\s+){0,5}?(?:notes?|memo|down|this(?: for me)?|remember that)\b"
            r"(?:\s+(?:saying|that|this|to self|down|for me|a note|note|(?:in|to|into) (?:my |the )?notes)\b)*\s*",
            re.I,
        ),
    ],
    "web_search": [
        _rx(
            r"(?:i want to |can you |could you |please )?(?:do |run )?(?:a |an )?(?:web |internet |online |google )?"
            r"(?:search|query|look)(?:es)?(?: up| online| the web| the internet| google| the net| out)?"
            rf"(?: {_FOR}| on| about| into)?",
            rf"(?:google|bing|duckduckgo)(?: search)?(?: {_FOR})?",
            rf"browse (?:the web|the internet|online) {_FOR}",
            rf"find (?:out )?(?:me )?(?:some )?(?:articles|information|info|results|pages)? ?(?:about|on|{_FOR})?",
            rf"check online {_FOR}",
            r"what does (?:the )?(?:internet|web|google) say about",
            rf"check the web {_FOR}",
            rf"browse {_FOR}",
            r"web",
            r"find me",
            r"look online",
            rf"(?:pull up|get me|show me) (?:the )?(?:search )?results (?:about|on|{_FOR})",
            r"look into",
            r"hunt down",
            r"(?:do )?(?:some )?research(?: on| about)?",
        ),
    ],
    "app_open": [
        _rx(
            r"(?:can you |could you |please |let'?s |i'?d like to |i want to |i wanna |i need to )?"
            r"(?:open a window of|open(?: up)?(?: the (?:app|program))?|"
            r"launch(?: up)?|start(?: me)?(?: up)?(?: the (?:app|program))?|"
            r"fire up|bring up|pull up|boot up|spin up|run|"
            r"load(?: up)?|access|navigate to|pop open|get me into|get into|jump to|visit|kick off|fire|startup|"
            r"switch over to|"
            r"go to the website|open the website|open new|open a new|show|let me use|put|"
            rf"go {_TO}|switch {_TO}|show me|take me {_TO}|use|get|can i get|need|i need|i want|have|display|execute|"
            r"bring|open)"
        ),
    ],
    "calendar_set": [
        _rx(
            r"(?:reserve|save) the date(?: for)?",
            r"mark down",
            r"i'?m having",
            r"we have",
            r"there'?s",
            r"(?:hold|keep(?: free)?|block(?! (?:out )?time)(?: out)?(?: in the calendar)?)(?: for)?",
            r"stick",
            r"invite me to",
            r"calendar(?! event)",
            r"i need(?= an? )",
            r"put down",
        ),
        _rx(
            r"(?:can you |could you |please |i'?d like to |i want to |i need to )?"
            r"(?:set up time for|put me down for|schedule|put|add|book(?: me)?|"
            r"set up|set|create|plan|block (?:out )?time for|arrange|organi[sz]e|pencil in|slot|save|enter|mark|make|"
            r"register|get|note|log|reserve|i'?ve got|new calendar event|calendar|i have)"
            r"(?: an?)?(?: new)?(?: calendar)?(?: event| entry| appointment)?(?: called| named| for)?"
        ),
    ],
    "media_control": [
        _rx(
            r"(?:can you |could you |please )?(?:start )?(?:play(?:ing)?|put on|i want to hear|queue(?: up)?|"
            r"shuffle|listen to)(?: some)?(?: (?:something|anything|songs|music|stuff) by)?"
        ),
    ],
}
_TAILS: dict[str, re.Pattern] = {
    "reminder_set": re.compile(
        r"\s*\b(?:(?:can|could|would) you |please )?(?:remind me|set a reminder)(?: about it| of it)?$", re.I
    ),
    "web_search": re.compile(r"\s*\b(?:online|on the web|on the internet|on google|on the net|up)$", re.I),
    "app_open": re.compile(
        r"\s*\b(?:application|running|open|for me|please|going|up|now|to the front|window|"
        r"on the desktop|on the screen|quickly|program)$",
        re.I,
    ),
    "calendar_set": re.compile(
        r"\s*\b(?:(?:on|to|in|into|onto) (?:my|the) (?:calendar|schedule|agenda|diary)(?: for)?|add it|put it in|"
        r"(?:for|in) my calendar|booked|up(?: for)?|(?:add|put) it (?:in|on|to) (?:my |the )?calendar|"
        r"down(?: for)?)$",
        re.I,
    ),
    "note_create": re.compile(r"\s*\b(?:in my notes|to my notes)$", re.I),
    "media_control": re.compile(r"\s*\b(?:on repeat|next|to the queue|in the queue)$", re.I),
}
_VAGUE = re.compile(
    r"\b(?:in a (?:bit|little while|while|moment|sec|second)|in a few (?:minutes|hours|days)|at some point|"
    r"some ?other time|sometime(?: soon)?|later(?: on| today)?|soon)\b",
    re.I,
)
_DOUBLED = re.compile(r"\b(\w+)(?:\s+\1\b)+", re.I)
_MEDIA_NO_PAYLOAD = re.compile(
    r"^(?:(?:the |my )?(?:next|previous|last|that|this)?\s*(?:one|song|track|music|episode)?|"
    r"(?:it|that|this|the song|the track)? ?again)$",
    re.I,
)
PAYLOAD_INTENTS = frozenset(_TRIGGERS)
#: intents whose payload keeps its date words: a note is the user's text as said, not a time to schedule
_KEEPS_DATES = frozenset({"note_create"})


def normalize_payload(text: str) -> str:
    """Comparison form of a payload: lowercase, punctuation dropped (dots inside words like
    ``youtube.com`` kept), single spaces, leading "the/a/an/my/some" and a trailing "app" dropped."""
    s = text.lower()
    s = re.sub(r"[,?!;:\"()]+", " ", s)
    s = re.sub(r"\.(?=\s|$)", " ", s)
    s = re.sub(r"\s+", " ", s).strip()
    s = re.sub(r"^(?:(?:the|a|an|my|some)\s+)+", "", s)
    return re.sub(r"\s+app$", "", s)


def _remove_spans(text: str, spans: Sequence) -> str:
    out, pos = [], 0
    for sp in sorted(spans, key=lambda s: s.start):
        if sp.start < pos:
            continue
        out.append(_DATE_PREP.sub("", text[pos : sp.start]))
        out.append(" ")
        pos = sp.end
        if text[pos : pos + 2] in ("'s", "’s"):
            pos += 2
    out.append(text[pos:])
    return "".join(out)


def _cleaned(text: str, intent: str, spans: Sequence) -> str:
    """The text without date spans, punctuation, vague times (except for searches and notes), doubled words
    and leading/trailing fillers."""
    s = _remove_spans(text, spans)
    s = re.sub(r"(?:[,?!;\"“”]|(?<!\d):(?!\d))+", " ", s)  # "9:30" keeps its colon
    s = re.sub(r"\.(?=\s|$)", " ", s)
    if intent not in _KEEPS_DATES and intent != "web_search":
        s = _VAGUE.sub(" ", s)
    s = _DOUBLED.sub(r"\1", s)
    s = re.sub(r"\beye\b", "i", s, flags=re.I)  # a common recognition slip for "I"
    s = re.sub(r"\s+", " ", s).strip()
    for _ in range(3):
        s = _FILLER_HEAD.sub("", s)
        s = _FILLER_TAIL.sub("", s).strip()
    return s


def _without_triggers(s: str, intent: str) -> str:
    """The intent's trigger words ("remind me to", "search for", "open") and tail words removed."""
    tail = _TAILS.get(intent)
    if tail:
        cut = tail.sub("", s).strip()
        if intent == "note_create" and cut != s:  # "add pay rent to my notes": the "add" went with the tail
            cut = re.sub(r"^(?:put|add)\s+", "", cut, flags=re.I)
        s = cut
    for i, pat in enumerate(_TRIGGERS[intent]):
        s = pat.sub("", s, count=1).strip()
        if i == 0 and intent == "reminder_set":  # "don't forget to remind me to ..."
            s = pat.sub("", s, count=1).strip() if re.match(r"^remind", s, re.I) else s
    for _ in range(2):
        if tail:
            s = tail.sub("", s).strip()
        s = _FILLER_TAIL.sub("", s).strip()
    return s


def _trimmed_edges(s: str, intent: str) -> str:
    """Dangling connectors left where a date was cut out ("call mom at", "for the meeting on") and
    leading articles removed."""
    if intent not in ("note_create", "web_search"):
        s = re.sub(rf"(?:\s+{_TAIL_EDGE_WORDS})+$", "", s, flags=re.I)
    s = re.sub(rf"^(?:{_EDGE_WORDS}\s+)+", "", s, flags=re.I) if intent in ("reminder_set", "calendar_set") else s
    if intent in ("calendar_set", "app_open"):
        s = re.sub(r"^(?:(?:a|an|the)\s+)+", "", s, flags=re.I)
    return s


def _media_without_payload(s: str, text: str) -> bool:
    """A media command with nothing to play ("play the next one") or not a play command ("pause")."""
    if _MEDIA_NO_PAYLOAD.match(s):
        return True
    return not re.match(
        r"^(?:(?:can|could) you |please )?(?:start )?(?:play|put on|i want to hear|queue|shuffle|listen)",
        _FILLER_HEAD.sub("", text.strip()),
        re.I,
    )


def extract_payload(text: str, intent: str, spans: Sequence = ()) -> str:
    """The payload of ``text`` for ``intent``; ``spans`` are the date spans (objects with ``start``/``end``
    character offsets into ``text``, as from ``extract_date_spans``) to cut out, except for ``note_create``,
    whose payload keeps them ("pick up the dry cleaning on friday"). Returns "" for intents without a
    payload or when nothing is left. Never raises on odd text."""
    if intent not in PAYLOAD_INTENTS or not text:
        return ""
    if intent in _KEEPS_DATES:
        spans = ()
    s = _trimmed_edges(_without_triggers(_cleaned(text, intent, spans), intent), intent)
    if intent == "media_control" and _media_without_payload(s, text):
        return ""
    return re.sub(r"\s+", " ", s).strip(" .")
