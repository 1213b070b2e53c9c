"""The NLU engine: one utterance in, intent + date keys + ``when`` + payload out.

* intent: the FastText classifier (``intent.ftz``), ``source="fasttext"``; when its probability is below
  the routing threshold and a LoRA fallback is set (:class:`.lora_fallback.LoraFallback`), the LoRA model
  decides the intent, with FastText's guess as a hint: ``source="lora"``;
* date keys: the rule extractor (:mod:`.datekeys`), given the final intent as a hint (the rules are
  99.9 % exact on validation; the LoRA model's keys are not used: measured in adapters/README.md);
* ``when``: :func:`.resolve.resolve_when` of the keys against ``now`` in the user's time zone,
  written ``YYYY-MM-DDTHH:MM``, with ``:SS`` when an ``in_N_seconds`` key is present (spec section 3);
* payload: :func:`.payload.extract_payload`.

Guard rails (``source="rules"``): an empty/whitespace text, a text over 2,000 characters, or one without
any ASCII letter (another script, binary garbage) gives ``general_chat``, ``[]``, ``when=None`` at once,
without touching the model. ``parse`` never raises on odd text.

A fallback that cannot load (missing or corrupt adapter, missing backend library) is logged once and
switched off: the engine keeps answering with FastText alone (``fallback_error`` says why).
"""

from __future__ import annotations

import logging
import re
import threading
from datetime import datetime, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jarvis_desktop.config import Settings
from jarvis_desktop.errors import BadInputError, ModelNotFoundError
from jarvis_desktop.models import NLU_MODEL_DIR, nlu_model_dir
from jarvis_desktop.nlu.datekeys import extract_date_spans
from jarvis_desktop.nlu.fallback import FallbackDecision, HookFallback, IntentFallback
from jarvis_desktop.nlu.intent_model import IntentClassifier
from jarvis_desktop.nlu.lora_fallback import LoraFallback
from jarvis_desktop.nlu.payload import extract_payload
from jarvis_desktop.nlu.resolve import when_text
from jarvis_desktop.nlu.result import ParseResult
from jarvis_desktop.nlu.vocab import INTENTS, is_valid_key

__all__ = ["FallbackDecision", "HookFallback", "IntentFallback", "NluEngine", "ParseResult"]

log = logging.getLogger(__name__)

MAX_CHARS = 2000
#: Longer text skips the LoRA fallback: its prompt evaluation grows with the text (a 2,000-character line took
#: 0.5-4.6 s in llama.cpp's decode against 19 ms without it), and commands are short (the longest of the 511 unseen
#: utterances is 83 characters, of the generated corpus 109). FastText's low-confidence intent then stands, and an
#: unsure action is asked about first (actions/confirm.py).
FALLBACK_MAX_CHARS = 300
_HAS_LETTER = re.compile(r"[A-Za-z]")
#: Intent used when the text cannot be a command.
FALLBACK_INTENT = "general_chat"
#: Routing threshold used when neither the caller nor the adapter's metadata gives one.
DEFAULT_THRESHOLD = 0.5


def _local_tz() -> tzinfo:
    zone = datetime.now().astimezone().tzinfo
    assert zone is not None  # astimezone() always gives an aware datetime
    return zone


def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise BadInputError(
            f"unknown time zone in settings: {name!r}",
            hint="use an IANA name like Europe/Lisbon, or leave [nlu] timezone empty",
        ) from exc


class NluEngine:
    """Parse utterances into :class:`ParseResult`. Models load lazily on the first ``parse`` (thread-safe).

    Args:
        model_dir: directory with ``intent.ftz``; None = the shipped ``models/nlu``.
        tz: the user's time zone for ``when``; None = the system's local zone.
        fallback: an :class:`~.fallback.IntentFallback` asked below the threshold: the LoRA model
            (:class:`.lora_fallback.LoraFallback`, ``source="lora"``) or a plain hook wrapped in
            :class:`~.fallback.HookFallback` (``source="fallback"``); None = FastText alone.
        fallback_threshold: FastText probability below which ``fallback`` decides the intent; None = the
            fallback's own (an adapter's ``training_metadata.json`` ``routing.threshold``), else
            :data:`DEFAULT_THRESHOLD`.
    """

    def __init__(
        self,
        model_dir: Path | str | None = None,
        tz: tzinfo | None = None,
        *,
        fallback: IntentFallback | None = None,
        fallback_threshold: float | None = None,
    ) -> None:
        self.model_dir = Path(model_dir) if model_dir else NLU_MODEL_DIR
        self.tz = tz or _local_tz()
        self.fallback = fallback
        if fallback_threshold is None:
            own = fallback.routing_threshold() if fallback is not None else None
            fallback_threshold = own if own is not None else DEFAULT_THRESHOLD
        self.fallback_threshold = float(fallback_threshold)
        #: Why the fallback was switched off (None while it works or was never set).
        self.fallback_error: str | None = None
        self._classifier: IntentClassifier | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> NluEngine:
        """Engine for ``settings`` (:class:`~jarvis_desktop.config.Settings`): ``[nlu] model_dir``,
        ``timezone``, ``fallback`` ("auto", "llama", "torch", "off"), ``adapter_dir`` and
        ``fallback_threshold`` (negative = the adapter's). Raises ModelNotFoundError / BadInputError for a
        bad model path, zone or fallback name; a bad adapter only shows on first use (then degrades)."""
        nlu = settings.nlu
        tz = _zone(nlu.timezone) if nlu.timezone else None
        mode = (nlu.fallback or "auto").strip().lower()
        if mode not in ("auto", "llama", "torch", "off"):
            raise BadInputError(f"[nlu] fallback must be auto, llama, torch or off, got {nlu.fallback!r}")
        fallback: IntentFallback | None = None
        if mode != "off":
            adapter = Path(nlu.adapter_dir).expanduser() if nlu.adapter_dir else None
            lora = LoraFallback(adapter_dir=adapter, backend=mode)
            fallback = lora
            if settings.remote.nlu_base_url:  # offloaded, placed per call like chat (docs/offload.md)
                from jarvis_desktop.nlu.remote_fallback import PlacedLoraFallback

                fallback = PlacedLoraFallback.from_settings(lora, settings)
        threshold = nlu.fallback_threshold if nlu.fallback_threshold >= 0 else None
        return cls(model_dir=nlu_model_dir(settings), tz=tz, fallback=fallback, fallback_threshold=threshold)

    @property
    def classifier(self) -> IntentClassifier:
        """The loaded :class:`~.intent_model.IntentClassifier` (loads on first use; ModelNotFoundError)."""
        if self._classifier is None:
            with self._lock:
                if self._classifier is None:
                    self._classifier = IntentClassifier.load(self.model_dir)
        return self._classifier

    def load(self) -> NluEngine:
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
        fallback = self.fallback
        if fallback is not None and confidence < self.fallback_threshold and len(text) <= FALLBACK_MAX_CHARS:
            decision = self._ask_fallback(fallback, text, intent)
            if decision is not None and decision.intent in INTENTS:
                intent, source = decision.intent, decision.source
        if intent not in INTENTS:
            intent = FALLBACK_INTENT
        spans = extract_date_spans(text, intent)
        keys = [s.key for s in spans if is_valid_key(s.key)]
        if now is None:
            now = datetime.now(self.tz)
        elif now.tzinfo is not None:
            now = now.astimezone(self.tz)
        when = when_text(keys, now) if keys else None
        payload = extract_payload(text, intent, spans)
        return ParseResult(
            text=text,
            intent=intent,
            date_keys=keys,
            when=when,
            confidence=round(confidence, 4),
            source=source,
            payload=payload,
        )

    def _ask_fallback(self, fallback: IntentFallback, text: str, hint: str) -> FallbackDecision | None:
        """The fallback's decision, or None; a fallback that cannot load is switched off."""
        try:
            return fallback.decide(text, hint)
        except ModelNotFoundError as exc:
            with self._lock:
                if self.fallback is not None:
                    self.fallback_error = exc.user_message()
                    self.fallback = None
                    log.warning("NLU LoRA fallback disabled, FastText alone from now on: %s", self.fallback_error)
            return None
