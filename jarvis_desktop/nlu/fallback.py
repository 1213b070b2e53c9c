"""The NLU engine's fallback seam: who decides the intent when FastText is unsure.

:class:`IntentFallback` is the interface :class:`~.engine.NluEngine` asks below its routing threshold.
Two kinds implement it:

* :class:`~.lora_fallback.LoraFallback`: the LoRA model (llama.cpp or PyTorch backend, both behind
  :class:`~.lora_fallback.LoraBackend`), ``source="lora"``;
* :class:`HookFallback`: a plain ``callable(text) -> intent | None``, ``source="fallback"``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class FallbackDecision:
    """A fallback's verdict: ``intent`` (one of :data:`~.vocab.INTENTS` if usable) and ``source``, the
    :attr:`~.engine.ParseResult.source` the engine records ("lora" or "fallback")."""

    intent: str
    source: str


class IntentFallback(Protocol):
    """What the engine asks when FastText's probability is below the routing threshold."""

    def routing_threshold(self) -> float | None:
        """The threshold this fallback was tuned for (an adapter's ``routing.threshold``), or None."""
        ...

    def decide(self, text: str, hint: str) -> FallbackDecision | None:
        """The intent of ``text`` (``hint``: FastText's guess), or None when there is no answer.

        Raises:
            ModelNotFoundError: the fallback cannot load (the engine then switches it off).
        """
        ...


class HookFallback:
    """A plain ``hook(text) -> intent | None`` as an :class:`IntentFallback` (``source="fallback"``; no
    threshold of its own). Tests and experiments use it to plug in any rule or model."""

    def __init__(self, hook: Callable[[str], str | None]) -> None:
        self.hook = hook

    def routing_threshold(self) -> float | None:
        """None: a hook brings no threshold."""
        return None

    def decide(self, text: str, hint: str) -> FallbackDecision | None:
        """``hook(text)`` as a decision ("" or None: no decision)."""
        intent = self.hook(text)
        return FallbackDecision(intent, "fallback") if intent else None
