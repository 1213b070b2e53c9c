"""mlx-lm chat backend: the fast path on Apple Silicon (chosen automatically on macOS arm64, see
:func:`jarvis_desktop.llm.backends.local_backend_kind`); it also runs on Linux CPUs with ``mlx[cpu]``
(~16 tokens/s for SmolLM2-135M on 2 cores here, about 8x slower than llama.cpp, so tests only).

The model is an HF-format directory (``config.json`` + ``*.safetensors`` + tokenizer files), e.g. from
``mlx_lm.convert`` or ``transformers``' ``save_pretrained``. Same interface as
:class:`~jarvis_desktop.llm.chat.LocalChatModel`: ``stream()`` with cancel and ``assistant_prefix``,
``last_stats``, ``load()/unload()``. ``mlx``/``mlx_lm`` are imported at load time only.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from jarvis_desktop.config import ChatSettings
from jarvis_desktop.errors import BadInputError, JarvisError, ModelNotFoundError
from jarvis_desktop.llm.chat import REPEAT_PENALTY, STOP_SEQUENCES, TOP_P
from jarvis_desktop.llm.types import ChatMessage, ChatStats, validate_messages


class MlxChatModel:
    """An HF-format chat model run by mlx-lm.

    Args:
        model_path: a directory with ``config.json`` and safetensors weights.
        options: :class:`ChatSettings` (max_tokens, temperature, system_prompt, n_ctx).

    Raises:
        ModelNotFoundError: the directory is missing or has no config.json (now), or mlx cannot load it
            (at first use). JarvisError: mlx-lm is not installed (at first use).
    """

    kind = "mlx"

    def __init__(self, model_path: str | Path, options: ChatSettings | None = None) -> None:
        self.options = options or ChatSettings()
        self.model_path = Path(model_path).expanduser()
        if not (self.model_path / "config.json").is_file():
            raise ModelNotFoundError(
                f"mlx chat model not found: {self.model_path} has no config.json",
                hint="set [chat] mlx_model_path to an HF-format model directory",
            )
        self.last_stats: ChatStats | None = None
        self.load_seconds: float | None = None
        self._model: Any = None
        self._tokenizer: Any = None
        self._load_lock = threading.Lock()
        self._generate_lock = threading.Lock()

    @property
    def name(self) -> str:
        """Display name for the monitor: the model directory's name."""
        return self.model_path.name

    @property
    def loaded(self) -> bool:
        """True once the weights are in memory."""
        return self._model is not None

    def load(self) -> Any:
        """Load the weights once (thread-safe); returns the mlx model."""
        with self._load_lock:
            if self._model is None:
                start = time.perf_counter()
                try:
                    import mlx_lm
                except ImportError as exc:
                    raise JarvisError("mlx-lm is not installed", hint='pip install "jarvis-desktop[mlx]"') from exc
                try:
                    loaded = mlx_lm.load(str(self.model_path))  # (model, tokenizer[, config])
                    self._model, self._tokenizer = loaded[0], loaded[1]
                except (ValueError, OSError, RuntimeError, KeyError) as exc:
                    raise ModelNotFoundError(f"mlx cannot load {self.model_path}: {exc}") from exc
                self.load_seconds = time.perf_counter() - start
        return self._model

    def unload(self) -> None:
        """Free the weights (after a running generation); the next ``stream`` reloads them."""
        with self._load_lock, self._generate_lock:
            self._model = self._tokenizer = None
        gc.collect()

    def warm_up(self) -> None:
        """Load the model and generate one token, so the first real reply starts fast."""
        self.complete([{"role": "user", "content": "Hi"}], max_tokens=1)

    def render(self, messages: Sequence[ChatMessage]) -> str:
        """Prompt text from the tokenizer's chat template, generation prompt included."""
        self.load()
        return str(self._tokenizer.apply_chat_template(list(messages), tokenize=False, add_generation_prompt=True))

    def build_prompt(self, messages: Sequence[ChatMessage], max_tokens: int) -> list[dict[str, str]]:
        """System prompt first, then the newest turns that fit ``n_ctx - max_tokens`` tokens."""
        messages = validate_messages(messages)
        system: list[dict[str, str]] = []
        if messages[0]["role"] == "system":
            system, messages = [messages[0]], messages[1:]
        elif self.options.system_prompt.strip():
            system = [{"role": "system", "content": self.options.system_prompt.strip()}]
        if not messages:
            raise BadInputError("chat messages hold only a system prompt: nothing to answer")
        budget = self.options.n_ctx - max_tokens
        kept = list(messages)
        while len(kept) > 1 and len(self._tokenizer.encode(self.render(system + kept))) > budget:
            kept.pop(0)
        while len(kept) > 1 and kept[0]["role"] == "assistant":
            kept.pop(0)
        return system + kept

    def stream(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
        cancel: threading.Event | None = None,
        assistant_prefix: str = "",
    ) -> Iterator[str]:
        """Stream a reply's text deltas (see ``LocalChatModel.stream``; same arguments and errors)."""
        self.load()
        start = time.perf_counter()
        budget = self.options.max_tokens if max_tokens is None else max_tokens
        if budget <= 0:
            raise BadInputError(f"max_tokens must be positive, got {budget}")
        prompt = self.render(self.build_prompt(messages, budget)) + assistant_prefix
        temp = self.options.temperature if temperature is None else float(temperature)
        return self._generate(prompt, budget, temp, cancel, start, assistant_prefix)

    def _generate(
        self,
        prompt: str,
        max_tokens: int,
        temperature: float,
        cancel: threading.Event | None,
        start: float,
        prefix: str,
    ) -> Iterator[str]:
        from mlx_lm import stream_generate
        from mlx_lm.sample_utils import make_logits_processors, make_sampler

        pieces: list[str] = []
        first: float | None = None
        cancelled = False
        prompt_tokens = completion = 0
        with self._generate_lock:
            gen = stream_generate(
                self._model,
                self._tokenizer,
                prompt,
                max_tokens=max_tokens,
                sampler=make_sampler(temp=temperature, top_p=TOP_P),
                logits_processors=make_logits_processors(repetition_penalty=REPEAT_PENALTY),
            )
            try:
                for response in gen:
                    prompt_tokens, completion = response.prompt_tokens, response.generation_tokens
                    if cancel is not None and cancel.is_set():
                        cancelled = True
                        break
                    text = response.text or ""
                    done = "".join(pieces)
                    joined = done + text
                    cut = min((joined.find(s) for s in STOP_SEQUENCES if s in joined), default=-1)
                    if cut >= 0:  # a stop sequence: keep only what precedes it
                        text = joined[len(done) : cut] if cut > len(done) else ""
                    if not pieces and not prefix:
                        text = text.lstrip()
                    elif not pieces and text[:1].isalnum() and prefix[-1:].isalnum():
                        # mlx-lm's streaming detokenizer drops the first token's leading space ("Ġis" -> "is")
                        text = " " + text
                    if text:
                        first = first if first is not None else time.perf_counter() - start
                        pieces.append(text)
                        yield text
                    if cut >= 0:
                        break
            finally:
                gen.close()
                total = time.perf_counter() - start
                f = first if first is not None else total
                rate = (
                    (completion - 1) / (total - f)
                    if completion >= 2 and total > f
                    else (completion / total if total > 0 else 0.0)
                )
                self.last_stats = ChatStats(prompt_tokens, completion, f, total, rate, cancelled)

    def complete(self, messages: Sequence[ChatMessage], **kwargs: Any) -> str:
        """The whole reply as one string (``stream`` joined and stripped); same arguments and errors."""
        return "".join(self.stream(messages, **kwargs)).strip()
