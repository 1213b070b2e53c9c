"""Start and stop the remote machine: ``[remote] start_command`` / ``stop_command`` (see docs/offload.md).

:class:`RemoteLifecycle` (engine only, no Qt), one per chat router:

* :meth:`RemoteLifecycle.begin` before each remote request: when a ``start_command`` is set and the endpoint
  has not answered within :data:`FRESH_S`, a short probe (``probe(PROBE_S)``, e.g. ``GET /models``) checks it;
  if it does not answer, the start command runs (an argument list, never a shell; its output goes to the log;
  at most ``hook_timeout_s``) and the endpoint is polled every :data:`POLL_S` until it answers, at most
  ``start_timeout_s`` from the start. A command that exits non-zero, cannot run, or outlives its time-out, or
  an endpoint that never answers, raises :class:`RemoteStartError` (state ``failed``); the router answers
  locally with its message as the notice.
* :meth:`RemoteLifecycle.used` after a remote answer: the state is ``up`` and the idle clock restarts.
* :meth:`RemoteLifecycle.lost` when the remote failed (connection dropped mid-answer, a preempted spot VM):
  the state is ``down`` and the next :meth:`begin` probes and runs the start command again.
* Idle stop: a timer thread runs ``stop_command`` once after ``idle_stop_minutes`` without remote use (once per
  start: not again until the remote is used again). :meth:`close` ends the thread within one wake-up.

For the cost meter: :attr:`state` (``down``/``starting``/``up``/``stopping``/``failed``), :attr:`started_at` /
:attr:`stopped_at` (epoch seconds), :meth:`history` (:class:`LifecycleEvent` per change) and :meth:`uptime_s`.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from jarvis_desktop.config import RemoteSettings, Settings
from jarvis_desktop.errors import JarvisError

log = logging.getLogger(__name__)

LifecycleState = Literal["down", "starting", "up", "stopping", "failed"]
#: Seconds one probe of the endpoint may take before it counts as not answering.
PROBE_S = 2.0
#: Seconds between probes while waiting for a started machine to answer.
POLL_S = 0.5
#: An endpoint that answered (a probe or a remote reply) this many seconds ago is not probed again.
FRESH_S = 60.0
#: Events kept by :meth:`RemoteLifecycle.history`.
HISTORY_LEN = 500
#: Characters of a hook's output quoted in an error message (all of it goes to the log).
OUTPUT_TAIL = 300

Probe = Callable[[float], object]
"""``probe(timeout_s)``: returns when the endpoint answers; raises (any exception) when it does not."""


class RemoteStartError(JarvisError):
    """The remote machine could not be started: the start command failed or timed out, or the endpoint did not
    answer within ``start_timeout_s`` (the request is answered locally)."""


@dataclass(frozen=True)
class LifecycleEvent:
    """One change of state: ``state`` entered at ``at`` (epoch seconds); ``detail``: why (a command's result,
    the probe's error, "idle 15 min")."""

    state: LifecycleState
    at: float
    detail: str = ""


@dataclass(frozen=True)
class HookResult:
    """A finished hook command: ``returncode`` (None = killed at its time-out), ``seconds`` it ran, ``output``
    (stdout and stderr interleaved, decoded)."""

    returncode: int | None
    seconds: float
    output: str


def run_hook(command: Sequence[str], timeout_s: float, what: str) -> HookResult:
    """Run ``command`` (an argument list, no shell), stdout/stderr to the log (logger of this module), at most
    ``timeout_s`` seconds (then its process group is killed and ``returncode`` is None).

    Output goes to a temporary file, not a pipe, so a command that leaves a background process behind (a server
    it started) returns as soon as the command itself exits.

    Raises:
        RemoteStartError: the command cannot be run (not found, not executable).
    """
    t0 = time.monotonic()
    with tempfile.TemporaryFile() as out:
        try:
            proc = subprocess.Popen(
                list(command),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a time-out kills the command and its children, not this process
            )
        except OSError as exc:
            raise RemoteStartError(f"the remote {what} command {command[0]!r} could not run: {exc}") from exc
        code: int | None
        try:
            code = proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            code = None
        out.seek(0)
        text = out.read().decode("utf-8", "replace")
    seconds = time.monotonic() - t0
    for line in text.splitlines():
        log.info("remote %s: %s", what, line)
    log.info("remote %s command %r exited with %s after %.1f s", what, command[0], code, seconds)
    return HookResult(code, seconds, text)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """Kill a timed-out hook and the processes it started (its own session), then reap it."""
    try:
        if hasattr(os, "killpg"):
            os.killpg(proc.pid, signal.SIGKILL)
        else:  # Windows: the command only
            proc.kill()
    except OSError:
        pass
    proc.wait()


class RemoteLifecycle:
    """Start, idle-stop and state of the remote machine behind ``[remote] base_url`` (module docstring).

    Args:
        settings: the app's settings; ``settings.remote`` is read at each use, so new settings apply at once.
        probe: ``probe(timeout_s)`` returns when the endpoint answers and raises when not (the router passes
            ``RemoteChatModel.models``).
        clock: epoch seconds for the recorded times (``time.time``).

    Thread-safe: requests call :meth:`begin`/:meth:`used`/:meth:`lost`; the idle timer thread runs the stop
    command; one hook runs at a time.
    """

    def __init__(self, settings: Settings, probe: Probe, *, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.probe = probe
        self._clock = clock
        self._cond = threading.Condition()
        self._hook_lock = threading.Lock()  # one start or stop command at a time
        self._state: LifecycleState = "down"
        self._events: list[LifecycleEvent] = []
        self._started_at: float | None = None
        self._stopped_at: float | None = None
        self._last_ok = 0.0  # monotonic time the endpoint last answered
        self._last_use: float | None = None  # monotonic time of the last remote use (None: nothing to stop)
        self._closed = False
        self._thread: threading.Thread | None = None
        self.last_hook: HookResult | None = None  # the last start or stop command's result

    # ---- what the cost meter reads -----------------------------------------------------------------
    @property
    def remote(self) -> RemoteSettings:
        """The current ``[remote]`` settings."""
        return self.settings.remote

    @property
    def state(self) -> LifecycleState:
        """``down`` (not known to answer), ``starting`` (start command / waiting), ``up`` (answering),
        ``stopping`` (stop command running), ``failed`` (the last start failed)."""
        return self._state

    @property
    def started_at(self) -> float | None:
        """Epoch seconds the remote was last seen coming up (after a start command, or found answering); None
        if never."""
        return self._started_at

    @property
    def stopped_at(self) -> float | None:
        """Epoch seconds the remote last went down (stop command run, or lost); None if never."""
        return self._stopped_at

    def history(self) -> list[LifecycleEvent]:
        """Every state change, oldest first (a copy; the last :data:`HISTORY_LEN`)."""
        with self._cond:
            return list(self._events)

    def uptime_s(self, since: float = 0.0, until: float | None = None) -> float:
        """Seconds the remote was ``up`` or ``stopping`` between epoch ``since`` and ``until`` (None = now),
        from :meth:`history`: the figure a per-hour price applies to."""
        end = self._clock() if until is None else until
        total, up_from = 0.0, None
        for ev in self.history():
            if ev.state in ("up", "stopping"):
                if up_from is None:
                    up_from = ev.at
            elif up_from is not None:
                total += max(0.0, min(ev.at, end) - max(up_from, since))
                up_from = None
        if up_from is not None:
            total += max(0.0, end - max(up_from, since))
        return total

    def _set(self, state: LifecycleState, detail: str = "") -> None:
        """Record a change of state (call with ``_cond`` held)."""
        now = self._clock()
        if state == "up" and self._state != "up":
            self._started_at = now
        if state == "down" and self._state in ("up", "stopping"):
            self._stopped_at = now
        self._state = state
        self._events.append(LifecycleEvent(state, now, detail))
        del self._events[:-HISTORY_LEN]
        self._cond.notify_all()
        log.info("remote machine %s%s", state, f": {detail}" if detail else "")

    # ---- the request path --------------------------------------------------------------------------
    def begin(self, cancel: threading.Event | None = None) -> None:
        """Make sure the endpoint answers before a remote request (module docstring); marks a use (the idle
        clock restarts). Without a ``start_command`` nothing is probed: the request itself finds out.

        Raises:
            RemoteStartError: the start command failed, timed out or could not run, or the endpoint did not
                answer within ``start_timeout_s``; ``cancel`` set while waiting (the user pressed Stop).
        """
        self._touch()
        command = list(self.remote.start_command)
        if not command:
            return
        if self._state == "up" and time.monotonic() - self._last_ok < FRESH_S:
            return
        with self._hook_lock:  # a stop command in progress finishes first
            if self._try_probe():
                with self._cond:
                    if self._state != "up":
                        self._set("up", "endpoint answers")
                return
            self._start(command, cancel)
            self._touch()  # before the lock is released: an idle stop waiting for it sees the use and skips

    def used(self) -> None:
        """A remote request was answered: the state is ``up`` and the idle clock restarts."""
        self._last_ok = time.monotonic()
        with self._cond:
            if self._state != "up":
                self._set("up", "answered a request")
        self._touch()

    def lost(self, reason: str) -> None:
        """The remote failed during a request (connection dropped, preempted): the state is ``down``, so the next
        :meth:`begin` probes it and runs the start command again. The idle stop stays armed (a machine still
        running after a misleading error is still stopped when idle; stopping a stopped VM is harmless); the idle
        clock restarts."""
        self._last_ok = 0.0
        with self._cond:
            if self._state == "up":
                self._set("down", f"lost: {reason}")
        self._touch()

    def _touch(self) -> None:
        """Restart the idle clock; start the timer thread when there is a stop command."""
        with self._cond:
            self._last_use = time.monotonic()
            self._cond.notify_all()
            if self.remote.stop_command and self._thread is None and not self._closed:
                self._thread = threading.Thread(target=self._idle_loop, name="jarvis-remote-idle", daemon=True)
                self._thread.start()

    def _try_probe(self, timeout_s: float = PROBE_S) -> bool:
        try:
            self.probe(timeout_s)
        except Exception as exc:  # any failure means "does not answer"
            log.debug("remote probe: %s", exc)
            return False
        self._last_ok = time.monotonic()
        return True

    def _start(self, command: list[str], cancel: threading.Event | None) -> None:
        """Run the start command and wait for the endpoint (called with ``_hook_lock`` held)."""
        remote = self.remote
        t0 = time.monotonic()
        with self._cond:
            self._set("starting", f"running {command[0]}")
        try:
            result = self.last_hook = run_hook(command, min(remote.hook_timeout_s, remote.start_timeout_s), "start")
            if result.returncode is None:
                raise RemoteStartError(
                    f"the remote start command {command[0]!r} did not finish within {result.seconds:.0f} s"
                )
            if result.returncode != 0:
                tail = result.output.strip()[-OUTPUT_TAIL:]
                raise RemoteStartError(
                    f"the remote start command {command[0]!r} failed (exit {result.returncode})"
                    + (f": {tail}" if tail else "")
                )
            deadline = t0 + remote.start_timeout_s
            while not self._try_probe(min(PROBE_S, max(0.1, deadline - time.monotonic()))):
                if cancel is not None and cancel.is_set():
                    raise RemoteStartError("stopped while waiting for the remote machine to start")
                if time.monotonic() >= deadline:
                    raise RemoteStartError(
                        f"the remote endpoint {remote.shown_url} did not answer within {remote.start_timeout_s:g} s"
                        f" of its start command"
                    )
                if cancel is not None:
                    cancel.wait(POLL_S)
                else:
                    time.sleep(POLL_S)
        except RemoteStartError as exc:
            with self._cond:
                self._set("failed", str(exc))
            raise
        with self._cond:
            self._set("up", f"started in {time.monotonic() - t0:.1f} s")

    # ---- idle stop -----------------------------------------------------------------------------------
    def _idle_loop(self) -> None:
        """The timer thread: waits for ``idle_stop_minutes`` past the last use, then runs the stop command once."""
        while True:
            with self._cond:
                while not self._closed:
                    last, idle_s = self._last_use, self.remote.idle_stop_minutes * 60.0
                    if last is None or not self.remote.stop_command or idle_s <= 0:
                        self._cond.wait()
                        continue
                    remaining = last + idle_s - time.monotonic()
                    if remaining <= 0:
                        break
                    self._cond.wait(remaining)
                if self._closed:
                    return
                self._last_use = None  # once: armed again by the next use
            self._stop(f"idle {self.remote.idle_stop_minutes:g} min", only_if_idle=True)

    def stop_now(self, reason: str = "asked") -> HookResult | None:
        """Run the stop command now (the idle timer's action); returns its result (None without a command)."""
        command = list(self.remote.stop_command)
        if not command:
            return None
        return self._stop(reason)

    def _stop(self, reason: str, *, only_if_idle: bool = False) -> HookResult | None:
        command = list(self.remote.stop_command)
        if not command:
            return None
        with self._hook_lock:
            if only_if_idle and self._last_use is not None:  # used while this waited for a start to finish
                return None
            with self._cond:
                self._set("stopping", reason)
            try:
                result = self.last_hook = run_hook(command, self.remote.hook_timeout_s, "stop")
            except RemoteStartError as exc:  # the command cannot run: said in the log, nothing else to do
                log.warning("%s", exc)
                with self._cond:
                    self._set("up", f"stop command could not run: {exc}")
                return None
            self._last_ok = 0.0
            with self._cond:
                if result.returncode == 0:
                    self._set("down", f"stopped ({reason})")
                else:  # the machine is presumably still up (and billed): try again after another idle period
                    what = "timed out" if result.returncode is None else f"exit {result.returncode}"
                    log.warning("the remote stop command %r failed (%s)", command[0], what)
                    self._set("up", f"stop command failed ({what})")
                    self._last_use = time.monotonic()
            return result

    def close(self, timeout_s: float = 2.0) -> None:
        """End the idle timer thread (within one wake-up; a stop command already running is waited for at most
        ``timeout_s``). The stop command is not run: the machine's own idle shutdown, or the
        ``remote_activity.json`` script, covers an app closed while it is up. Idempotent."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout_s)
