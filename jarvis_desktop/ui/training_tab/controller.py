"""Qt side of the job runner: every runner call runs on one background thread, results come back as signals.

:class:`JobsController` owns a :class:`~jarvis_desktop.jobs.runner.JobRunner` (its own database connection),
created on the background thread at first use (recovering interrupted jobs may wait for an orphan to stop).
The runner's monitor thread reports job events (:mod:`jarvis_desktop.jobs.events`); they are re-emitted as
``job_event(int, JobEvent)``, which Qt
queues to the GUI thread. Nothing here blocks the GUI thread except :meth:`close` at quit (bounded).
"""

from __future__ import annotations

import subprocess
import sys
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from jarvis_desktop.config import Settings, database_path, load_settings
from jarvis_desktop.errors import JarvisError
from jarvis_desktop.jobs.adapters import AdapterRegistry
from jarvis_desktop.jobs.backends import make_backend
from jarvis_desktop.jobs.datasets import validate_dataset
from jarvis_desktop.jobs.events import DeviceEvent, ErrorEvent, JobEvent, StatusEvent, from_json
from jarvis_desktop.jobs.runner import JobRunner
from jarvis_desktop.jobs.spec import JobSpec
from jarvis_desktop.store.db import Database
from jarvis_desktop.ui.workers import describe_error


class JobsController(QObject):
    """Signals (all delivered on the GUI thread):

    ``jobs_changed(list)`` JobRecords newest first; ``adapters_changed(list)`` AdapterInfos;
    ``job_event(int, object)`` each :class:`~jarvis_desktop.jobs.events.JobEvent` of a job (progress,
    checkpoint, validation, done, StatusEvent ...); ``dataset_checked(str, object, str)`` path, DatasetInfo or
    None, error text; ``device_found(object)`` the job process' ``DeviceEvent``, or an ``ErrorEvent``;
    ``submitted(object)`` the queued JobRecord; ``failed(str)`` an action that could not be done.

    Args:
        runner_factory: builds the runner (on the background thread); default: the app's database and
            ``[training]`` settings.
    """

    jobs_changed = Signal(list)
    adapters_changed = Signal(list)
    job_event = Signal(int, object)
    dataset_checked = Signal(str, object, str)
    device_found = Signal(object)
    submitted = Signal(object)
    failed = Signal(str)

    def __init__(self, runner_factory: Callable[[], JobRunner] | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._factory = runner_factory or default_runner
        self._runner: JobRunner | None = None
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="jarvis-jobs-ui")
        self._closed = False
        self.settings: Settings | None = None

    # ---- plumbing -------------------------------------------------------------------------------------
    def _run(self, fn: Callable[[], Any], on_ok: Callable[[Any], None] | None = None) -> None:
        if self._closed:
            return

        def task() -> None:
            try:
                value = fn()
            except Exception as exc:  # reported to the user, never raised into Qt
                if not isinstance(exc, JarvisError):
                    traceback.print_exc()
                self.failed.emit(describe_error(exc))
                return
            if on_ok is not None:
                on_ok(value)

        self._pool.submit(task)

    def runner(self) -> JobRunner:
        """The runner (background thread only)."""
        if self._runner is None:
            self._runner = self._factory()
            self._runner.add_listener(self._on_runner_event)
            self.settings = load_settings()
        return self._runner

    def _on_runner_event(self, job_id: int, event: JobEvent) -> None:  # monitor thread
        self.job_event.emit(job_id, event)
        if isinstance(event, StatusEvent):
            self.refresh()

    # ---- actions (return at once) -----------------------------------------------------------------------
    def refresh(self) -> None:
        """Re-read jobs and adapters."""

        def read() -> None:
            jobs = self.runner().list_jobs()
            self.jobs_changed.emit(jobs)
            self.adapters_changed.emit(AdapterRegistry().list_adapters())

        self._run(read)

    def start(self, spec: JobSpec) -> None:
        """Queue a job for ``spec`` (a :class:`~jarvis_desktop.jobs.spec.JobSpec`)."""
        self._run(lambda: self.runner().submit(spec), self.submitted.emit)

    def cancel(self, job_id: int) -> None:
        self._run(lambda: self.runner().cancel(job_id))

    def resume(self, job_id: int) -> None:
        self._run(lambda: self.runner().resume(job_id), self.submitted.emit)

    def check_dataset(self, path: str) -> None:
        """Validate a JSONL file line by line; answer with ``dataset_checked``."""

        def check() -> None:
            try:
                self.dataset_checked.emit(path, validate_dataset(path), "")
            except JarvisError as exc:
                self.dataset_checked.emit(path, None, exc.user_message())

        self._run(check)

    def probe_device(self) -> None:
        """Ask a job process which device it would train on (torch is never imported here)."""

        def probe() -> None:
            proc = subprocess.run(
                [sys.executable, "-m", "jarvis_desktop", "train-adapter", "--probe-device", "--json-progress"],
                capture_output=True,
                text=True,
                timeout=120,
            )
            for line in proc.stdout.splitlines():
                event = from_json(line)
                if isinstance(event, (DeviceEvent, ErrorEvent)):
                    self.device_found.emit(event)
                    return
            self.device_found.emit(ErrorEvent((proc.stderr.strip().splitlines() or ["no answer"])[-1]))

        self._run(probe)

    def close(self, timeout_s: float = 5.0) -> None:
        """Stop running jobs (they checkpoint and show as interrupted; resumable), then the thread."""
        if self._closed:
            return
        self._closed = True
        self._pool.shutdown(wait=False, cancel_futures=True)  # a device probe may still run: do not wait
        if self._runner is not None:
            self._runner.close(timeout_s=timeout_s)
            self._runner.store.db.close()


def default_runner() -> JobRunner:
    """A runner on the app's database with the ``[training]`` settings."""
    training = load_settings().training
    return JobRunner(
        Database(database_path()),
        make_backend(training.backend, nice=training.nice),
        max_concurrent=training.max_concurrent,
        cancel_timeout_s=training.cancel_timeout_s,
    )


def adapter_path_label(path: Path) -> str:
    """A short label for an adapter path (home shown as ~)."""
    try:
        return "~/" + str(Path(path).relative_to(Path.home()))
    except ValueError:
        return str(path)
