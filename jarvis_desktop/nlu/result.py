"""What the NLU engine hands on: :class:`ParseResult` (kept apart from :mod:`.engine` so actions and the
assistant can name it without loading the engine's models or grammar)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class ParseResult:
    """What the engine understood of one utterance.

    ``date_keys``: spec keys in order of appearance; ``when``: local ``YYYY-MM-DDTHH:MM`` or None;
    ``confidence``: FastText's intent probability in [0, 1] (also when the LoRA model decided: the low
    value is why it was asked); ``source``: "fasttext", "lora" (the LoRA fallback decided the intent),
    "rules" (guard rail) or "fallback" (a plain hook callable decided); ``payload``: e.g. "call mom" ("" when
    the intent has none).
    """

    text: str
    intent: str
    date_keys: list[str] = field(default_factory=list)
    when: str | None = None
    confidence: float = 0.0
    source: str = "rules"
    payload: str = ""

    def to_dict(self) -> dict[str, object]:
        """``{"text","intent","date_keys","when","confidence","source","payload"}`` (JSON-ready)."""
        return asdict(self)
