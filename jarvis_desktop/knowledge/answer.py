"""Grounded answers: which search hits are relevant enough to cite, the prompt that numbers them for the chat
model, the check that keeps only real citations in its answer, and the short labels shown and spoken.

Relevance (:func:`select_citations`): with embeddings, a hit counts when its cosine ``similarity`` to the question
is at least :data:`SIMILARITY_THRESHOLD`; in a BM25-only index (``similarity`` is None) when at least
:data:`LEXICAL_THRESHOLD` of the question's content words occur in the passage (:func:`lexical_coverage`). Both
values were chosen by ``bench/grounding_threshold.py`` on the dev half of ``bench/data/grounding_questions.jsonl``
(questions about a small set of notes and documents, and everyday chat questions that must get no citation) and
checked on its held-out half (docs/knowledge.md, "Answers with citations").

The chat model (by default SmolLM2-135M) is small: the prompt (:func:`grounded_messages`) stays within a token
limit (the passages are cut to fit), and whatever it writes, :func:`check_citations` removes any "[n]" that is not
one of the cited passages, so an answer never carries an invented citation. The sources are listed under the
answer even when the model did not cite them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import PurePath

from jarvis_desktop.knowledge.types import Citation, SearchHit
from jarvis_desktop.llm.types import ChatMessage

#: cosine similarity (all-MiniLM-L6-v2) at or above which a passage is cited; chosen on the dev questions
SIMILARITY_THRESHOLD = 0.40
#: share of the question's content words found in a passage at or above which a BM25-only hit is cited
LEXICAL_THRESHOLD = 0.5
#: at most this many passages go to the chat model (a 135M model loses the thread with more)
MAX_CITATIONS = 3
#: tokens the whole grounded user message may take (``[chat] paste_limit_tokens`` is passed in its place)
DEFAULT_PROMPT_TOKENS = 768

NOTHING_FOUND = "I found nothing about that in your notes and documents."

GROUNDED_SYSTEM = (
    "You are Jarvis, a desktop assistant. Answer the question using only the numbered passages from the user's "
    "own notes and documents. Cite the passage you used as [1] or [2]. If the passages do not answer the "
    f'question, say "{NOTHING_FOUND}" Answer in one or two short sentences.'
)

_STOPWORD_TEXT = """a about above after again all am an and any are as at be been before being below between both but
    by can could did do does doing down during each few for from further had has have having he her here hers him his
    how i if in into is it its itself just me more most my myself no nor not now of off on once only or other our ours
    out over own same she should so some such than that the their theirs them then there these they this those
    through to too under until up very was we were what when where which while who whom why will with would you
    your yours yourself tell say said know please according note notes noted document documents file files
    wrote write written did does me my i'm what's whats"""
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_CITATION_MARK = re.compile(r"\[(\d{1,3})\]")

TokenCount = Callable[[str], int]


def content_words(text: str) -> list[str]:
    """The lower-cased words of ``text`` that carry meaning (stop words and one-letter words left out), in order,
    without repeats."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(text.lower()):
        if len(word) > 1 and word not in _STOPWORDS:
            seen.setdefault(word, None)
    return list(seen)


def _stem(word: str) -> str:
    """A crude plural/verb-ending strip so "plumbers" meets "plumber" (enough for a coverage share)."""
    for suffix in ("ing", "es", "ed", "s"):
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def lexical_coverage(question: str, passage: str) -> float:
    """Share in [0, 1] of ``question``'s content words (:func:`content_words`) that occur in ``passage``
    (compared after a crude suffix strip); 0.0 when the question has no content word."""
    words = {_stem(w) for w in content_words(question)}
    if not words:
        return 0.0
    present = {_stem(w) for w in _WORD.findall(passage.lower())}
    return len(words & present) / len(words)


def relevance(hit: SearchHit, question: str = "") -> float:
    """The hit's relevance to ``question``: its cosine ``similarity`` when the index has vectors, else
    :func:`lexical_coverage` of the question in the hit's text (title included)."""
    if hit.similarity is not None:
        return float(hit.similarity)
    return lexical_coverage(question, f"{hit.title}\n{hit.text}")


def select_citations(
    hits: Sequence[SearchHit],
    threshold: float | None = None,
    *,
    question: str = "",
    lexical_threshold: float | None = None,
    limit: int = MAX_CITATIONS,
) -> list[Citation]:
    """The hits relevant enough to answer from, numbered 1.. in search order (best first), at most ``limit``.

    Args:
        hits: a search's results, best first (:meth:`KnowledgeIndex.search`).
        threshold: minimum cosine similarity (default :data:`SIMILARITY_THRESHOLD`), used for hits with a
            ``similarity``.
        question: the question asked; needed for hits without ``similarity`` (a BM25-only index), which count
            when :func:`lexical_coverage` reaches ``lexical_threshold`` (default :data:`LEXICAL_THRESHOLD`);
            without it such hits are never cited.
        limit: the most citations returned (>= 1).

    Returns:
        :class:`Citation` objects numbered from 1, labelled by :func:`citation_label`; empty when nothing is
        relevant (the caller then answers normally). A chunk appearing twice is cited once; a chat message that
        only repeats a cited note, file or item (:func:`repeats`) is not cited.

    Raises:
        ValueError: ``limit`` < 1.
    """
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    vector_min = SIMILARITY_THRESHOLD if threshold is None else threshold
    lexical_min = LEXICAL_THRESHOLD if lexical_threshold is None else lexical_threshold
    relevant: list[SearchHit] = []
    for hit in hits:
        if any(hit.chunk_id == other.chunk_id for other in relevant):
            continue
        if hit.similarity is not None:
            keep = hit.similarity >= vector_min
        else:
            keep = bool(question.strip()) and lexical_coverage(question, f"{hit.title}\n{hit.text}") >= lexical_min
        if keep:
            relevant.append(hit)
    records = [h for h in relevant if h.kind != "chat"]
    kept = [h for h in relevant if h.kind != "chat" or not any(repeats(h.text, r.text) for r in records)]
    return [Citation(number=n, hit=hit, label=citation_label(hit)) for n, hit in enumerate(kept[:limit], 1)]


def repeats(message: str, source: str, share: float = 0.8) -> bool:
    """True when at least ``share`` of a chat ``message``'s content words are in ``source``: the command that
    saved a note ("take a note: ...") or its reply ("Noted: ..."), which is not cited beside the note itself."""
    words = content_words(message)
    return bool(words) and lexical_coverage(" ".join(words), source) >= share


# ---- labels ------------------------------------------------------------------------------------------------
def _day(when: datetime) -> str:
    """ "March 3" (the year added when it is not this year's)."""
    text = f"{when:%B} {when.day}"
    return text if when.year == datetime.now(when.tzinfo).year else f"{text}, {when.year}"


def _file_name(hit: SearchHit) -> str:
    return PurePath(hit.source_id).name or hit.title or hit.source_id


def citation_label(hit: SearchHit) -> str:
    """The short label shown under an answer: "lease.pdf, page 3", "notes.md, line 12", "your note of March 3",
    "our conversation of March 2", "your schedule: Dentist"."""
    loc = hit.location
    if hit.kind == "file":
        name = _file_name(hit)
        if loc.page is not None:
            return f"{name}, page {loc.page}"
        if loc.line is not None:
            return f"{name}, line {loc.line}"
        return f"{name}, {loc.heading.split(' > ')[-1]}" if loc.heading else name
    when = f" of {_day(hit.created)}" if hit.created is not None else ""
    if hit.kind == "note":
        return f"your note{when}"
    if hit.kind == "chat":
        return f"our conversation{when}"
    if hit.kind == "schedule":
        return f"your schedule: {hit.title}" if hit.title else "your schedule"
    return hit.title or hit.source_id


def spoken_label(citation: Citation) -> str:
    """How a spoken answer cites a source, briefly: "from your note of March 3", "from lease.pdf, page 3",
    "from our conversation of March 2" (file names read with their dots: the speech layer says "lease dot pdf")."""
    hit = citation.hit
    if hit.kind == "file":
        name = _file_name(hit)
        return f"from {name}, page {hit.location.page}" if hit.location.page is not None else f"from {name}"
    return f"from {citation_label(hit)}"


def spoken_sources(citations: Sequence[Citation]) -> str:
    """One short spoken sentence naming the sources of an answer ("From your note of March 3 and lease.pdf.");
    "" when there is none. Only the first two are named."""
    labels = [spoken_label(c) for c in citations[:2]]
    if not labels:
        return ""
    joined = labels[0] if len(labels) == 1 else f"{labels[0]} and {labels[1].removeprefix('from ')}"
    return joined[0].upper() + joined[1:] + "."


# ---- the prompt --------------------------------------------------------------------------------------------
def _cut_to_tokens(text: str, limit: int, count: TokenCount) -> str:
    """``text``'s head within ``limit`` tokens (cut at a word boundary, "…" added when cut)."""
    if limit <= 0:
        return ""
    if count(text) <= limit:
        return text
    low, high = 0, len(text)
    while low < high:  # the longest prefix that fits
        mid = (low + high + 1) // 2
        if count(text[:mid]) <= limit - 1:
            low = mid
        else:
            high = mid - 1
    head = text[:low]
    space = head.rfind(" ")
    if space > low // 2:
        head = head[:space]
    return head.rstrip() + " …"


def grounded_user_message(
    question: str, citations: Sequence[Citation], count: TokenCount, limit: int = DEFAULT_PROMPT_TOKENS
) -> str:
    """The user message of a grounded answer: the numbered passages (each headed by its label), then the
    question; the passages share what ``limit`` tokens leave after the question and the headings, each cut at its
    end when longer (the best hit first gets any share the shorter ones leave unused).

    Raises:
        ValueError: no citation (answer without passages instead).
    """
    if not citations:
        raise ValueError("a grounded message needs at least one citation")
    tail = f"\n\nQuestion: {question.strip()}"
    heads = [f"[{c.number}] ({c.label})\n" for c in citations]
    room = limit - count(tail) - sum(count(h) for h in heads) - 4 * len(citations)
    texts = [" ".join(c.hit.text.split()) for c in citations]
    sizes = [count(t) for t in texts]
    shares = [0] * len(texts)
    left, pending = max(0, room), list(range(len(texts)))
    while pending:  # water-filling: short passages whole, the rest split what remains
        share = left // len(pending)
        fits = [i for i in pending if sizes[i] <= share]
        if not fits:
            for i in pending:
                shares[i] = share
            break
        for i in fits:
            shares[i] = sizes[i]
            left -= sizes[i]
            pending.remove(i)
    parts = [head + _cut_to_tokens(text, share, count) for head, text, share in zip(heads, texts, shares, strict=True)]
    return "Passages:\n" + "\n\n".join(parts) + tail


def grounded_messages(
    question: str, citations: Sequence[Citation], count: TokenCount, limit: int = DEFAULT_PROMPT_TOKENS
) -> list[ChatMessage]:
    """The whole prompt of a grounded answer: :data:`GROUNDED_SYSTEM` then :func:`grounded_user_message`
    (earlier exchanges are left out: the passages are the context).

    Raises:
        ValueError: no citation.
    """
    return [
        {"role": "system", "content": GROUNDED_SYSTEM},
        {"role": "user", "content": grounded_user_message(question, citations, count, limit)},
    ]


# ---- after the answer --------------------------------------------------------------------------------------
def check_citations(text: str, citations: Sequence[Citation]) -> str:
    """``text`` with every "[n]" that is not one of ``citations``' numbers removed (with the space before it),
    so an answer never shows an invented citation; real ones are kept as written."""
    valid = {c.number for c in citations}

    def keep(match: re.Match[str]) -> str:
        return match.group(0) if int(match.group(1)) in valid else ""

    cleaned = _CITATION_MARK.sub(keep, text)
    if cleaned == text:
        return text
    cleaned = re.sub(r"[ \t]+([.,;:!?])", r"\1", cleaned)
    return re.sub(r"[ \t]{2,}", " ", cleaned).strip()


def cited_numbers(text: str) -> list[int]:
    """The citation numbers written in ``text`` ("[2] ... [1]" -> [2, 1]), without repeats, in order."""
    seen: dict[int, None] = {}
    for match in _CITATION_MARK.finditer(text):
        seen.setdefault(int(match.group(1)), None)
    return list(seen)


def uses_passages(answer: str, citations: Sequence[Citation], minimum: float = 0.5) -> bool:
    """True when at least ``minimum`` of the answer's content words occur in the cited passages (a cheap check
    that a small model answered from them rather than from its own memory; an answer saying it found nothing is
    False)."""
    words = content_words(answer)
    if not words or NOTHING_FOUND.lower().rstrip(".") in answer.lower():
        return False
    passages = " ".join(f"{c.hit.title} {c.hit.text}" for c in citations)
    return lexical_coverage(" ".join(words), passages) >= minimum


class CitationStream:
    """:func:`check_citations` on a streamed answer: :meth:`feed` each delta and pass on what it returns (a "[" is
    held back until its citation is known to be real or invented), then :meth:`flush` at the end."""

    def __init__(self, citations: Sequence[Citation]) -> None:
        self._valid = {c.number for c in citations}
        self._held = ""

    def feed(self, delta: str) -> str:
        """The part of the stream so far that can be shown: invented "[n]" removed, an open "[" held."""
        text = self._held + delta
        start = text.rfind("[")
        tail = text[start + 1 :] if start >= 0 else "]"
        if len(tail) <= 3 and (tail == "" or tail.isdigit()):  # "[" or "[1": wait for the rest
            text, self._held = text[:start], text[start:]
        else:
            self._held = ""
        return self._clean(text)

    def flush(self) -> str:
        """What is still held at the end of the stream."""
        text, self._held = self._held, ""
        return self._clean(text)

    def _clean(self, text: str) -> str:
        return _CITATION_MARK.sub(lambda m: m.group(0) if int(m.group(1)) in self._valid else "", text)


def citation_path(citation: Citation) -> str | None:
    """The file a citation opens (an indexed file's absolute path); None for notes, messages and schedule items."""
    return citation.hit.source_id if citation.hit.kind == "file" else None


def citation_to_dict(citation: Citation) -> dict[str, object]:
    """JSON shape of a citation (``ask --json``'s ``reply.citations``): ``number``, ``label``, ``kind``,
    ``source_id``, ``path`` (files only, else null), ``location`` {``page``, ``heading``, ``line``}."""
    loc = citation.hit.location
    return {
        "number": citation.number,
        "label": citation.label,
        "kind": citation.hit.kind,
        "source_id": citation.hit.source_id,
        "path": citation_path(citation),
        "location": {"page": loc.page, "heading": loc.heading, "line": loc.line},
    }


def source_lines(citations: Sequence[Citation]) -> list[str]:
    """The lines the CLI prints under a grounded answer: ``"Sources:"`` then ``"  [1] lease.pdf, page 3 —
    /home/me/docs/lease.pdf"`` (the path for files, the record id for the app's records); [] without citations."""
    if not citations:
        return []
    return ["Sources:"] + [f"  [{c.number}] {c.label} — {c.hit.source_id}" for c in citations]
