"""ChatRouter: one chat entry point that asks the placement policy where each request runs.

Per request: read memory (the monitor's latest sample, at most two intervals old), run
:func:`jarvis_desktop.monitor.policy.place` for the local chat model, unload it if the policy says so, then

* **local**: load (the RSS delta is recorded as its footprint) and stream;
* **remote**: stream from the endpoint; if it fails before the first token (after its retries) the request
  is answered locally with a notice; if it fails mid-answer the local model *continues the same answer*
  (``assistant_prefix``) with a notice. ``[remote] fallback_local = false`` raises instead.

``last`` (:class:`RouteInfo`) says where the request ran, why, and any notice. With :meth:`watch` the
monitor thread re-runs the policy on each sample and unloads the model under pressure without waiting for
the next request (the unload runs on its own short thread, so sampling never blocks on a generation).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal, TypedDict

from jarvis_desktop.catalog.entries import get_entry
from jarvis_desktop.config import MonitorSettings, RemoteSettings, Settings
from jarvis_desktop.errors import BadInputError, JarvisError
from jarvis_desktop.llm.backends import ChatBackend, LocalChatBackend, make_local_backend
from jarvis_desktop.llm.remote import (
    RemoteAuthError,
    RemoteChatModel,
    RemoteError,
    RemoteInterrupted,
    RemoteTruncated,
)
from jarvis_desktop.llm.types import ChatMessage, ChatStats
from jarvis_desktop.monitor.costs import CostSummary, Pricing, RemoteMeter, estimate_tokens, user_tz
from jarvis_desktop.monitor.policy import MemoryState, ModelState, Placement, PolicyConfig, apply_budget, place
from jarvis_desktop.monitor.remote_lifecycle import RemoteLifecycle, RemoteStartError
from jarvis_desktop.monitor.resource_monitor import ResourceMonitor, shared_monitor
from jarvis_desktop.monitor.sample import Sample

log = logging.getLogger(__name__)

NoticeCallback = Callable[[str], None]
#: ``ChatRouter(remote=FROM_SETTINGS)``: build the remote backend from ``[remote]`` / the environment.
FROM_SETTINGS: Literal["settings"] = "settings"


class _StreamOptions(TypedDict):
    max_tokens: int | None
    temperature: float | None
    cancel: threading.Event | None


@dataclass
class RouteInfo:
    """Where the last request ran. ``backend``: "local"/"remote" (where the answer finished);
    ``reason``: the policy's reason; ``notice``: what the user is told about a fallback ("" if none);
    ``fallback``: the remote failed and the local model answered (all or part); ``stats``: ChatStats
    of the backend that finished; ``switch_s``: seconds spent unloading/loading before the request;
    ``runtime``: the kind of backend that finished the answer ("llama.cpp", "mlx" or "remote")."""

    backend: str
    reason: str
    notice: str = ""
    fallback: bool = False
    stats: ChatStats | None = None
    switch_s: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)
    runtime: str = ""

    def to_dict(self) -> dict[str, str | bool | float]:
        """``{"backend", "reason", "notice", "fallback", "switch_s"}`` (JSON-ready)."""
        return {
            "backend": self.backend,
            "reason": self.reason,
            "notice": self.notice,
            "fallback": self.fallback,
            "switch_s": round(self.switch_s, 3),
        }


def catalog_ram_mib(model_id: str) -> float | None:
    """The catalogue's resident-memory figure for the chat model ``model_id`` (MiB), used by the placement policy
    instead of the file-size estimate; None for a model outside the catalogue."""
    if not model_id:
        return None
    try:
        return float(get_entry(model_id).ram_mib)
    except BadInputError:
        return None


class ChatRouter:
    """Routes chat requests local/remote (see the module docstring).

    Args:
        settings: ``[chat]``, ``[remote]``, ``[monitor]`` sections.
        monitor: a :class:`~jarvis_desktop.monitor.ResourceMonitor` (its registry gets the model rows);
            None = the shared one.
        local: the local backend; None = built on first use by ``local_factory``.
        local_factory: a zero-argument factory for the local backend (default:
            :func:`.backends.make_local_backend` of ``settings``); used only when ``local`` is None.
        remote: the remote backend (default :data:`FROM_SETTINGS`: from ``[remote]`` / env; None = no remote).
    """

    def __init__(
        self,
        settings: Settings,
        monitor: ResourceMonitor | None = None,
        local: LocalChatBackend | None = None,
        remote: ChatBackend | Literal["settings"] | None = FROM_SETTINGS,
        *,
        local_factory: Callable[[], LocalChatBackend] | None = None,
    ) -> None:
        self.settings = settings
        self.monitor = monitor or shared_monitor(settings)
        self.registry = self.monitor.registry
        self._local_factory = local_factory or (lambda: make_local_backend(settings))
        self._local = local
        self.remote: ChatBackend | None = RemoteChatModel.from_settings(settings) if remote == FROM_SETTINGS else remote
        self.lifecycle = RemoteLifecycle(settings, self._probe_remote)  # start / idle-stop hooks (docs/offload.md)
        #: Records every remote use and its cost (None = the app database, opened on first use); see monitor/costs.py.
        self.meter: RemoteMeter | None = None
        self._meter_failed = False
        self._placement = "local"
        self._lock = threading.Lock()
        self._unloading = False
        self.last: RouteInfo | None = None
        self._registered = False
        self._watching = False
        if monitor is None:
            self.watch()  # the shared monitor (GUI): react to pressure between requests

    # ---- the local model -------------------------------------------------------------------------
    @property
    def local(self) -> LocalChatBackend:
        """The local backend (created on first use; not loaded)."""
        if self._local is None:
            self._local = self._local_factory()
        if not self._registered:
            self._registered = True
            estimate = catalog_ram_mib(self.settings.chat.model_id)
            self.registry.register(self.model_name, self._local.kind, self._local.model_path, estimate_mib=estimate)
            if self._local.loaded:
                self.registry.update(self.model_name, state="loaded")
        return self._local

    @property
    def model_name(self) -> str:
        """The chat model's row in the registry: "chat: <model name>" ("chat" before the backend exists)."""
        return f"chat: {self._local.name}" if self._local is not None else "chat"

    def load_local(self) -> float:
        """Load the local model if needed, recording its footprint; returns seconds spent (0 if loaded)."""
        local = self.local
        if local.loaded:
            return 0.0
        t0 = time.perf_counter()
        with self.registry.measure_load(self.model_name):
            local.load()
        return time.perf_counter() - t0

    def unload_local(self) -> float:
        """Free the local model's memory; returns seconds spent."""
        t0 = time.perf_counter()
        if self._local is not None and self._local.loaded:
            self._local.unload()
            self.registry.unloaded(self.model_name)
        return time.perf_counter() - t0

    # ---- policy ----------------------------------------------------------------------------------
    def memory(self) -> MemoryState:
        """Available/total RAM (MiB) from a sample at most two monitor intervals old."""
        sample = self.monitor.latest(max_age_s=2 * self.monitor.interval_s)
        return MemoryState(sample.ram_available_mib, sample.ram_total_mib)

    def decide(self, placement: str | None = None, memory: MemoryState | None = None) -> Placement:
        """Run the policy for the chat model (no side effects). ``placement`` overrides ``[remote] placement``."""
        local = self.local
        record = self.registry.get(self.model_name)
        state = ModelState(
            self.model_name,
            record.size_mib if record else 0.0,
            loaded=local.loaded,
            footprint_mib=record.footprint_mib if record and local.loaded else None,
            last_used=(record.last_used or 0.0) if record else 0.0,
            placement=self._placement,
            remote_ok=self.remote is not None,
        )
        config = PolicyConfig.from_settings(self.settings, mode=placement)
        return place([state], memory or self.memory(), config)[self.model_name]

    def apply(self, placement: str | None = None, memory: MemoryState | None = None) -> tuple[Placement, float]:
        """Decide, record the decision in the registry, unload if told to; returns (decision, seconds unloading)."""
        decision = self._with_budget(self.decide(placement, memory), placement)
        spent = self.unload_local() if decision.unload else 0.0
        if placement is None or placement == "auto":
            self._placement = decision.where  # forced one-off placements do not move the hysteresis state
        self.registry.update(self.model_name, placement=decision.where, reason=decision.reason)
        return decision, spent

    # ---- cost and budget (monitor/costs.py, docs/offload.md "Cost and budget") -------------------------------------
    def _get_meter(self) -> RemoteMeter | None:
        """The usage meter (the app database on first use); None when it cannot be opened (metering never
        fails a chat request; the reason is logged once)."""
        if self.meter is None and not self._meter_failed:
            try:
                self.meter = RemoteMeter.open_default()
            except JarvisError as exc:
                self._meter_failed = True
                log.warning("remote usage is not metered: %s", exc.user_message())
        return self.meter

    def cost_summary(self) -> CostSummary | None:
        """Remote cost today and this month (the user's time zone) against the budget; None without a meter."""
        meter = self._get_meter()
        if meter is None:
            return None
        try:
            return meter.summary(self.settings.remote, tz=user_tz(self.settings))
        except JarvisError as exc:
            log.warning("remote cost unknown: %s", exc.user_message())
            return None

    def _with_budget(self, decision: Placement, placement: str | None) -> Placement:
        """``decision`` after the monthly budget (``policy.apply_budget``): only when the remote is priced or has
        a budget (otherwise no database is read)."""
        remote = self.settings.remote
        pricing = Pricing.from_settings(remote)
        if decision.where != "remote" or not (pricing.priced or remote.monthly_budget_usd > 0):
            return decision
        summary = self.cost_summary()
        if summary is None:
            return decision
        return apply_budget(decision, summary.budget, pricing, placement or remote.placement)

    def _record_use(
        self, started: float, seconds: float, messages: Sequence[ChatMessage], stats: ChatStats | None, ok: bool
    ) -> None:
        """Meter one remote chat use (epoch ``started``, wall ``seconds``); tokens are estimated (the stream
        carries no usage): input from the messages, output from the reply's stats."""
        meter = self._get_meter()
        if meter is None:
            return
        boots = [ev.at for ev in self.lifecycle.history() if ev.state == "starting" and ev.at >= started]
        try:
            meter.record(
                self.settings.remote,
                "chat",
                started=started,
                seconds=max(0.0, seconds),
                input_tokens=sum(estimate_tokens(m["content"]) for m in messages) if stats is not None else 0,
                output_tokens=stats.completion_tokens if stats is not None else 0,
                tokens_estimated=True,
                ok=ok,
                machine_started_at=boots[-1] if boots else None,  # the start hook ran for this use
            )
        except JarvisError as exc:
            log.warning("remote use not metered: %s", exc.user_message())

    def _metered(
        self,
        deltas: Iterator[str],
        remote: ChatBackend,
        messages: Sequence[ChatMessage],
        started: float,
        info: RouteInfo,
    ) -> Iterator[str]:
        """``deltas`` (the remote stream and any local continuation), metering the remote part when it ends
        (``started``: epoch of the request; a fallback mid-answer is a failed use)."""
        failed = False
        try:
            yield from deltas
        except RemoteError:
            failed = True
            raise
        finally:
            self._record_use(started, time.time() - started, messages, remote.last_stats, not (failed or info.fallback))

    def watch(self) -> None:
        """Re-run the policy on every monitor sample (unloading under pressure without waiting for a request).
        Idempotent; only acts while the monitor thread runs."""
        if not self._watching:
            self._watching = True
            self.monitor.add_listener(self._on_sample)

    def unwatch(self) -> None:
        """Stop re-running the policy on monitor samples."""
        self._watching = False
        self.monitor.remove_listener(self._on_sample)

    def swap_local(self) -> None:
        """Unload and forget the local backend, so the next request builds it again from the factory (the chat
        model chosen in Settings, without a restart). Call it on the engine thread, between requests."""
        old, name = self._local, self.model_name
        self._local, self._registered = None, False
        if old is not None:
            old.unload()
            self.registry.unloaded(name)

    def reconfigure(self, remote: RemoteSettings | None = None, monitor: MonitorSettings | None = None) -> None:
        """Apply new ``[remote]`` / ``[monitor]`` settings (the GUI's Settings dialog): rebuilds the remote
        client (re-reading the key) and sets the monitor's interval. Call it on the engine thread."""
        if monitor is not None:
            self.settings.monitor = monitor
            self.monitor.interval_s = monitor.interval_s
        if remote is not None:
            self.settings.remote = remote
            self.remote = RemoteChatModel.from_settings(self.settings)

    def _probe_remote(self, timeout_s: float) -> None:
        """Return when the remote endpoint answers (``GET /models``; a key it rejects still answers); raise if not."""
        if isinstance(self.remote, RemoteChatModel):
            try:
                self.remote.models(timeout_s)
            except RemoteAuthError:
                return  # it answered; the request itself reports the key

    def close(self) -> None:
        """End the remote lifecycle's idle timer thread (app shutdown)."""
        self.lifecycle.close()

    def _on_sample(self, sample: Sample) -> None:
        if self._local is None or self._unloading:
            return
        decision = self.decide(memory=MemoryState(sample.ram_available_mib, sample.ram_total_mib))
        self.registry.update(self.model_name, placement=decision.where, reason=decision.reason)
        if decision.unload:
            self._placement = "remote"
            self._unloading = True

            def run() -> None:
                try:
                    self.unload_local()
                finally:
                    self._unloading = False

            threading.Thread(target=run, name="jarvis-unload", daemon=True).start()

    # ---- chat ------------------------------------------------------------------------------------
    def warm_up(self) -> None:
        """Load the local model if the policy keeps it local (the GUI's start-up)."""
        decision, _ = self.apply()
        if decision.where == "local":
            self.load_local()
            self.local.warm_up()

    def stream(
        self,
        messages: Sequence[ChatMessage],
        *,
        placement: str | None = None,
        cancel: threading.Event | None = None,
        max_tokens: int | None = None,
        temperature: float | None = None,
        on_notice: NoticeCallback | None = None,
    ) -> Iterator[str]:
        """Route one request and return its text deltas; ``last`` is set now and completed when it ends.

        ``placement``: "auto"/"local"/"remote" for this request (None = the setting). ``on_notice`` gets the
        fallback notice (also in ``last.notice``).

        Raises:
            BadInputError: malformed messages / placement. ModelNotFoundError: the local model cannot load.
            RemoteError: the remote failed and ``[remote] fallback_local`` is false.
        """
        t0 = time.perf_counter()
        started = time.time()  # epoch, for the usage meter
        decision, spent = self.apply(placement)
        kwargs: _StreamOptions = {"max_tokens": max_tokens, "temperature": temperature, "cancel": cancel}
        info = RouteInfo(decision.where, decision.reason, switch_s=spent)
        self.last = info
        if decision.notice:  # the budget: nearly used (going remote) or reached (staying local)
            info.notice = decision.notice
            if on_notice is not None:
                on_notice(decision.notice)
        if decision.where == "remote" and self.remote is not None:
            remote = self.remote
            try:
                self.lifecycle.begin(cancel)
                deltas = remote.stream(messages, **kwargs)
                info.runtime = remote.kind
                info.timings["connect_s"] = time.perf_counter() - t0
                self.registry.used(self.model_name, "remote")
                routed = self._remote_then_local(remote, deltas, messages, kwargs, info, on_notice)
                return self._metered(routed, remote, messages, started, info)
            except (RemoteError, RemoteStartError) as exc:
                self.lifecycle.lost(exc.user_message())
                self._record_use(started, time.time() - started, messages, None, ok=False)
                if not self.settings.remote.fallback_local:
                    raise
                if cancel is not None and cancel.is_set():  # Stop was pressed: no local answer either
                    return self._stopped(info, t0)
                self._notice(info, f"{exc.user_message()} — answered locally", on_notice)
        elif cancel is not None and cancel.is_set():  # stopped before it began: do not load the model for nothing
            return self._stopped(info, t0)
        info.switch_s += self.load_local()
        self.registry.used(self.model_name, "local")
        deltas = self.local.stream(messages, **kwargs)
        info.runtime = self.local.kind
        return self._finish(deltas, self.local, info)

    @staticmethod
    def _stopped(info: RouteInfo, t0: float) -> Iterator[str]:
        """An empty stream for a request whose ``cancel`` was set before any text (cancelled stats)."""
        elapsed = time.perf_counter() - t0
        info.stats = ChatStats(0, 0, elapsed, elapsed, 0.0, cancelled=True)
        return iter(())

    def _notice(self, info: RouteInfo, text: str, on_notice: NoticeCallback | None) -> None:
        info.notice, info.fallback, info.backend = text, True, "local"
        if on_notice is not None:
            on_notice(text)

    def _finish(self, deltas: Iterator[str], backend: ChatBackend, info: RouteInfo) -> Iterator[str]:
        info.runtime = backend.kind
        try:
            yield from deltas
        finally:
            info.stats = backend.last_stats

    def _remote_then_local(
        self,
        remote: ChatBackend,
        deltas: Iterator[str],
        messages: Sequence[ChatMessage],
        kwargs: _StreamOptions,
        info: RouteInfo,
        on_notice: NoticeCallback | None,
    ) -> Iterator[str]:
        try:
            yield from deltas
            info.stats = remote.last_stats
            self.lifecycle.used()
            return
        except RemoteTruncated as exc:  # too long or too slow overall: keep what arrived, say it was cut
            self.lifecycle.used()
            info.stats = remote.last_stats
            info.notice = exc.user_message()
            if on_notice is not None:
                on_notice(info.notice)
            return
        except RemoteInterrupted as exc:
            self.lifecycle.lost(exc.user_message())
            if not self.settings.remote.fallback_local:
                raise
            cancel = kwargs["cancel"]
            if cancel is not None and cancel.is_set():  # Stop was pressed: keep what arrived, do not continue it
                info.stats = remote.last_stats
                return
            partial = exc.partial
            self._notice(info, f"{exc.user_message()} — the local model finished the answer", on_notice)
        try:
            self.load_local()
        except JarvisError as exc:  # the local model is not usable either: keep what arrived, say why
            info.notice += f"; local model unavailable: {exc.user_message()}"
            return
        self.registry.used(self.model_name, "local")
        yield from self._finish(self.local.stream(messages, assistant_prefix=partial, **kwargs), self.local, info)
