"""Where a training job runs. The runner talks to a :class:`Backend`; each started job is a :class:`JobHandle`.

:class:`LocalProcessBackend` (the one built) starts ``python -m jarvis_desktop train-adapter ... --json-progress``
as an OS process in its own session, at lower CPU priority, with stdout (the JSON lines) appended to
``progress.jsonl`` and stderr (the human log) appended to ``job.log`` in the job's work directory. Files
rather than pipes: progress and log survive an app restart, and a job never blocks on a full pipe.

A remote backend (a Ray Jobs cluster, a GPU host over SSH) implements the same two classes: ``launch`` submits
the same command there, ``read_events`` returns the new JSON lines (Ray: ``get_job_logs``; SSH: the remote
``progress.jsonl`` tailed over the connection), ``terminate``/``kill`` map to ``stop_job`` / ``kill -TERM``.
See docs/training.md.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from jarvis_desktop.errors import BadInputError, JarvisError
from jarvis_desktop.jobs.events import JobEvent, from_json

#: Environment variable telling the job process which process to watch: when it dies the job checkpoints
#: and exits (interrupted), so a crashed app never leaves an orphan training run.
PARENT_ENV = "JARVIS_JOB_PARENT_PID"
#: Environment variable with the ``nice`` increment the job process applies to itself (keeps the GUI snappy).
NICE_ENV = "JARVIS_JOB_NICE"


@dataclass
class LaunchRequest:
    """What a backend needs to start one job attempt: the ``train-adapter`` arguments (without the program),
    the job's ``work_dir``, where its JSON lines and log go, and extra environment variables."""

    job_id: int
    args: list[str]
    work_dir: Path
    progress_path: Path
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)


class JobHandle(ABC):
    """A started job attempt. ``pid`` / ``started`` identify a local process (None for remote ones)."""

    pid: int | None = None
    started: float | None = None

    @abstractmethod
    def poll(self) -> int | None:
        """The exit code once the job ended, else None (never blocks)."""

    @abstractmethod
    def read_events(self) -> list[JobEvent]:
        """The events the job wrote since the last call (:func:`~.events.from_json`: a line that is not JSON is
        a ``TextEvent``, a bad JSON line a ``ProtocolErrorEvent``)."""

    @abstractmethod
    def terminate(self) -> None:
        """Ask the job to stop (SIGTERM: it saves a checkpoint and exits)."""

    @abstractmethod
    def kill(self) -> None:
        """Stop the job now (SIGKILL)."""

    @abstractmethod
    def log_tail(self, lines: int = 20) -> str:
        """The last ``lines`` lines of the job's log (stderr)."""


class Backend(ABC):
    """Starts jobs and checks on jobs started by other processes (the CLI while the app runs)."""

    name = "abstract"

    @abstractmethod
    def launch(self, request: LaunchRequest) -> JobHandle:
        """Start the job; returns at once. Raises JarvisError when it cannot start."""

    @abstractmethod
    def alive(self, pid: int | None, started: float | None) -> bool:
        """Is the job process ``pid`` (started at ``started``, epoch s) still running?"""

    @abstractmethod
    def signal(self, pid: int | None, started: float | None, sig: int) -> bool:
        """Send ``sig`` to that process if it is still the same one; True when sent."""


def tail_text(path: Path, lines: int = 20, max_bytes: int = 64_000) -> str:
    """The last ``lines`` non-empty lines of a text file ('' when missing); reads at most ``max_bytes``."""
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - max_bytes))
            data = fh.read().decode("utf-8", "replace")
    except OSError:
        return ""
    kept = [ln for ln in data.splitlines() if ln.strip() and "it/s]" not in ln]  # drop tqdm bars
    return "\n".join(kept[-lines:])


class JsonLinesReader:
    """Incremental reader of a JSON-lines file: each :meth:`read` returns the complete new lines."""

    def __init__(self, path: Path, offset: int | None = None) -> None:
        self.path = Path(path)
        self.offset = offset if offset is not None else (self.path.stat().st_size if self.path.exists() else 0)
        self._partial = b""
        self._lock = threading.Lock()

    def read(self) -> list[JobEvent]:
        """The events of the complete lines added since the last call (thread-safe)."""
        with self._lock:
            try:
                with open(self.path, "rb") as fh:
                    fh.seek(self.offset)
                    data = fh.read()
            except OSError:
                return []
            self.offset += len(data)
            data = self._partial + data
            *lines, self._partial = data.split(b"\n")
        texts = (raw.decode("utf-8", "replace").strip() for raw in lines)
        return [from_json(text) for text in texts if text]


class LocalProcessHandle(JobHandle):
    """A job running as a child process of this one."""

    def __init__(self, proc: subprocess.Popen[bytes], request: LaunchRequest, reader: JsonLinesReader) -> None:
        self.proc = proc
        self.request = request
        self.reader = reader
        self.pid = proc.pid
        self.started = _create_time(proc.pid)

    def poll(self) -> int | None:
        return self.proc.poll()

    def read_events(self) -> list[JobEvent]:
        return self.reader.read()

    def terminate(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()

    def log_tail(self, lines: int = 20) -> str:
        return tail_text(self.request.log_path, lines)


def _create_time(pid: int) -> float | None:
    try:
        return psutil.Process(pid).create_time()
    except psutil.Error:
        return None


class LocalProcessBackend(Backend):
    """Each job is ``python -m jarvis_desktop train-adapter ...`` on this machine (see the module docstring).

    ``python``: the interpreter (default: this one); ``nice``: CPU priority increment of the job (0-19).
    """

    name = "local"

    def __init__(self, python: str | None = None, nice: int = 10) -> None:
        self.python = python or sys.executable
        self.nice = nice

    def command(self, args: list[str]) -> list[str]:
        """The job's full command line."""
        return [self.python, "-m", "jarvis_desktop", "train-adapter", *args, "--json-progress"]

    def launch(self, request: LaunchRequest) -> LocalProcessHandle:
        request.work_dir.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            PARENT_ENV: str(os.getpid()),
            NICE_ENV: str(self.nice),
            **request.env,
        }
        reader = JsonLinesReader(request.progress_path)
        try:
            with open(request.progress_path, "ab") as out, open(request.log_path, "ab") as err:
                proc = subprocess.Popen(
                    self.command(request.args),
                    stdout=out,
                    stderr=err,
                    stdin=subprocess.DEVNULL,
                    env=env,
                    cwd=str(request.work_dir),
                    start_new_session=True,
                )
        except OSError as exc:
            raise JarvisError(
                f"cannot start the training process: {exc}",
                hint="check that the data directory is writable and not full",
            ) from exc
        return LocalProcessHandle(proc, request, reader)

    def alive(self, pid: int | None, started: float | None) -> bool:
        if not pid:
            return False
        try:
            proc = psutil.Process(pid)
            if started is not None and abs(proc.create_time() - started) > 1.0:
                return False  # the pid was reused by another process
            return proc.status() != psutil.STATUS_ZOMBIE
        except psutil.Error:
            return False

    def signal(self, pid: int | None, started: float | None, sig: int) -> bool:
        if pid is None or not self.alive(pid, started):
            return False
        try:
            os.kill(pid, sig)
            return True
        except OSError:
            return False


def make_backend(name: str = "local", nice: int = 10) -> Backend:
    """The backend for the ``[training] backend`` setting (``nice``: the job's CPU priority increment). Only
    "local" is built; "ray" and "ssh" are described in docs/training.md. Raises BadInputError for another
    name."""
    if name in ("", "local"):
        return LocalProcessBackend(nice=nice)
    raise BadInputError(
        f"training backend {name!r} is not available in this version",
        hint='set [training] backend = "local" (remote backends: see docs/training.md)',
    )
