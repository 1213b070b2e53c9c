"""The sampling thread: a :class:`~.sample.Sample` every ``interval_s`` seconds into a rolling history.

The GUI polls :meth:`ResourceMonitor.snapshot` from a QTimer (a copy taken under a lock: the GUI thread
never waits on sampling); the CLI's ``monitor`` command prints it. ``stop()`` ends the thread within one
interval (it waits on an Event, not a sleep); an ``atexit`` hook stops a forgotten monitor.

Overhead: the thread measures its own CPU time (``time.thread_time``), so :meth:`overhead_percent` is the
monitor's share of one core (%), what ``bench/offload.py`` reports.
"""

from __future__ import annotations

import atexit
import contextlib
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psutil

from jarvis_desktop.config import Settings, load_settings
from jarvis_desktop.monitor.idle import remote_idle_minutes
from jarvis_desktop.monitor.registry import ModelRecord, ModelRegistry
from jarvis_desktop.monitor.sample import Sample, take_sample


@dataclass
class MonitorSnapshot:
    """What a viewer needs: the newest sample (None before the first), the history (oldest first),
    the model table, and minutes since the last remote request (None = never)."""

    latest: Sample | None
    history: list[Sample]
    models: list[ModelRecord]
    remote_idle_min: float | None = None
    running: bool = False
    overhead_percent: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self, history: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "sample": self.latest.to_dict() if self.latest else None,
            "models": [m.to_dict() for m in self.models],
            "remote_idle_min": None if self.remote_idle_min is None else round(self.remote_idle_min, 1),
            "monitor_overhead_percent": round(self.overhead_percent, 2),
        }
        if history:
            out["history"] = [s.to_dict() for s in self.history]
        return out


class ResourceMonitor:
    """Samples the system on a daemon thread.

    Args:
        interval_s: seconds between samples (> 0; default 1 s).
        history_len: samples kept (default 300: five minutes at 1 s).
        registry: the model table to show (a new one if None).
        on_sample: called on the monitor thread after each sample (must be quick; the GUI uses polling);
            more with :meth:`add_listener`.

    Raises:
        ValueError: interval_s <= 0 or history_len < 1.
    """

    def __init__(
        self,
        interval_s: float = 1.0,
        history_len: int = 300,
        registry: ModelRegistry | None = None,
        on_sample: Callable[[Sample], None] | None = None,
    ) -> None:
        if interval_s <= 0:
            raise ValueError(f"monitor interval must be > 0 s, got {interval_s}")
        if history_len < 1:
            raise ValueError(f"monitor history_len must be >= 1, got {history_len}")
        self.interval_s = float(interval_s)
        self.registry = registry or ModelRegistry()
        self._listeners: list[Callable[[Sample], None]] = [on_sample] if on_sample else []
        self._history: deque[Sample] = deque(maxlen=history_len)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._process = psutil.Process()
        self._cpu_s = 0.0  # CPU time spent by the monitor thread, s
        self._started_at = 0.0  # perf_counter when the thread started
        self._wall_s = 0.0  # wall time of finished runs, s
        self._atexit = False

    @classmethod
    def from_settings(cls, settings: Settings, registry: ModelRegistry | None = None) -> ResourceMonitor:
        return cls(settings.monitor.interval_s, settings.monitor.history_len, registry)

    # ---- thread ----------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> ResourceMonitor:
        """Start sampling (idempotent); returns self."""
        if self.running:
            return self
        if not self._atexit:  # a forgotten monitor is stopped at interpreter exit
            self._atexit = True
            atexit.register(self.stop)
        self._stop.clear()
        self._started_at = time.perf_counter()
        self._thread = threading.Thread(target=self._run, name="jarvis-monitor", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout_s: float = 5.0) -> bool:
        """Stop the thread and wait for it (at most ``timeout_s``); True when it has ended (or never ran)."""
        thread = self._thread
        if thread is None:
            return True
        self._stop.set()
        if thread is not threading.current_thread():
            thread.join(timeout_s)
        if thread.is_alive():
            return False
        self._wall_s += time.perf_counter() - self._started_at
        self._thread = None
        return True

    def _run(self) -> None:
        while not self._stop.is_set():
            t0 = time.thread_time()
            with contextlib.suppress(Exception):  # psutil hiccup (e.g. /proc busy): skip one sample
                self.sample_now()
            self._cpu_s += time.thread_time() - t0
            self._stop.wait(self.interval_s)

    # ---- data ------------------------------------------------------------------------------------
    def sample_now(self) -> Sample:
        """Take a sample now (any thread), add it to the history and return it."""
        sample = take_sample(self._process)
        with self._lock:
            self._history.append(sample)
        for listener in list(self._listeners):
            with contextlib.suppress(Exception):  # a listener's bug must not stop sampling
                listener(sample)
        return sample

    def add_listener(self, listener: Callable[[Sample], None]) -> None:
        """Call ``listener(sample)`` on the sampling thread after each sample (keep it quick)."""
        self._listeners.append(listener)

    def remove_listener(self, listener: Callable[[Sample], None]) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def latest(self, max_age_s: float | None = None) -> Sample:
        """The newest sample; a fresh one if there is none or it is older than ``max_age_s`` seconds."""
        with self._lock:
            last = self._history[-1] if self._history else None
        if last is None or (max_age_s is not None and time.time() - last.t > max_age_s):
            return self.sample_now()
        return last

    def overhead_percent(self) -> float:
        """CPU time of the monitor thread / wall time it ran, in % of one core."""
        wall = self._wall_s + (time.perf_counter() - self._started_at if self.running else 0.0)
        return 100.0 * self._cpu_s / wall if wall > 0 else 0.0

    def snapshot(self) -> MonitorSnapshot:
        """A copy of everything a viewer shows (thread-safe, does not sample)."""
        with self._lock:
            history = list(self._history)
        return MonitorSnapshot(
            history[-1] if history else None,
            history,
            self.registry.records(),
            remote_idle_minutes(),
            self.running,
            self.overhead_percent(),
        )


_shared: ResourceMonitor | None = None
_shared_lock = threading.Lock()


def shared_monitor(settings: Settings | None = None) -> ResourceMonitor:
    """The process-wide monitor (created on first call from ``settings.monitor``; not started).
    The Assistant registers its models in it and the GUI's monitor panel shows it."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = ResourceMonitor.from_settings(settings or load_settings())
        return _shared
