"""The LoRA fallback of the NLU engine: SmolLM2-135M-Instruct + the ``adapters/date-intent`` LoRA.

:class:`LoraFallback` answers ``(text, hint) -> LoraAnswer | None`` by greedy decoding of the prompt of
:mod:`.lora_format`, then validates the JSON (:func:`.lora_format.parse_answer`). It loads lazily on the
first call, stays warm, and serialises calls (one model, one lock; thread-safe).

Backends (same adapter, same answers up to float rounding):

* ``"llama"``: llama-cpp-python on the embedded Q4_1 GGUF with ``adapter.gguf`` as ``lora_path``; no
  torch import. The default (``"auto"``) because it is the faster one: see adapters/README.md for the
  figures and ``bench/lora_backends.py`` for the command.
* ``"torch"``: transformers + PEFT on the float32 base (the GGUF converted once to safetensors, see
  :mod:`.hf_base`), LoRA merged into the weights. Needs the ``[train]`` extra.

A missing or corrupt adapter, or a missing backend library, raises
:class:`~jarvis_desktop.errors.ModelNotFoundError` from :meth:`LoraFallback.load` / :meth:`LoraFallback.answer`.
"""

from __future__ import annotations

import importlib.util
import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, SupportsFloat

import numpy as np

from jarvis_desktop.config import auto_threads
from jarvis_desktop.errors import ModelNotFoundError
from jarvis_desktop.models import embedded_chat_gguf
from jarvis_desktop.nlu.fallback import FallbackDecision
from jarvis_desktop.nlu.gguf_check import check_lora_gguf
from jarvis_desktop.nlu.lora_format import ANSWER_STOP, INTENT_STOP, LoraAnswer, build_prompt, parse_answer
from jarvis_desktop.nlu.vocab import INTENTS

BACKENDS = ("llama", "torch")
#: The adapter shipped with the app.
DEFAULT_ADAPTER_DIR = Path(__file__).resolve().parent.parent.parent / "adapters" / "date-intent"
#: Token budget of a full answer; the longest validation answer is far shorter (~40 tokens).
MAX_ANSWER_TOKENS = 64


class Scores(Protocol):
    """Next-token scores indexable by token id (a numpy row or a torch tensor row)."""

    def __getitem__(self, token_id: int, /) -> SupportsFloat: ...


#: ``logits(forced) -> scores``: feed the tokens ``forced`` to the model, get next-token scores by token id.
LogitsFn = Callable[[list[int]], Scores]


class LoraBackend(Protocol):
    """What :class:`LoraFallback` needs from a model runtime (:class:`LlamaCppBackend`, :class:`TorchBackend`).

    ``name``: "llama" or "torch".
    """

    name: str

    def complete(self, prompt: str, stop: str, max_tokens: int) -> str:
        """Greedy continuation of ``prompt``, cut before ``stop`` or after ``max_tokens`` tokens."""
        ...

    def tokenize(self, text: str) -> list[int]:
        """Token ids of ``text`` alone (no BOS)."""
        ...

    def choose(self, prompt: str, options: dict[str, list[int]]) -> str:
        """The option (name -> token ids) greedy decoding constrained to ``options`` picks after ``prompt``."""
        ...


class LlamaCppBackend:
    """Greedy completion with llama.cpp: ``Llama(model_path=base_gguf, lora_path=adapter_gguf)``.

    ``n_ctx`` tokens of context (prompts are ~30 tokens, answers <= :data:`MAX_ANSWER_TOKENS`).
    Raises ModelNotFoundError when llama_cpp is missing or a file cannot be loaded.
    """

    name = "llama"

    def __init__(self, base_gguf: Path, adapter_gguf: Path, n_threads: int = 0, n_ctx: int = 256) -> None:
        self.base_gguf, self.adapter_gguf = Path(base_gguf), Path(adapter_gguf)
        try:
            import llama_cpp
            from llama_cpp import Llama
        except ImportError as exc:
            raise ModelNotFoundError(
                "the llama.cpp fallback backend needs llama-cpp-python",
                hint='pip install llama-cpp-python, or set [nlu] fallback = "torch"',
            ) from exc
        if not self.adapter_gguf.is_file():
            raise ModelNotFoundError(
                f"LoRA adapter not found: {self.adapter_gguf}",
                hint="convert its PEFT files with the trainer's gguf_export (see adapters/README.md)",
            )
        check_lora_gguf(self.adapter_gguf)  # llama.cpp segfaults on some corrupt files instead of failing
        try:
            self._llm = Llama(
                model_path=str(self.base_gguf),
                lora_path=str(self.adapter_gguf),
                n_ctx=n_ctx,
                n_threads=auto_threads(n_threads, spare=0),
                n_threads_batch=auto_threads(n_threads, spare=0),
                n_batch=n_ctx,
                verbose=False,
            )
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelNotFoundError(
                f"cannot load the LoRA adapter {self.adapter_gguf}: {exc}",
                hint="retrain or reconvert it (see adapters/README.md)",
            ) from exc
        self._llama_cpp = llama_cpp
        self._n_vocab = self._llm.n_vocab()

    def complete(self, prompt: str, stop: str, max_tokens: int) -> str:
        """Greedy continuation of ``prompt``, cut before ``stop`` (excluded) or after ``max_tokens``."""
        out = self._llm.create_completion(
            prompt, max_tokens=max_tokens, temperature=0.0, top_k=1, stop=[stop], echo=False
        )
        assert isinstance(out, dict)  # stream=False: one response, not an iterator
        return out["choices"][0]["text"]

    def tokenize(self, text: str) -> list[int]:
        """Token ids of ``text`` alone (no BOS), as the model writes them after the prompt."""
        return self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=False)

    def choose(self, prompt: str, options: dict[str, list[int]]) -> str:
        """The option :func:`constrained_greedy` picks after ``prompt`` (one prompt evaluation, plus one
        for options sharing their first tokens)."""
        llm = self._llm
        llm.reset()
        llm.eval(llm.tokenize(prompt.encode("utf-8"), add_bos=True, special=True))

        def logits(forced: list[int]) -> Scores:
            if forced:
                llm.eval(forced)
            # Llama.eval no longer keeps logits unless logits_all: read the last token's row from the context
            ptr = self._llama_cpp.llama_get_logits_ith(llm._ctx.ctx, -1)
            row: np.ndarray = np.ctypeslib.as_array(ptr, shape=(self._n_vocab,)).copy()
            return row

        return constrained_greedy(options, logits)


class TorchBackend:
    """Greedy completion with transformers + PEFT (LoRA merged into the float32 base), KV cache reused
    across generated tokens. Raises ModelNotFoundError when torch/peft are missing or the adapter is bad."""

    name = "torch"

    def __init__(self, adapter_dir: Path, n_threads: int = 0) -> None:
        try:
            import torch
            from peft import PeftModel

            from jarvis_desktop.nlu.hf_base import load_base, prompt_ids
        except ImportError as exc:
            raise ModelNotFoundError(
                "the PyTorch fallback backend needs torch, transformers and peft",
                hint="pip install 'jarvis-desktop[train]', or set [nlu] fallback = \"llama\"",
            ) from exc
        self._torch = torch
        self._prompt_ids = prompt_ids
        self._tok, base = load_base(auto_threads(n_threads, spare=0))
        try:
            model = PeftModel.from_pretrained(base, str(adapter_dir))
        except Exception as exc:  # a corrupt file fails in safetensors, json or torch with their own types
            raise ModelNotFoundError(
                f"cannot load the LoRA adapter {adapter_dir}: {exc}", hint="retrain it (see adapters/README.md)"
            ) from exc
        self._model = model.merge_and_unload().eval()

    def complete(self, prompt: str, stop: str, max_tokens: int) -> str:
        """Greedy continuation of ``prompt``, cut before ``stop`` (excluded) or after ``max_tokens``."""
        torch = self._torch
        ids = torch.tensor([self._prompt_ids(self._tok, prompt)])
        got: list[int] = []
        text = ""
        with torch.no_grad():
            out = self._model(input_ids=ids, use_cache=True)
            for _ in range(max_tokens):
                nxt = int(out.logits[0, -1].argmax())
                if nxt == self._tok.eos_token_id:
                    break
                got.append(nxt)
                text = self._tok.decode(got, skip_special_tokens=True)
                if stop in text:
                    return text[: text.index(stop)]
                out = self._model(input_ids=torch.tensor([[nxt]]), past_key_values=out.past_key_values, use_cache=True)
        return text

    def tokenize(self, text: str) -> list[int]:
        """Token ids of ``text`` alone (no BOS), as the model writes them after the prompt."""
        return self._tok(text, add_special_tokens=False)["input_ids"]

    def choose(self, prompt: str, options: dict[str, list[int]]) -> str:
        """The option :func:`constrained_greedy` picks after ``prompt`` (KV cache kept between calls)."""
        torch = self._torch
        state: dict[str, Any] = {}

        def logits(forced: list[int]) -> Scores:
            ids = ([] if state else self._prompt_ids(self._tok, prompt)) + forced
            out = self._model(input_ids=torch.tensor([ids]), past_key_values=state.get("past"), use_cache=True)
            state["past"] = out.past_key_values
            return out.logits[0, -1]

        with torch.no_grad():
            return constrained_greedy(options, logits)


def constrained_greedy(options: dict[str, list[int]], logits: LogitsFn) -> str:
    """Greedy decoding restricted to ``options`` (name -> token ids): at each step the highest-scoring
    next token among those that continue some option; stops as soon as one option is left.

    ``logits(forced)`` feeds the tokens ``forced`` (chosen since the last call; [] at first) to the model
    and returns the next-token scores (indexable by token id). With the 15 intents only
    ``schedule_query`` / ``schedule_remove`` share first tokens, so most answers cost one model call.
    """
    alive = dict(options)
    chosen: list[int] = []
    pending: list[int] = []
    pos = 0
    while len(alive) > 1:
        nexts = {ids[pos] for ids in alive.values() if len(ids) > pos}
        if not nexts:  # one option is a prefix of another and ends here
            return min(alive, key=lambda k: len(alive[k]))
        if len(nexts) == 1:
            best = nexts.pop()
        else:
            scores = logits(pending)
            pending = []
            best = max(nexts, key=lambda t: float(scores[t]))
        chosen.append(best)
        pending.append(best)
        pos += 1
        alive = {k: ids for k, ids in alive.items() if ids[:pos] == chosen}
    return next(iter(alive))


def resolve_backend(name: str, adapter_dir: Path) -> str:
    """The backend ``"auto"`` stands for: ``"llama"`` when llama_cpp is installed and the adapter has an
    ``adapter.gguf``, else ``"torch"``. Other names are returned as they are. Raises ModelNotFoundError
    for an unknown name."""
    if name in BACKENDS:
        return name
    if name != "auto":
        raise ModelNotFoundError(f"unknown fallback backend {name!r}", hint="use auto, llama or torch")
    if importlib.util.find_spec("llama_cpp") is not None and (Path(adapter_dir) / "adapter.gguf").is_file():
        return "llama"
    return "torch"


class LoraFallback:
    """The adapter, loaded on first need and kept warm; the engine's :class:`~.fallback.IntentFallback`
    (``source="lora"``).

    Args:
        adapter_dir: directory with ``adapter.gguf`` (llama) and/or ``adapter_config.json`` +
            ``adapter_model.safetensors`` (torch); None = the shipped ``adapters/date-intent``.
        backend: "auto" (the faster available: llama), "llama" or "torch".
        base_gguf: the base model GGUF for llama.cpp; None = the embedded SmolLM2-135M-Instruct.
        n_threads: CPU threads of the backend; 0 = all cores. A fallback call is a short burst (one prompt
            pass, ~150 ms on 2 threads), so it takes every core: on 2 cores ``parse --jsonl`` runs 212-250
            utterances/s with 2 threads and 146 with 1 (bench/nlu.py, quiet machine).
        use_hint: put the FastText guess in the prompt (``Guess:`` line) when the engine gives one.
    """

    def __init__(
        self,
        adapter_dir: Path | None = None,
        backend: str = "auto",
        base_gguf: Path | None = None,
        n_threads: int = 0,
        use_hint: bool = True,
    ) -> None:
        self.adapter_dir = Path(adapter_dir) if adapter_dir else DEFAULT_ADAPTER_DIR
        self.requested_backend = backend
        self.base_gguf = base_gguf
        self.n_threads = n_threads
        self.use_hint = use_hint
        self._backend: LoraBackend | None = None
        self._intent_tokens: dict[str, list[int]] = {}
        self._lock = threading.Lock()

    @property
    def backend_name(self) -> str | None:
        """ "llama" or "torch" once loaded, else None."""
        return self._backend.name if self._backend else None

    def metadata(self) -> dict[str, Any]:
        """The adapter's ``training_metadata.json`` ({} when absent, unreadable or not an object)."""
        try:
            data = json.loads((self.adapter_dir / "training_metadata.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def routing_threshold(self) -> float | None:
        """The routing threshold recorded with the adapter (``routing.threshold``), or None."""
        routing = self.metadata().get("routing")
        threshold = routing.get("threshold") if isinstance(routing, dict) else None
        return float(threshold) if isinstance(threshold, (int, float)) else None

    def decide(self, text: str, hint: str) -> FallbackDecision | None:
        """The engine's question: the intent of ``text`` by constrained decoding (``answer(intent_only=True)``),
        ``source="lora"``. Raises ModelNotFoundError (first call) when the adapter cannot be loaded."""
        answer = self.answer(text, hint, intent_only=True)
        if answer is None or answer.intent is None:
            return None
        return FallbackDecision(answer.intent, "lora")

    def load(self) -> LoraFallback:
        """Load the backend now and run one short warm-up completion (idempotent, thread-safe); returns self.

        Raises:
            ModelNotFoundError: the adapter directory or its files are missing or corrupt, or the backend's
                library is not installed.
        """
        if self._backend is not None:
            return self
        with self._lock:
            if self._backend is None:
                backend = self._make_backend()
                # warm-up: llama.cpp sets up its compute graph on the first evaluation
                backend.complete(build_prompt("hello"), INTENT_STOP, 2)
                self._intent_tokens = {name: backend.tokenize(name) for name in INTENTS}
                self._backend = backend
        return self

    def _make_backend(self) -> LoraBackend:
        if not self.adapter_dir.is_dir():
            raise ModelNotFoundError(
                f"LoRA adapter directory not found: {self.adapter_dir}",
                hint='set [nlu] adapter_dir, or [nlu] fallback = "off"',
            )
        name = resolve_backend(self.requested_backend, self.adapter_dir)
        if name == "llama":
            base = Path(self.base_gguf) if self.base_gguf else embedded_chat_gguf()
            return LlamaCppBackend(base, self.adapter_dir / "adapter.gguf", n_threads=self.n_threads)
        for needed in ("adapter_config.json", "adapter_model.safetensors"):
            if not (self.adapter_dir / needed).is_file():
                raise ModelNotFoundError(
                    f"LoRA adapter incomplete: {self.adapter_dir} has no {needed}",
                    hint="retrain it (see adapters/README.md)",
                )
        return TorchBackend(self.adapter_dir, n_threads=self.n_threads)

    def answer(self, text: str, hint: str | None = None, *, intent_only: bool = False) -> LoraAnswer | None:
        """The model's validated answer for ``text`` (greedy decoding), or None when its output cannot be
        parsed. ``hint``: the FastText intent, used when ``use_hint``. ``intent_only``: the intent alone, by
        greedy decoding constrained to the 15 intent names (:func:`constrained_greedy`: usually one model
        call instead of ~20 generated tokens; always a valid intent; ``date_keys`` is then None).

        Raises ModelNotFoundError (first call) when the adapter cannot be loaded.
        """
        backend = self.load()._backend
        assert backend is not None  # load() sets it or raises
        prompt = build_prompt(text, hint if self.use_hint else None)
        with self._lock:
            if intent_only:
                intent = backend.choose(prompt, self._intent_tokens)
                return LoraAnswer(intent=intent, date_keys=None, raw=intent)
            completion = backend.complete(prompt, ANSWER_STOP, MAX_ANSWER_TOKENS)
        return parse_answer(completion + ANSWER_STOP)
