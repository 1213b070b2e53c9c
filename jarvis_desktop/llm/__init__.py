"""Chat models (no Qt). :class:`LocalChatModel` streams replies from a GGUF via llama-cpp-python;
:mod:`.mlx_chat` (mlx-lm) and :mod:`.remote` (any OpenAI-compatible endpoint) offer the same interface, and
:class:`~.router.ChatRouter` picks local or remote per request with the placement policy (docs/offload.md).

``llama_cpp``, ``mlx_lm`` and ``openai`` are imported only when a model is loaded or a request is made.
"""

from jarvis_desktop.llm.chat import ChatStats, LocalChatModel

__all__ = ["ChatStats", "LocalChatModel"]
