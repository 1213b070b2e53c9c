"""The job runner: a queue of training jobs run as separate processes, one at a time by default.

:class:`JobRunner` (no Qt) records every job in the app's database (:class:`~.store.JobStore`), starts queued
jobs on its :class:`~.backends.Backend`, and polls the running ones from a monitor thread every ``poll_s``
seconds: new JSON lines become stored events (and the job's ``progress`` snapshot), the process' exit code
becomes the final status. Listeners (``on_event``) get ``(job_id, event_dict)`` on the monitor thread; the GUI
re-emits them as Qt signals.

Final statuses: exit 0 with a ``done`` line -> succeeded; cancel requested -> cancelled; the runner closing
(app quit) or a job that stopped because its parent died -> interrupted; anything else (killed, out of memory,
bad data) -> failed, with the error line and the last lines of the log in ``error``.

Restart: a new runner on the same database marks ``running`` jobs whose process is gone, and ``queued`` jobs
whose owner is gone, as interrupted. A job with a checkpoint can then be resumed (same id, same work dir).
"""

from __future__ import annotations

import os
import signal
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from jarvis_desktop.config import data_dir
from jarvis_desktop.errors import BadInputError
from jarvis_desktop.jobs.adapters import AdapterRegistry
from jarvis_desktop.jobs.backends import (
    Backend,
    JobHandle,
    JsonLinesReader,
    LaunchRequest,
    LocalProcessBackend,
    tail_text,
)
from jarvis_desktop.jobs.datasets import builtin_train_path, validate_dataset
from jarvis_desktop.jobs.events import (
    DoneEvent,
    ErrorEvent,
    InterruptedEvent,
    JobEvent,
    ProgressEvent,
    StartEvent,
    StatusEvent,
    StoppedEvent,
    TextEvent,
)
from jarvis_desktop.jobs.spec import JobSpec
from jarvis_desktop.jobs.store import RESUMABLE, JobRecord, JobStore
from jarvis_desktop.jobs.train_process import latest_checkpoint
from jarvis_desktop.store.db import Database

#: Called with ``(job_id, event)`` for each event of a job (:mod:`.events`), on the runner's monitor thread.
EventListener = Callable[[int, JobEvent], None]
#: Log lines kept in a failed job's ``error``.
TAIL_LINES = 12


@dataclass
class _Running:
    handle: JobHandle
    stopping_since: float | None = None  # when SIGTERM was sent
    closing: bool = False  # stopped because the runner is closing (-> interrupted)
    saw_done: bool = False
    last_error: str = ""
    stopped_event: str = ""  # "cancelled" / "interrupted" line from the job


def jobs_root() -> Path:
    """``<data dir>/jobs``: one work directory per job (checkpoints, ``progress.jsonl``, ``job.log``)."""
    return data_dir() / "jobs"


class JobRunner:
    """Queue and run training jobs.

    Args:
        db: the app's database (migration 3 applied).
        backend: where jobs run (default :class:`~.backends.LocalProcessBackend`).
        max_concurrent: jobs run at the same time (1 by default: training uses every core).
        cancel_timeout_s: seconds between SIGTERM and SIGKILL when cancelling.
        poll_s: seconds between progress reads.
        jobs_dir: parent of the jobs' work directories (default :func:`jobs_root`).
        adapters_dir: where adapters are written (default ``<data dir>/adapters``).
        recover: mark jobs left running/queued by a dead process as interrupted now.
    """

    def __init__(
        self,
        db: Database,
        backend: Backend | None = None,
        *,
        max_concurrent: int = 1,
        cancel_timeout_s: float = 10.0,
        poll_s: float = 0.25,
        jobs_dir: Path | None = None,
        adapters_dir: Path | None = None,
        recover: bool = True,
    ) -> None:
        self.store = JobStore(db)
        self.backend = backend or LocalProcessBackend()
        self.max_concurrent = max(1, max_concurrent)
        self.cancel_timeout_s = cancel_timeout_s
        self.poll_s = poll_s
        self.jobs_dir = Path(jobs_dir) if jobs_dir else jobs_root()
        self._adapters_dir = Path(adapters_dir) if adapters_dir else None
        self._running: dict[int, _Running] = {}
        self._listeners: list[EventListener] = []
        self._lock = threading.RLock()
        self._wake = threading.Event()
        self._closed = False
        self._thread: threading.Thread | None = None
        if recover:
            self.recover()

    # ---- listeners ----------------------------------------------------------------------------------
    def add_listener(self, listener: EventListener) -> None:
        """Call ``listener(job_id, event)`` for each job event (on the monitor thread). Besides the job's own
        events (:mod:`.events`: start, progress, checkpoint, validation, done ...) the runner sends a
        :class:`~.events.StatusEvent` (the new :class:`~.store.JobRecord`) on every status change."""
        self._listeners.append(listener)

    def _notify(self, job_id: int, event: JobEvent) -> None:
        for listener in list(self._listeners):
            try:
                listener(job_id, event)
            except Exception:  # a listener never stops the runner
                traceback.print_exc()

    def _status(self, job_id: int, **values: Any) -> JobRecord:
        record = self.store.update(job_id, **values)
        self._notify(job_id, StatusEvent(record))
        return record

    # ---- queue --------------------------------------------------------------------------------------
    def submit(self, spec: JobSpec) -> JobRecord:
        """Validate ``spec`` and its data (every line), queue the job and start it when a slot is free.

        Raises:
            BadInputError: bad parameters, or a bad data file (the message names the line).
        """
        spec.check()
        data = Path(spec.data).expanduser().resolve() if spec.data else builtin_train_path()
        info = validate_dataset(data)
        if spec.valid:
            validate_dataset(spec.valid)
        record = self.store.create(
            spec.name or "", spec.to_dict(), data_path=str(data), data_sha256=info.sha256, backend=self.backend.name
        )
        registry = AdapterRegistry(self._adapters_dir)
        name = registry.unique_name(spec.name or f"job-{record.id}")
        work = self.jobs_dir / str(record.id)
        params = dict(spec.to_dict(), data=str(data), rows=info.rows, steps=spec.steps_for(info.rows))
        self.store.update(
            record.id,
            name=name,
            params=params,
            work_dir=str(work),
            log_path=str(work / "job.log"),
            output_path=str(registry.root / name),
            owner_pid=os.getpid(),
        )
        self._notify(record.id, StatusEvent(self.store.get(record.id)))
        self._pump()
        return self.store.get(record.id)

    def resume(self, job_id: int) -> JobRecord:
        """Queue a cancelled, failed or interrupted job again; it continues from its last checkpoint.

        Raises:
            BadInputError: unknown id, a job that is not over or already succeeded, or one without checkpoint.
        """
        record = self.store.get(job_id)
        if record.status not in RESUMABLE:
            raise BadInputError(f"job {job_id} is {record.status}; only {', '.join(RESUMABLE)} jobs can be resumed")
        if latest_checkpoint(Path(record.work_dir) / "checkpoints") is None:
            raise BadInputError(f"job {job_id} left no checkpoint to resume from", hint="start a new job instead")
        self._status(
            job_id,
            status="queued",
            cancel_requested=False,
            error="",
            exit_code=None,
            owner_pid=os.getpid(),
            finished_at=None,
        )
        self._pump()
        return self.store.get(job_id)

    def cancel(self, job_id: int) -> JobRecord:
        """Cancel a queued job at once, or stop a running one: SIGTERM (it saves a checkpoint), SIGKILL after
        ``cancel_timeout_s``. Works on a job another process runs (the CLI while the app trains): the
        request is stored and the process signalled. Returns the job (``cancelled`` unless still stopping).

        Raises:
            BadInputError: unknown id.
        """
        with self._lock:
            record = self.store.get(job_id)
            if record.final:
                return record
            if record.status == "queued":
                return self._status(job_id, status="cancelled", finished_at="now")
            self.store.update(job_id, cancel_requested=True)
            running = self._running.get(job_id)
            if running is not None:
                if running.stopping_since is None:
                    running.stopping_since = time.monotonic()
                    running.handle.terminate()
                self._wake.set()
                return self.store.get(job_id)
        return self._cancel_foreign(record)

    def _cancel_foreign(self, record: JobRecord) -> JobRecord:
        """Cancel a job whose process this runner did not start (its owner finalises it, or we do)."""
        backend = self.backend
        if backend.signal(record.pid, record.pid_started, signal.SIGTERM):
            deadline = time.monotonic() + self.cancel_timeout_s
            while time.monotonic() < deadline and backend.alive(record.pid, record.pid_started):
                time.sleep(0.1)
            backend.signal(record.pid, record.pid_started, signal.SIGKILL)
            deadline = time.monotonic() + 2.0  # give a living owner the chance to record it
            while time.monotonic() < deadline and not self.store.get(record.id).final:
                time.sleep(0.1)
        record = self.store.get(record.id)
        if not record.final:
            record = self._status(record.id, status="cancelled", finished_at="now")
        return record

    def get(self, job_id: int) -> JobRecord:
        """The job (BadInputError when unknown)."""
        return self.store.get(job_id)

    def list_jobs(self, limit: int = 200) -> list[JobRecord]:
        """Jobs, newest first."""
        return self.store.list_jobs(limit=limit)

    def wait(self, job_id: int, timeout: float | None = None) -> JobRecord:
        """Block until the job is over (or ``timeout`` seconds passed); returns its record."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            record = self.store.get(job_id)
            if record.final or (deadline is not None and time.monotonic() >= deadline):
                return record
            time.sleep(0.1)

    # ---- restart ------------------------------------------------------------------------------------
    def recover(self) -> list[JobRecord]:
        """Mark jobs left behind by a dead app as interrupted: ``running`` ones whose process is gone,
        ``queued`` ones whose owner process is gone. Returns them."""
        changed = []
        for record in self.store.list_jobs(("running", "queued")):
            if record.id in self._running:
                continue
            if record.status == "running":
                owner_gone = not record.owner_pid or not _pid_alive(record.owner_pid)
                if owner_gone and self.backend.alive(record.pid, record.pid_started):
                    self._stop_orphan(record)  # its app died: stop it with a checkpoint
                gone = not self.backend.alive(record.pid, record.pid_started)
            else:
                gone = not record.owner_pid or not _pid_alive(record.owner_pid)
            done = _finished_line(record) if gone and record.status == "running" else None
            if done is not None:  # it finished after its app died: the adapter is installed
                changed.append(
                    self._status(record.id, status="succeeded", exit_code=0, finished_at="now", result=_result_of(done))
                )
            elif gone:
                why = (
                    "Jarvis was closed while the job ran"
                    if record.status == "running"
                    else "Jarvis was closed before the job started"
                )
                changed.append(
                    self._status(
                        record.id, status="interrupted", finished_at="now", error=why + self._resume_hint(record)
                    )
                )
        return changed

    def _stop_orphan(self, record: JobRecord) -> None:
        """SIGTERM a job whose owner is dead (it checkpoints), SIGKILL after ``cancel_timeout_s``."""
        self.backend.signal(record.pid, record.pid_started, signal.SIGTERM)
        deadline = time.monotonic() + self.cancel_timeout_s
        while time.monotonic() < deadline and self.backend.alive(record.pid, record.pid_started):
            time.sleep(0.1)
        self.backend.signal(record.pid, record.pid_started, signal.SIGKILL)

    @staticmethod
    def _resume_hint(record: JobRecord) -> str:
        if latest_checkpoint(Path(record.work_dir) / "checkpoints") is not None:
            return f"; resume it with: jarvis-desktop jobs resume {record.id}"
        return ""

    # ---- the monitor --------------------------------------------------------------------------------
    def _pump(self) -> None:
        """Start queued jobs while slots are free; make sure the monitor thread runs."""
        with self._lock:
            if self._closed:
                return
            while len(self._running) < self.max_concurrent:
                queued = [r for r in self.store.list_jobs(("queued",)) if r.owner_pid == os.getpid()]
                if not queued:
                    break
                self._start(min(queued, key=lambda r: r.id))
            if self._running and (self._thread is None or not self._thread.is_alive()):
                self._thread = threading.Thread(target=self._monitor, name="jarvis-jobs", daemon=True)
                self._thread.start()

    def _job_args(self, record: JobRecord) -> list[str]:
        """The ``train-adapter`` arguments of the job's next attempt: ``--resume`` of its work directory once
        it ran, else its spec (:meth:`~.spec.JobSpec.train_args`) with its data file and, on the first attempt,
        the active adapter as baseline."""
        work = Path(record.work_dir)
        if record.attempts > 0 and (work / "job.json").is_file():
            return ["--resume", str(work), "--output", record.output_path]
        spec = JobSpec.from_dict(record.params)
        spec.data = spec.data or record.data_path
        if not spec.baseline and record.attempts == 0:
            active = AdapterRegistry(self._adapters_dir).active_path()
            spec.baseline = str(active) if (active / "adapter_config.json").is_file() else "none"
        steps = int(record.params.get("steps") or spec.max_steps or 1)
        return [*spec.train_args(record.output_path, steps), "--work-dir", str(work)]

    def _start(self, record: JobRecord) -> None:
        work = Path(record.work_dir)
        args = self._job_args(record)
        request = LaunchRequest(
            job_id=record.id,
            args=args,
            work_dir=work,
            progress_path=work / "progress.jsonl",
            log_path=work / "job.log",
            env={"JARVIS_JOB_ID": str(record.id)},
        )
        try:
            handle = self.backend.launch(request)
        except Exception as exc:  # a job that cannot start fails; the app goes on
            self._status(record.id, status="failed", finished_at="now", error=str(exc))
            return
        self._running[record.id] = _Running(handle)
        self._status(
            record.id,
            status="running",
            pid=handle.pid,
            pid_started=handle.started,
            attempts=record.attempts + 1,
            started_at="now",
            owner_pid=os.getpid(),
        )

    def _monitor(self) -> None:
        while True:
            with self._lock:
                if not self._running:
                    return
                items = list(self._running.items())
            for job_id, running in items:
                try:
                    self._poll(job_id, running)
                except Exception:  # keep monitoring the other jobs
                    traceback.print_exc()
            self._pump()
            self._wake.wait(self.poll_s)
            self._wake.clear()

    def _poll(self, job_id: int, running: _Running) -> None:
        handle = running.handle
        code = handle.poll()
        self._take_events(job_id, running, handle.read_events())
        if code is None:
            if running.stopping_since is None and self.store.get(job_id).cancel_requested:
                running.stopping_since = time.monotonic()  # cancelled by another process (the CLI)
                handle.terminate()
            if running.stopping_since is not None and time.monotonic() - running.stopping_since > self.cancel_timeout_s:
                handle.kill()
            return
        self._take_events(job_id, running, handle.read_events())
        self._finish(job_id, running, code)

    def _take_events(self, job_id: int, running: _Running, events: list[JobEvent]) -> None:
        if not events:
            return
        self.store.add_events(job_id, [e.to_dict() for e in events if not isinstance(e, TextEvent)])
        updates: dict[str, Any] = {}
        for ev in events:
            if isinstance(ev, ProgressEvent):
                updates["progress"] = {k: v for k, v in ev.to_dict().items() if k != "event"}
            elif isinstance(ev, StartEvent):
                updates["data_sha256"] = ev.data_sha256
            elif isinstance(ev, DoneEvent):
                running.saw_done = True
                updates["result"] = _result_of(ev)
            elif isinstance(ev, ErrorEvent):
                running.last_error = ev.message
            elif isinstance(ev, StoppedEvent):
                running.stopped_event = ev.kind
        if updates:
            self.store.update(job_id, **updates)
        for ev in events:
            self._notify(job_id, ev)

    def _finish(self, job_id: int, running: _Running, code: int) -> None:
        with self._lock:
            if self._running.get(job_id) is not running:
                return  # already finished by the other thread (monitor vs close)
            del self._running[job_id]
        record = self.store.get(job_id)
        if code == 0 and running.saw_done:
            self._status(job_id, status="succeeded", exit_code=0, finished_at="now", pid=None)
            return
        if record.cancel_requested:
            self._status(
                job_id,
                status="cancelled",
                exit_code=code,
                finished_at="now",
                pid=None,
                error="cancelled by the user" + self._resume_hint(record),
            )
            return
        if running.closing or running.stopped_event == InterruptedEvent.kind:
            self._status(
                job_id,
                status="interrupted",
                exit_code=code,
                finished_at="now",
                pid=None,
                error="Jarvis was closed while the job ran" + self._resume_hint(record),
            )
            return
        self._status(
            job_id,
            status="failed",
            exit_code=code,
            finished_at="now",
            pid=None,
            error=self._failure_text(code, running),
        )

    @staticmethod
    def _failure_text(code: int, running: _Running) -> str:
        if running.last_error:
            why = running.last_error
        elif code < 0:
            name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else str(-code)
            why = f"the training process was killed ({name})"
            if -code == signal.SIGKILL:
                why += "; out of memory, or stopped from outside"
        else:
            why = f"the training process exited with code {code}"
        tail = running.handle.log_tail(TAIL_LINES)
        return why + (f"\n--- last lines of the log ---\n{tail}" if tail else "")

    # ---- shutdown -----------------------------------------------------------------------------------
    def close(self, timeout_s: float | None = None) -> None:
        """Stop running jobs (SIGTERM: they checkpoint; SIGKILL after the timeout) and mark them
        interrupted, so they can be resumed at the next start. Safe to call twice."""
        timeout_s = self.cancel_timeout_s if timeout_s is None else timeout_s
        with self._lock:
            self._closed = True
            items = list(self._running.items())
            for _job_id, running in items:
                running.closing = True
                running.handle.terminate()
        deadline = time.monotonic() + timeout_s
        for job_id, running in items:
            while running.handle.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)
            if running.handle.poll() is None:
                running.handle.kill()
                while running.handle.poll() is None:
                    time.sleep(0.05)
            self._take_events(job_id, running, running.handle.read_events())
            code = running.handle.poll()
            self._finish(job_id, running, -9 if code is None else code)
        for record in self.store.list_jobs(("queued",)):
            if record.owner_pid == os.getpid():
                self._status(
                    record.id, status="interrupted", finished_at="now", error="Jarvis was closed before the job started"
                )
        if self._thread is not None:
            self._wake.set()
            self._thread.join(timeout=2.0)


def _result_of(done: DoneEvent) -> dict[str, Any]:
    """The job row's ``result`` from its ``done`` event."""
    data = done.to_dict()
    return {key: data.get(key) for key in ("validation", "files", "output", "steps", "wall_seconds")}


def _finished_line(record: JobRecord) -> DoneEvent | None:
    """The ``done`` event of the job's last attempt in its progress file, or None."""
    path = Path(record.work_dir) / "progress.jsonl"
    if not record.work_dir or not path.is_file():
        return None
    done = None
    for ev in JsonLinesReader(path, offset=0).read():
        if isinstance(ev, StartEvent):
            done = None
        elif isinstance(ev, DoneEvent):
            done = ev
    return done


def _pid_alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def log_tail(record: JobRecord, lines: int = 20) -> str:
    """The last ``lines`` lines of a job's log."""
    return tail_text(Path(record.log_path), lines) if record.log_path else ""
