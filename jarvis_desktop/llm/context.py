"""What a conversation sends to the chat model: earlier exchanges trimmed to a token budget, a long paste cut.

Why: the prompt is evaluated before the first token, so its length is the wait. Measured before this module
(SmolLM2-135M, 2 cores): after a 5,000-character paste every later question of the conversation waited
24-36 s for its first token, because the paste stayed in the prompt. Now

* a message over ``paste_limit`` tokens keeps its head and tail and loses the middle (the user is told how
  much, :attr:`ContextFit.cut_chars`), in the new question and in the history alike;
* earlier exchanges are kept newest first while they fit ``budget`` tokens; older ones are dropped whole.

Tokens are counted with the model's own tokenizer when it is in memory (:func:`token_counter`), else estimated
at 3.5 characters per token (English text is 4-4.5 characters per token with SmolLM2's and Llama's
tokenizers; the low figure errs towards a shorter prompt).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from jarvis_desktop.llm.types import ChatMessage

#: ``count(text) -> tokens``.
TokenCount = Callable[[str], int]
CHARS_PER_TOKEN_ESTIMATE = 3.5


def estimate_tokens(text: str) -> int:
    """Tokens of ``text`` estimated from its length (see the module docstring for the 3.5 figure)."""
    return int(len(text) / CHARS_PER_TOKEN_ESTIMATE) + 1


def token_counter(backend: object) -> TokenCount:
    """A token counter for ``backend``: its loaded llama.cpp model's tokenizer (``_llm.tokenize``), an mlx
    model's tokenizer (``_tokenizer.encode``), else :func:`estimate_tokens`. Never loads a model."""
    llm = getattr(backend, "_llm", None)
    if llm is not None and hasattr(llm, "tokenize"):

        def count_llama(text: str) -> int:
            return len(llm.tokenize(text.encode("utf-8"), add_bos=False))

        return count_llama
    tokenizer = getattr(backend, "_tokenizer", None)
    if tokenizer is not None and hasattr(tokenizer, "encode"):

        def count_hf(text: str) -> int:
            return len(tokenizer.encode(text))

        return count_hf
    return estimate_tokens


@dataclass
class ContextFit:
    """The messages to send and what was left out.

    ``messages``: earlier exchanges kept (oldest first) then the new user message; ``dropped_turns``: earlier
    exchanges left out for the budget; ``cut_chars``: characters cut from the middle of the new message (0 when
    it fits); ``prompt_tokens``: the counted (or estimated) tokens of ``messages``' contents.
    """

    messages: list[ChatMessage] = field(default_factory=list)
    dropped_turns: int = 0
    cut_chars: int = 0
    prompt_tokens: int = 0


def cut_middle(text: str, limit: int, count: TokenCount) -> tuple[str, int]:
    """``text`` cut to about ``limit`` tokens by removing its middle (head and tail kept, a marker between);
    returns ``(text, characters removed)``; ``(text, 0)`` when it already fits."""
    tokens = count(text)
    if tokens <= limit or limit <= 0:
        return text, 0
    keep = max(64, int(len(text) * limit / tokens) - 48)  # room for the marker
    head, tail = text[: keep * 2 // 3], text[len(text) - keep // 3 :]
    removed = len(text) - len(head) - len(tail)
    return f"{head}\n[... {removed:,} characters left out ...]\n{tail}", removed


def fit_context(
    history: Sequence[ChatMessage], text: str, count: TokenCount, budget: int, paste_limit: int
) -> ContextFit:
    """The prompt messages for a new user message ``text`` after ``history`` (alternating user/assistant
    exchanges, oldest first, as :meth:`jarvis_desktop.store.history.ChatHistory.conversation` gives them).

    Args:
        count: tokens of a text (:func:`token_counter`).
        budget: tokens the earlier exchanges may take together (the new message is not counted against it).
        paste_limit: a message (new or earlier) over this many tokens is cut in the middle.
    """
    question, cut = cut_middle(text, paste_limit, count)
    used = count(question)
    exchanges = [list(history[i : i + 2]) for i in range(0, len(history) - 1, 2)]
    kept: list[ChatMessage] = []
    dropped = 0
    spent = 0
    for position, pair in enumerate(reversed(exchanges)):
        trimmed = [{"role": m["role"], "content": cut_middle(m["content"], paste_limit, count)[0]} for m in pair]
        cost = sum(count(m["content"]) for m in trimmed)
        if spent + cost > budget:
            dropped = len(exchanges) - position
            break
        kept[:0] = trimmed
        spent += cost
    messages = [*kept, {"role": "user", "content": question}]
    return ContextFit(messages=messages, dropped_turns=dropped, cut_chars=cut, prompt_tokens=used + spent)
