"""The NLU LoRA fallback on a remote OpenAI-compatible server that serves the adapter, placed like chat.

* :class:`RemoteLoraFallback` asks a server that serves the same base model with the same LoRA adapter (e.g.
  ``python -m llama_cpp.server --model <SmolLM2 GGUF> --lora_path adapters/date-intent/adapter.gguf``). It sends
  the prompt the local fallback builds (:func:`.lora_format.build_prompt`) to ``/v1/completions`` and decodes it
  the way the local one does, so a remote answer equals the local answer on the same utterance:

  - the intent (:meth:`RemoteLoraFallback.decide`, what the engine asks): the local fallback's constrained greedy
    decoding (:func:`.lora_fallback.constrained_greedy`) with the server as the scorer: at each point where the 15
    intent names branch, one request of ``max_tokens=1`` at temperature 0 whose ``logit_bias`` (+100, token ids of
    the base model's vocabulary) allows only the tokens that continue a name, so the server's greedy pick is the
    highest-scoring allowed token, as locally. Usually one request; two for ``schedule_query`` /
    ``schedule_remove`` (they share ``schedule_``).
  - the full answer (:meth:`RemoteLoraFallback.answer`): greedy completion with the local stop string and token
    budget, parsed by the same :func:`.lora_format.parse_answer`.

  Token ids come from the base GGUF's vocabulary alone (``Llama(vocab_only=True)``: ~0.1 s, a few MiB), not
  from the model. Sampling is pinned as llama.cpp does it locally (``temperature=0, top_k=1,
  repeat_penalty=1``; the server's own default repeat penalty, 1.1, would change the scores).
  Every parse is bounded by ``timeout_s`` (``[remote] nlu_timeout_s``, default 5 s) in all, its requests
  included, measured by the caller: the request runs on a helper thread and the caller stops waiting at the
  deadline, whatever the server does (hang, drip). No retries: a local parse (~0.15 s) is cheaper than a retry.
  Failures raise :class:`RemoteNluError` (down, time-out, HTTP status, an answer that is not an allowed token).

* :class:`PlacedLoraFallback` is the engine's :class:`~.fallback.IntentFallback` when ``[remote] nlu_base_url`` is
  set: per call it asks the placement policy (:func:`~jarvis_desktop.monitor.policy.place`, ``[remote]
  placement``, the local fallback's footprint: the base GGUF + adapter file sizes), asks the remote when placed
  there, and on any remote failure answers with the local fallback and a notice (``[remote] fallback_local``;
  when false, no decision: FastText's guess stands, with the notice). The monthly budget applies as for chat
  (:func:`~jarvis_desktop.monitor.policy.apply_budget`: reached -> local with the budget's notice), and every remote
  use is metered (kind ``"nlu"``, tokens estimated) in the app database. Where it ran and why is in ``last``
  (:class:`NluRouteInfo`, like chat's ``RouteInfo``) and in the decision (:class:`RoutedDecision`).
  Failover bound: ``nlu_timeout_s`` + one local parse (+ the local model's load, ~0.3 s, on its first use).
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jarvis_desktop.config import Settings
from jarvis_desktop.errors import JarvisError
from jarvis_desktop.llm.keys import get_api_key
from jarvis_desktop.models import embedded_chat_gguf
from jarvis_desktop.monitor.costs import Pricing, RemoteMeter, estimate_tokens, user_tz
from jarvis_desktop.monitor.idle import record_remote_activity
from jarvis_desktop.monitor.policy import MemoryState, ModelState, Placement, PolicyConfig, apply_budget, place
from jarvis_desktop.nlu.fallback import FallbackDecision
from jarvis_desktop.nlu.lora_fallback import MAX_ANSWER_TOKENS, LoraFallback
from jarvis_desktop.nlu.lora_format import ANSWER_STOP, LoraAnswer, build_prompt, parse_answer
from jarvis_desktop.nlu.vocab import INTENTS

log = logging.getLogger(__name__)

#: Logit bias that lifts the allowed tokens above every other one (logits of this model stay within +-40).
ALLOW_BIAS = 100.0
#: The name of the NLU fallback's row for the placement policy.
MODEL_NAME = "nlu fallback"


class RemoteNluError(JarvisError):
    """The remote NLU server failed: unreachable, timed out, an HTTP error status, or an unusable answer."""


@dataclass(frozen=True)
class NluRouteInfo:
    """Where one fallback decision ran. ``backend``: "local"/"remote" (where the answer came from); ``reason``: the
    policy's; ``notice``: what the user is told about a fallback ("" if none); ``fallback``: the remote failed and
    the local fallback answered; ``seconds``: wall time of the decision."""

    backend: str
    reason: str
    notice: str = ""
    fallback: bool = False
    seconds: float = 0.0

    def to_dict(self) -> dict[str, str | bool | float]:
        """``{"backend", "reason", "notice", "fallback", "seconds"}`` (JSON-ready)."""
        return {
            "backend": self.backend,
            "reason": self.reason,
            "notice": self.notice,
            "fallback": self.fallback,
            "seconds": round(self.seconds, 3),
        }


@dataclass(frozen=True)
class RoutedDecision(FallbackDecision):
    """A :class:`~.fallback.FallbackDecision` (``source="lora"``, local or remote) that also says where it ran."""

    route: NluRouteInfo | None = None


class RemoteLoraFallback:
    """The LoRA fallback's answers from a remote OpenAI-compatible ``/v1/completions`` endpoint (see the module doc).

    Args:
        base_url: the endpoint, e.g. ``http://gpu-box:8080/v1`` (a trailing ``/`` is ignored).
        model: the model name sent in requests ("" = the server's only model).
        timeout_s: the longest one :meth:`decide` / :meth:`answer` may wait for the server, all requests included (s).
        base_gguf: the base model GGUF whose vocabulary gives token ids; None = the embedded SmolLM2-135M-Instruct
            (it must be the base the server runs).
        api_key: sent as ``Authorization: Bearer``; None = the chat key (OS keyring / ``JARVIS_REMOTE_API_KEY``).
        use_hint: put FastText's guess in the prompt, as :class:`~.lora_fallback.LoraFallback` does.
    """

    def __init__(
        self,
        base_url: str,
        model: str = "",
        timeout_s: float = 5.0,
        base_gguf: Path | None = None,
        api_key: str | None = None,
        use_hint: bool = True,
    ) -> None:
        if timeout_s <= 0:
            raise ValueError(f"timeout_s must be > 0, got {timeout_s!r}")
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.timeout_s = float(timeout_s)
        self.base_gguf = base_gguf
        self.use_hint = use_hint
        self._api_key = api_key
        self._vocab: Any = None
        self._options: dict[str, list[int]] = {}
        self._pieces: dict[int, str] = {}
        self._openai: Any = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:  # the key stays out of logs
        return f"RemoteLoraFallback({self.base_url!r}, model={self.model!r}, timeout_s={self.timeout_s})"

    def routing_threshold(self) -> float | None:
        """None: the threshold is the local adapter's (see :class:`PlacedLoraFallback`)."""
        return None

    def _load_vocab(self) -> None:
        """Token ids of the 15 intent names and the text of each of their tokens, from the base's vocabulary."""
        if self._vocab is not None:
            return
        with self._lock:
            if self._vocab is not None:
                return
            from llama_cpp import Llama

            path = Path(self.base_gguf) if self.base_gguf else embedded_chat_gguf()
            vocab = Llama(model_path=str(path), vocab_only=True, verbose=False)
            options = {name: vocab.tokenize(name.encode("utf-8"), add_bos=False, special=False) for name in INTENTS}
            self._pieces = {tok: vocab.detokenize([tok]).decode("utf-8") for ids in options.values() for tok in ids}
            self._options = options
            self._vocab = vocab

    # ---- HTTP ----------------------------------------------------------------------------------------------------
    def _client(self) -> Any:
        """The ``openai`` client (no retries; its own time-outs at :attr:`timeout_s`, connect 3 s)."""
        if self._openai is None:
            from openai import OpenAI, Timeout

            key = self._api_key if self._api_key is not None else get_api_key()
            self._openai = OpenAI(
                base_url=self.base_url,
                api_key=key or "none",
                max_retries=0,
                timeout=Timeout(self.timeout_s, connect=min(self.timeout_s, 3.0)),
            )
        return self._openai

    def _post(self, body: dict[str, Any], deadline: float) -> str:
        """``/completions`` with ``body``; the first choice's text. Raises RemoteNluError (by ``deadline``)."""
        import openai

        left = deadline - time.monotonic()
        timed_out = f"remote NLU endpoint {self.base_url} timed out after {self.timeout_s:g} s"
        if left <= 0:
            raise RemoteNluError(timed_out)
        client = self._client()
        known = {"prompt", "max_tokens", "temperature", "top_p", "presence_penalty", "frequency_penalty", "stop"}
        known |= {"logit_bias"}
        args = {k: v for k, v in body.items() if k in known}
        extra = {k: v for k, v in body.items() if k not in known}
        box: dict[str, Any] = {}

        def run() -> None:
            try:
                box["out"] = client.completions.create(
                    model=self.model or "default", extra_body=extra, timeout=left, **args
                )
            except Exception as exc:  # any failure is reported to the caller below
                box["error"] = exc

        worker = threading.Thread(target=run, name="nlu-remote", daemon=True)
        worker.start()
        worker.join(left)
        if worker.is_alive():
            raise RemoteNluError(timed_out)
        exc = box.get("error")
        if isinstance(exc, openai.APITimeoutError):
            raise RemoteNluError(timed_out)
        if isinstance(exc, openai.APIConnectionError):
            raise RemoteNluError(f"remote NLU endpoint {self.base_url} is unreachable ({exc})")
        if isinstance(exc, openai.APIStatusError):
            raise RemoteNluError(f"remote NLU endpoint {self.base_url} answered HTTP {exc.status_code}")
        if exc is not None:
            kind = type(exc).__name__
            raise RemoteNluError(f"remote NLU endpoint {self.base_url} sent an unreadable answer ({kind})")
        try:
            text = box["out"].choices[0].text
        except (AttributeError, IndexError, TypeError) as err:
            raise RemoteNluError(f"remote NLU endpoint {self.base_url} sent an unreadable answer") from err
        if not isinstance(text, str):
            raise RemoteNluError(f"remote NLU endpoint {self.base_url} sent an unreadable answer")
        return text

    @staticmethod
    def _sampling(max_tokens: int) -> dict[str, Any]:
        """Greedy, as the local llama.cpp call (the server's default repeat penalty is 1.1, the local one 1)."""
        return {
            "max_tokens": max_tokens,
            "temperature": 0.0,
            "top_k": 1,
            "top_p": 1.0,
            "min_p": 0.0,
            "repeat_penalty": 1.0,
            "presence_penalty": 0.0,
            "frequency_penalty": 0.0,
        }

    # ---- answers -------------------------------------------------------------------------------------------------
    def intent(self, text: str, hint: str | None = None) -> str:
        """The intent of ``text`` by constrained greedy decoding over the 15 names with the server as the scorer
        (at most :attr:`timeout_s` in all). Raises RemoteNluError."""
        self._load_vocab()
        deadline = time.monotonic() + self.timeout_s
        prompt = build_prompt(text, hint if self.use_hint else None)
        alive = dict(self._options)
        chosen: list[int] = []
        pos = 0
        while len(alive) > 1:
            nexts = {ids[pos] for ids in alive.values() if len(ids) > pos}
            if not nexts:  # one option is a prefix of another and ends here (as constrained_greedy)
                return min(alive, key=lambda k: len(alive[k]))
            if len(nexts) == 1:
                best = nexts.pop()
            else:
                body = {
                    "prompt": prompt + "".join(self._pieces[t] for t in chosen),
                    "logit_bias": {str(t): ALLOW_BIAS for t in sorted(nexts)},
                    "logit_bias_type": "input_ids",
                    **self._sampling(1),
                }
                got = self._post(body, deadline)
                matches = [t for t in nexts if self._pieces[t] == got]
                if len(matches) != 1:
                    raise RemoteNluError(
                        f"remote NLU endpoint {self.base_url} answered {got[:40]!r}, not an intent token "
                        "(does it serve the LoRA adapter on the same base model?)"
                    )
                best = matches[0]
            chosen.append(best)
            pos += 1
            alive = {k: ids for k, ids in alive.items() if ids[:pos] == chosen}
        return next(iter(alive))

    def decide(self, text: str, hint: str) -> FallbackDecision | None:
        """The :class:`~.fallback.IntentFallback` question, answered remotely (``source="lora"``). Raises
        RemoteNluError."""
        return FallbackDecision(self.intent(text, hint), "lora")

    def answer(self, text: str, hint: str | None = None) -> LoraAnswer | None:
        """The full answer (intent and the model's date keys), as :meth:`.lora_fallback.LoraFallback.answer`
        without ``intent_only``: greedy, stop ``}``, at most 64 tokens, :func:`.lora_format.parse_answer`.
        None when the output cannot be parsed. Raises RemoteNluError."""
        body = {
            "prompt": build_prompt(text, hint if self.use_hint else None),
            "stop": [ANSWER_STOP],
            **self._sampling(MAX_ANSWER_TOKENS),
        }
        completion = self._post(body, time.monotonic() + self.timeout_s)
        return parse_answer(completion + ANSWER_STOP)


def _available_memory() -> MemoryState:
    import psutil

    vm = psutil.virtual_memory()
    return MemoryState(vm.available / 2**20, vm.total / 2**20)


class PlacedLoraFallback:
    """The LoRA fallback placed per call, local or remote, with the local one as the fallback (module doc).

    Args:
        local: the local :class:`~.lora_fallback.LoraFallback` (loaded only when a call runs locally).
        remote: the :class:`RemoteLoraFallback`.
        settings: ``[remote] placement`` and ``fallback_local``, ``track_idle``; ``[monitor]`` thresholds.
        memory: ``() -> MemoryState`` (MiB) for the policy; None = psutil now.
        meter: the remote usage meter; None = the app database's, opened on first need (a meter that cannot
            be opened is logged once and skipped: metering never fails a parse).
    """

    def __init__(
        self,
        local: LoraFallback,
        remote: RemoteLoraFallback,
        settings: Settings,
        memory: Callable[[], MemoryState] | None = None,
        meter: RemoteMeter | None = None,
    ) -> None:
        self.local = local
        self.remote = remote
        self.settings = settings
        self.memory = memory or _available_memory
        #: Where the last decision ran and why (None before the first).
        self.last: NluRouteInfo | None = None
        self._placement = "local"
        self._last_used = 0.0
        self.meter = meter
        self._meter_failed = False

    @classmethod
    def from_settings(cls, local: LoraFallback, settings: Settings) -> PlacedLoraFallback:
        """``local`` placed against ``[remote] nlu_base_url`` / ``nlu_model`` / ``nlu_timeout_s``."""
        r = settings.remote
        remote = RemoteLoraFallback(
            r.nlu_base_url, r.nlu_model, r.nlu_timeout_s, base_gguf=local.base_gguf, use_hint=local.use_hint
        )
        return cls(local, remote, settings)

    def routing_threshold(self) -> float | None:
        """The local adapter's threshold (the server serves the same adapter)."""
        return self.local.routing_threshold()

    def footprint_mib(self) -> float:
        """Size of what the local fallback loads: the base GGUF + the adapter GGUF (MiB; 0 when not found)."""
        try:
            base = Path(self.local.base_gguf) if self.local.base_gguf else embedded_chat_gguf()
        except JarvisError:
            return 0.0
        files = [base, self.local.adapter_dir / "adapter.gguf"]
        return sum(f.stat().st_size for f in files if f.is_file()) / 2**20

    def _get_meter(self) -> RemoteMeter | None:
        if self.meter is None and not self._meter_failed:
            try:
                self.meter = RemoteMeter.open_default()
            except JarvisError as exc:
                self._meter_failed = True
                log.warning("remote NLU use is not metered: %s", exc.user_message())
        return self.meter

    def _with_budget(self, decision: Placement, placement: str | None) -> Placement:
        """``decision`` after the monthly budget, as chat's (read only when the remote is priced or budgeted)."""
        remote = self.settings.remote
        pricing = Pricing.from_settings(remote)
        if decision.where != "remote" or not (pricing.priced or remote.monthly_budget_usd > 0):
            return decision
        meter = self._get_meter()
        if meter is None:
            return decision
        try:
            summary = meter.summary(remote, tz=user_tz(self.settings))
        except JarvisError as exc:
            log.warning("remote cost unknown: %s", exc.user_message())
            return decision
        return apply_budget(decision, summary.budget, pricing, placement or remote.placement)

    def _record_use(self, started: float, seconds: float, prompt_tokens: int, ok: bool) -> None:
        meter = self._get_meter()
        if meter is None:
            return
        remote = self.settings.remote
        shown = dataclasses.replace(remote, base_url=remote.nlu_base_url, model=remote.nlu_model)
        try:
            meter.record(
                shown,
                "nlu",
                started=started,
                seconds=max(0.0, seconds),
                input_tokens=prompt_tokens,
                output_tokens=1 if ok else 0,
                ok=ok,
            )
        except JarvisError as exc:
            log.warning("remote NLU use not metered: %s", exc.user_message())

    def place(self, placement: str | None = None) -> tuple[str, str]:
        """The policy's ``(where, reason)`` for the next call ("local"/"remote"), after the monthly budget;
        ``placement`` overrides ``[remote] placement``."""
        where, reason, _ = self._decide_placement(placement)
        return where, reason

    def _decide_placement(self, placement: str | None = None) -> tuple[str, str, str]:
        loaded = self.local.backend_name is not None
        state = ModelState(
            MODEL_NAME,
            self.footprint_mib(),
            loaded=loaded,
            last_used=self._last_used,
            placement=self._placement,
            remote_ok=True,
        )
        decision = place([state], self.memory(), PolicyConfig.from_settings(self.settings, mode=placement))[MODEL_NAME]
        decision = self._with_budget(decision, placement)
        if placement is None or placement == "auto":
            self._placement = decision.where
        return decision.where, decision.reason, decision.notice

    def decide(self, text: str, hint: str) -> FallbackDecision | None:
        """The intent of ``text``, remote or local per the policy; see :attr:`last`. Raises ModelNotFoundError
        only when it runs locally and the local adapter cannot load (as the local fallback)."""
        t0 = time.perf_counter()
        self._last_used = time.time()
        where, reason, budget_notice = self._decide_placement()
        if where == "remote":
            started = time.time()
            tokens = estimate_tokens(build_prompt(text, hint if self.remote.use_hint else None))
            try:
                intent = self.remote.intent(text, hint)
            except RemoteNluError as exc:
                self._record_use(started, time.time() - started, tokens, ok=False)
                notice = f"{exc.user_message()} — parsed locally"
                log.warning("%s", notice)
                if not self.settings.remote.fallback_local:
                    notice = f"{exc.user_message()} — the FastText intent stands ([remote] fallback_local = false)"
                    self.last = NluRouteInfo("local", reason, notice, True, time.perf_counter() - t0)
                    return None
                return self._local(text, hint, reason, t0, notice, fallback=True)
            self._record_use(started, time.time() - started, tokens, ok=True)
            if self.settings.remote.track_idle:
                record_remote_activity(self.remote.base_url, self.remote.model)
            self.last = NluRouteInfo("remote", reason, budget_notice, False, time.perf_counter() - t0)
            return RoutedDecision(intent, "lora", self.last)
        return self._local(text, hint, reason, t0, budget_notice, fallback=False)

    def _local(
        self, text: str, hint: str, reason: str, t0: float, notice: str, *, fallback: bool
    ) -> FallbackDecision | None:
        decision = self.local.decide(text, hint)
        self.last = NluRouteInfo("local", reason, notice, fallback, time.perf_counter() - t0)
        return RoutedDecision(decision.intent, decision.source, self.last) if decision is not None else None
