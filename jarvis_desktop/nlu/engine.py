"""The NLU engine: one utterance in, intent + date keys + ``when`` + payload out.

* intent: the FastText classifier (``intent.ftz``), ``source="fasttext"``;
* date keys: the rule extractor (:mod:`.datekeys`), given the predicted intent as a hint;
* ``when``: :func:`.resolve.resolve_when` of the keys against ``now`` in the user's time zone,
  written ``YYYY-MM-DDTHH:MM`` (spec section 3);
* payload: :func:`.payload.extract_payload`.

Guard rails (``source="rules"``): an empty/whitespace text, a text over 2,000 characters, or one without
any ASCII letter (another script, binary garbage) gives ``general_chat``, ``[]``, ``when=None`` at once,
without touching the model. ``parse`` never raises on odd text.

Low-confidence hook: when the FastText probability is below ``fallback_threshold`` and a
``fallback`` callable is set (the future LoRA model), the engine asks it; the fallback returns an intent
or None. No fallback is built yet.
"""

from __future__ import annotations

import re
import threading
from dataclasses import asdict, dataclass, field
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Callable

from jarvis_desktop.nlu.vocab import INTENTS, is_valid_key

MAX_CHARS = 2000
_HAS_LETTER = re.compile(r"[A-Za-z]")
#: Intent used when the text cannot be a command.
FALLBACK_INTENT = "general_chat"


@dataclass
class ParseResult:
    """What the engine understood of one utterance.

    ``date_keys``: spec keys in order of appearance; ``when``: local ``YYYY-MM-DDTHH:MM`` or None;
    ``confidence``: the intent probability in [0, 1]; ``source``: "fasttext", "rules" (guard rail) or
    "fallback"; ``payload``: e.g. "call mom" ("" when the intent has none).
    """

    text: str
    intent: str
    date_keys: list[str] = field(default_factory=list)
    when: str | None = None
    confidence: float = 0.0
    source: str = "rules"
    payload: str = ""

    def to_dict(self) -> dict:
        """``{"text","intent","date_keys","when","confidence","source","payload"}`` (JSON-ready)."""
        return asdict(self)


def _local_tz() -> tzinfo:
    return datetime.now().astimezone().tzinfo


def _zone(name: str) -> tzinfo:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from jarvis_desktop.errors import BadInputError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise BadInputError(f"unknown time zone in settings: {name!r}",
                            hint="use an IANA name like Europe/Lisbon, or leave [nlu] timezone empty") from exc


class NluEngine:
    """Parse utterances into :class:`ParseResult`. Models load lazily on the first ``parse`` (thread-safe).

    Args:
        model_dir: directory with ``intent.ftz``; None = the shipped ``models/nlu``.
        tz: the user's time zone for ``when``; None = the system's local zone.
        fallback_threshold: below this intent probability the ``fallback`` (if any) is consulted.
        fallback: ``callable(text) -> intent | None``, reserved for the LoRA model.
    """

    def __init__(self, model_dir: Path | None = None, tz: tzinfo | None = None, *,
                 fallback_threshold: float = 0.5, fallback: Callable[[str], str | None] | None = None) -> None:
        from jarvis_desktop.models import NLU_MODEL_DIR

        self.model_dir = Path(model_dir) if model_dir else NLU_MODEL_DIR
        self.tz = tz or _local_tz()
        self.fallback_threshold = fallback_threshold
        self.fallback = fallback
        self._classifier = None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings) -> "NluEngine":
        """Engine for ``settings`` (:class:`~jarvis_desktop.config.Settings`): ``[nlu] model_dir`` and
        ``[nlu] timezone``. Raises ModelNotFoundError / BadInputError for a bad path or zone."""
        from jarvis_desktop.models import nlu_model_dir

        tz = _zone(settings.nlu.timezone) if settings.nlu.timezone else None
        return cls(model_dir=nlu_model_dir(settings), tz=tz)

    @property
    def classifier(self):
        """The loaded :class:`~.intent_model.IntentClassifier` (loads on first use; ModelNotFoundError)."""
        if self._classifier is None:
            with self._lock:
                if self._classifier is None:
                    from jarvis_desktop.nlu.intent_model import IntentClassifier

                    self._classifier = IntentClassifier.load(self.model_dir)
        return self._classifier

    def load(self) -> "NluEngine":
        """Load the models now rather than on the first ``parse``; returns self."""
        _ = self.classifier
        return self

    def parse(self, text: str, now: datetime | None = None) -> ParseResult:
        """Understand one utterance. ``now`` (aware or naive local) anchors ``when``; None = current time
        in the engine's zone. Never raises on odd text; raises ModelNotFoundError if the model is missing."""
        if not isinstance(text, str):
            text = "" if text is None else str(text)
        if not text.strip() or len(text) > MAX_CHARS or not _HAS_LETTER.search(text):
            return ParseResult(text=text[:MAX_CHARS], intent=FALLBACK_INTENT, confidence=1.0, source="rules")
        intent, confidence = self.classifier.predict(text)
        source = "fasttext"
        if confidence < self.fallback_threshold and self.fallback is not None:
            alt = self.fallback(text)
            if alt in INTENTS:
                intent, source = alt, "fallback"
        if intent not in INTENTS:
            intent = FALLBACK_INTENT
        from jarvis_desktop.nlu.datekeys import extract_date_spans
        from jarvis_desktop.nlu.payload import extract_payload
        from jarvis_desktop.nlu.resolve import format_when, resolve_when

        spans = extract_date_spans(text, intent)
        keys = [s.key for s in spans if is_valid_key(s.key)]
        if now is None:
            now = datetime.now(self.tz)
        elif now.tzinfo is not None:
            now = now.astimezone(self.tz)
        when = format_when(resolve_when(keys, now)) if keys else None
        payload = extract_payload(text, intent, spans)
        return ParseResult(text=text, intent=intent, date_keys=keys, when=when,
                           confidence=round(confidence, 4), source=source, payload=payload)
