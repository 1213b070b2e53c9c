"""Rule-based date-key extraction (spec section 2, vocabulary 2.1) with character spans: the public
entry points of the date grammar (:mod:`jarvis_desktop.nlu.dategrammar`, where each step lives).

Extraction does not depend on the current time (resolution does: :mod:`jarvis_desktop.nlu.resolve`).
It never raises for any string; non-strings raise :class:`BadInputError`.
"""

from __future__ import annotations

from jarvis_desktop.errors import BadInputError
from jarvis_desktop.nlu.dategrammar import DateSpan, find_date_spans

__all__ = ["DateSpan", "extract_date_spans", "extract_date_keys", "MAX_CHARS"]

#: Only the start of a very long text is read (spoken commands are short); keeps worst-case time low.
MAX_CHARS = 4000


def extract_date_spans(text: str | bytes | bytearray | None, intent: str | None = None) -> list[DateSpan]:
    """Date keys of ``text`` with their character spans, in the order they appear.

    Args:
        text: an utterance or ASR transcript (any case, punctuation optional, fillers allowed). Only the
            first :data:`MAX_CHARS` characters are read. ``bytes`` are decoded as UTF-8 (errors replaced);
            None gives [].
        intent: the utterance's intent label if known; ``"timer_set"`` turns durations into
            ``in_N_minutes`` or ``in_N_seconds`` (rule 12), ``"alarm_set"`` reads "for 7" as a clock time,
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
    return find_date_spans(text[:MAX_CHARS], intent)


def extract_date_keys(text: str | bytes | bytearray | None, intent: str | None = None) -> list[str]:
    """The date keys of ``text`` (spec section 2), e.g. ``"remind me to call mom tomorrow at 3 pm"
    -> ["tomorrow", "at_3pm"]``; ``[]`` when there is none. Same arguments and errors as
    :func:`extract_date_spans`."""
    return [s.key for s in extract_date_spans(text, intent)]
