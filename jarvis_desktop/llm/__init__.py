"""Local language model (no Qt): :class:`LocalChatModel` streams replies from a GGUF via llama-cpp-python.

``llama_cpp`` is imported only when a model is loaded.
"""

from jarvis_desktop.llm.chat import ChatStats, LocalChatModel

__all__ = ["ChatStats", "LocalChatModel"]
