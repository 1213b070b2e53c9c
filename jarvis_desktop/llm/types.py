"""Types every chat backend shares: a chat message, the reply statistics, message validation.

Kept apart from the backends so :mod:`.chat` (llama.cpp), :mod:`.mlx_chat` and :mod:`.remote` all use
them without importing each other.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from jarvis_desktop.errors import BadInputError

#: One chat message: ``{"role": "system" | "user" | "assistant", "content": str}``.
ChatMessage = dict[str, str]
#: The roles a chat message may have.
ROLES = ("system", "user", "assistant")


@dataclass
class ChatStats:
    """Timings of one reply.

    ``prompt_tokens``: tokens of the rendered prompt (0 when the backend cannot count them: remote);
    ``completion_tokens``: tokens generated; ``first_token_s``: seconds from the call to the first text delta
    (prompt building and evaluation included; a first call's model loading is not: see
    ``LocalChatModel.load_seconds``); ``total_s``: seconds from the call to the end of the stream;
    ``tokens_per_s``: decoding speed after the first token, (completion_tokens - 1) / (total_s - first_token_s)
    (completion_tokens / total_s for a one-token reply); ``cancelled``: the stream was stopped early;
    ``threads``: CPU threads the backend decoded with at the end of the reply (0 = not applicable/unknown:
    remote, mlx).
    """

    prompt_tokens: int
    completion_tokens: int
    first_token_s: float
    total_s: float
    tokens_per_s: float
    cancelled: bool = False
    threads: int = 0

    def to_dict(self) -> dict[str, int | float | bool]:
        """Plain dict for chat-history meta / JSON output (seconds rounded to ms; ``threads`` only when known)."""
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "first_token_s": round(self.first_token_s, 3),
            "total_s": round(self.total_s, 3),
            "tokens_per_s": round(self.tokens_per_s, 1),
            "cancelled": self.cancelled,
        } | ({"threads": self.threads} if self.threads else {})

    def figures(self) -> dict[str, int | float]:
        """The five figures unrounded (``prompt_tokens`` ... ``tokens_per_s``), as a reply's ``stats``."""
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "first_token_s": self.first_token_s,
            "total_s": self.total_s,
            "tokens_per_s": self.tokens_per_s,
        }


def validate_messages(messages: Sequence[Mapping[str, object]]) -> list[ChatMessage]:
    """Check chat messages and return clean copies (``role`` and ``content`` only).

    Args:
        messages: ``[{"role": "user"|"assistant"|"system", "content": str}, ...]``, oldest first.

    Raises:
        BadInputError: an empty or non-list value, an unknown role, non-text content, or an assistant
            message last (there would be nothing to answer).
    """
    if not isinstance(messages, (list, tuple)) or not messages:
        raise BadInputError("chat messages must be a non-empty list of {'role', 'content'} dicts")
    clean: list[ChatMessage] = []
    for index, message in enumerate(messages):
        role = message.get("role") if isinstance(message, Mapping) else None
        if not isinstance(role, str) or role not in ROLES:
            raise BadInputError(f"chat message {index} needs a role among {', '.join(ROLES)}: {message!r}")
        content = message.get("content")
        if not isinstance(content, str):
            raise BadInputError(f"chat message {index} content must be text, got {type(content).__name__}")
        clean.append({"role": role, "content": content})
    if clean[-1]["role"] == "assistant":
        raise BadInputError("the last chat message must be the user's (or system's), not the assistant's")
    return clean
