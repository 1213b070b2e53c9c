"""How many llama.cpp threads a chat request gets, chosen per request from the CPU load (psutil).

llama.cpp's threads spin-wait for each other at every step of a token, so a thread that shares its core with
any other busy thread stalls the whole team. Measured on 2 cores (SmolLM2-135M): idle, 2 threads ~100-116
tokens/s, 1 thread ~70; with one process burning a core, 2 threads 33 and 1 thread 72 (0.3 vs 45 under a
training job); with a process busy a fraction of a core in 10 ms bursts, 2 threads still lead at 10-25 %
(93-95 vs 70; 79 vs 66) and tie at 50 % (64 vs 65).

**The rule** (:func:`threads_for`): ``threads = cores - ceil(other - TOLERANCE_CORES)``, clamped to
``[1, cores]``, where ``other`` is the number of cores kept busy by *other work* (averaged over a short
window) and ``cores`` the logical cores this process may run on. Other work is everything but the chat's own
llama.cpp threads: other processes (training jobs run as their own processes), and this process's other
threads (speech-to-text, text-to-speech, the NLU's LoRA model, the GUI). With ``TOLERANCE_CORES`` = 0.25, a
machine whose other work stays under a quarter of a core counts as idle and gets every core.

**Where the figure comes from** (:class:`LoadProbe`): system-wide busy CPU time (``psutil.cpu_times()``:
user, nice, system, irq, softirq, steal), this process's CPU time (``psutil.Process().cpu_times()``) and the
generating thread's CPU time (``time.thread_time()``), read twice:

* **before a request** (:meth:`ThreadPlanner.at_start`), while the chat's llama.cpp threads are idle, every
  busy core is other work. The window runs from the end of the previous reply when that was 0.05-1 s ago,
  else the planner samples for ``window_s`` (50 ms, added to the first token);
* **during a reply** (:meth:`ThreadPlanner.recheck`, called after each token, acting at most every
  ``recheck_s`` = 0.5 s; two /proc reads), the chat's own share is estimated as the generating thread's CPU
  time x the thread count (the other llama.cpp threads spin while it works, so they burn about as much) and
  taken out; the thread count is then moved to what the rule says, down or up.

``[chat] n_threads`` > 0 forces a fixed count: no probing at all.
"""

from __future__ import annotations

import math
import os
import threading
import time
from dataclasses import dataclass

import psutil

__all__ = [
    "CpuSnapshot",
    "LoadProbe",
    "ThreadChoice",
    "ThreadPlanner",
    "TOLERANCE_CORES",
    "threads_for",
    "usable_cores",
]

#: Other work up to this many cores does not take a core away from llama.cpp. Two threads still lead up to ~0.4
#: core of other work, but the loss from one thread too few is at most ~30 % while one too many can collapse:
#: the margin is on the safe side.
TOLERANCE_CORES = 0.25


def usable_cores() -> int:
    """Logical cores this process may run on (its CPU affinity; ``os.cpu_count()`` where that is unknown)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - macOS / Windows
        return max(1, os.cpu_count() or 1)


def threads_for(other_cores: float, cores: int) -> int:
    """The rule: ``cores - ceil(other_cores - TOLERANCE_CORES)``, clamped to ``[1, cores]``.

    Args:
        other_cores: cores kept busy by work other than the chat's llama.cpp threads (>= 0; 1.0 = one core).
        cores: logical cores available (>= 1).

    Raises:
        ValueError: ``cores`` < 1 or ``other_cores`` is negative or not a number.
    """
    if cores < 1:
        raise ValueError(f"cores must be >= 1, got {cores}")
    if not other_cores >= 0:  # also rejects NaN
        raise ValueError(f"other_cores must be a number >= 0, got {other_cores}")
    taken = max(0, math.ceil(other_cores - TOLERANCE_CORES))
    return max(1, min(cores, cores - taken))


@dataclass(frozen=True)
class ThreadChoice:
    """The thread count of one request (or of a mid-reply change) and the load it was chosen on.

    ``threads``: llama.cpp threads (used for both decoding and prompt evaluation); ``other_cores``: cores busy
    with other work over the window (None when ``forced``); ``window_s``: the window's length in seconds
    (0 when forced); ``cores``: logical cores available; ``forced``: ``[chat] n_threads`` fixed the count.
    """

    threads: int
    other_cores: float | None
    window_s: float
    cores: int
    forced: bool = False

    def describe(self) -> str:
        """One line for logs and the bench, e.g. ``"2 threads (other work 0.04 cores over 0.05 s, 2 cores)"``."""
        if self.forced or self.other_cores is None:
            return f"{self.threads} threads (fixed by [chat] n_threads)"
        return (
            f"{self.threads} threads (other work {self.other_cores:.2f} cores over {self.window_s:.2f} s, "
            f"{self.cores} cores)"
        )


@dataclass(frozen=True)
class CpuSnapshot:
    """CPU-time counters at one instant, all in seconds. ``at``: ``time.monotonic()``; ``busy_s``: system-wide
    busy time summed over all CPUs; ``own_s``: this process (user + system); ``thread_s``: the thread that
    took the snapshot (``time.thread_time()``); ``thread_id``: that thread's ``threading.get_ident()``."""

    at: float
    busy_s: float
    own_s: float
    thread_s: float
    thread_id: int


class LoadProbe:
    """Reads the CPU-time counters (``/proc/stat`` and ``/proc/self/stat`` through psutil on Linux; ~0.1 ms)."""

    def __init__(self) -> None:
        self._process = psutil.Process()

    def snapshot(self) -> CpuSnapshot:
        """The counters now (``thread_s`` is the calling thread's)."""
        cpu = psutil.cpu_times()
        busy = cpu.user + cpu.system + getattr(cpu, "nice", 0.0) + getattr(cpu, "irq", 0.0)
        busy += getattr(cpu, "softirq", 0.0) + getattr(cpu, "steal", 0.0)
        own = self._process.cpu_times()
        return CpuSnapshot(time.monotonic(), busy, own.user + own.system, time.thread_time(), threading.get_ident())

    @staticmethod
    def other_cores(before: CpuSnapshot, after: CpuSnapshot, chat_threads: int = 0) -> float:
        """Cores busy with other work between two snapshots (>= 0).

        The chat's own share is left out when both snapshots come from one thread (the generating thread):
        that thread's CPU time x ``chat_threads`` (the llama.cpp thread count while it decoded between the
        snapshots; 0 = llama.cpp was idle and only the thread itself, preparing the request, is left out),
        at most this process's CPU time.
        """
        wall = after.at - before.at
        if wall <= 0:
            return 0.0
        busy = after.busy_s - before.busy_s
        if before.thread_id == after.thread_id:
            own = max(0.0, after.own_s - before.own_s)
            busy -= min(own, max(0.0, after.thread_s - before.thread_s) * max(1, chat_threads))
        return max(0.0, busy / wall)


class ThreadPlanner:
    """Per-request (and mid-reply) thread counts for one chat model; see the module docstring.

    Args:
        forced: ``[chat] n_threads``; > 0 = always that many threads, no probing.
        cores: logical cores to plan for; None = :func:`usable_cores`.
        window_s: shortest load window before a request (seconds); a fresh sample sleeps this long.
        max_age_s: the end of the previous reply is used as the window's start when at most this old.
        recheck_s: during a reply, re-check the load at most this often (seconds).
        probe: the counter reader (one per planner by default).

    Not thread-safe: the chat model calls it under its generation lock.
    """

    def __init__(
        self,
        forced: int = 0,
        cores: int | None = None,
        *,
        window_s: float = 0.05,
        max_age_s: float = 1.0,
        recheck_s: float = 0.5,
        probe: LoadProbe | None = None,
    ) -> None:
        self.forced = int(forced) if forced and forced > 0 else 0
        self.cores = cores if cores is not None else usable_cores()
        self.window_s = window_s
        self.max_age_s = max_age_s
        self.recheck_s = recheck_s
        self.probe = probe or LoadProbe()
        self._idle_since: CpuSnapshot | None = None
        self._last: CpuSnapshot | None = None
        self._threads = 0

    @property
    def threads(self) -> int:
        """The count last chosen (0 before the first request)."""
        return self._threads

    def mark_idle(self) -> None:
        """The chat's llama.cpp threads just went idle (end of a reply): the next window may start here."""
        if not self.forced:
            self._idle_since = self.probe.snapshot()

    def at_start(self) -> ThreadChoice:
        """The thread count for a request about to start (call on the generating thread, llama.cpp idle).
        Blocks up to ``window_s`` seconds when no recent idle mark can start the window."""
        if self.forced:
            self._threads = self.forced
            return ThreadChoice(self.forced, None, 0.0, self.cores, forced=True)
        before = self._idle_since
        now = time.monotonic()
        if before is None or now - before.at > self.max_age_s:
            before = self.probe.snapshot()
            now = before.at
        wait = self.window_s - (now - before.at)
        if wait > 0:
            time.sleep(wait)
        after = self.probe.snapshot()
        self._idle_since = None
        self._last = after
        other = LoadProbe.other_cores(before, after)
        self._threads = threads_for(other, self.cores)
        return ThreadChoice(self._threads, other, after.at - before.at, self.cores)

    def recheck(self) -> ThreadChoice | None:
        """During a reply (on the generating thread, after a token or a prompt chunk): None until
        ``recheck_s`` has passed since the last look, else the rule's choice on the load since then (which
        may equal the current count). Forced counts never change."""
        if self.forced or self._last is None:
            return None
        if time.monotonic() - self._last.at < self.recheck_s:
            return None
        after = self.probe.snapshot()
        other = LoadProbe.other_cores(self._last, after, chat_threads=self._threads)
        window = after.at - self._last.at
        self._last = after
        self._threads = threads_for(other, self.cores)
        return ThreadChoice(self._threads, other, window, self.cores)
