"""Training jobs in the app's SQLite database (tables ``training_jobs`` and ``training_job_events``,
migration 3 of :mod:`jarvis_desktop.store.db`).

Statuses: ``queued`` -> ``running`` -> ``succeeded`` | ``failed`` | ``cancelled`` | ``interrupted`` (the app
quit or died while it ran; it can be resumed, as can a cancelled or failed job with a checkpoint).
Timestamps are aware UTC datetimes; ``params`` is the :class:`~.spec.JobSpec` dict; ``progress`` the last
progress event; ``result`` the validation scores and artifact paths of a finished job.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from jarvis_desktop.errors import BadInputError, JarvisError
from jarvis_desktop.store.db import Database

STATUSES = ("queued", "running", "succeeded", "failed", "cancelled", "interrupted")
#: Statuses of a job that is over.
FINAL = ("succeeded", "failed", "cancelled", "interrupted")
#: Statuses a job can be resumed from (when it left a checkpoint).
RESUMABLE = ("failed", "cancelled", "interrupted")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


@dataclass
class JobRecord:
    """One row of ``training_jobs`` (see the module docstring)."""

    id: int
    name: str
    status: str
    backend: str
    params: dict[str, Any]
    data_path: str
    data_sha256: str
    work_dir: str
    log_path: str
    output_path: str
    pid: int | None
    pid_started: float | None
    owner_pid: int | None
    attempts: int
    cancel_requested: bool
    exit_code: int | None
    error: str
    progress: dict[str, Any]
    result: dict[str, Any]
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def final(self) -> bool:
        """True once the job is over (succeeded, failed, cancelled or interrupted)."""
        return self.status in FINAL

    def to_dict(self) -> dict[str, Any]:
        """JSON shape of ``jarvis-desktop jobs --json``."""
        out = {
            k: getattr(self, k)
            for k in (
                "id",
                "name",
                "status",
                "backend",
                "params",
                "data_path",
                "data_sha256",
                "work_dir",
                "log_path",
                "output_path",
                "pid",
                "attempts",
                "exit_code",
                "error",
                "progress",
                "result",
            )
        }
        for key in ("created_at", "started_at", "finished_at"):
            value = getattr(self, key)
            out[key] = value.isoformat(timespec="seconds") if value else None
        out["cancel_requested"] = self.cancel_requested
        return out


def _record(row: Any) -> JobRecord:
    return JobRecord(
        id=int(row["id"]),
        name=row["name"],
        status=row["status"],
        backend=row["backend"],
        params=json.loads(row["params"] or "{}"),
        data_path=row["data_path"],
        data_sha256=row["data_sha256"],
        work_dir=row["work_dir"],
        log_path=row["log_path"],
        output_path=row["output_path"],
        pid=row["pid"],
        pid_started=row["pid_started"],
        owner_pid=row["owner_pid"],
        attempts=int(row["attempts"]),
        cancel_requested=bool(row["cancel_requested"]),
        exit_code=row["exit_code"],
        error=row["error"],
        progress=json.loads(row["progress"] or "{}"),
        result=json.loads(row["result"] or "{}"),
        created_at=datetime.fromisoformat(row["created_at"]),
        started_at=_time(row["started_at"]),
        finished_at=_time(row["finished_at"]),
    )


_COLUMNS = {
    "name",
    "status",
    "backend",
    "params",
    "data_path",
    "data_sha256",
    "work_dir",
    "log_path",
    "output_path",
    "pid",
    "pid_started",
    "owner_pid",
    "attempts",
    "cancel_requested",
    "exit_code",
    "error",
    "progress",
    "result",
    "started_at",
    "finished_at",
}


class JobStore:
    """Read and write training jobs; thread-safe as :class:`~jarvis_desktop.store.db.Database` is.

    Raises JarvisError (from the database) when a write fails (full disk, read-only, locked).
    """

    def __init__(self, db: Database) -> None:
        self.db = db

    def create(
        self,
        name: str,
        params: dict[str, Any],
        *,
        data_path: str = "",
        data_sha256: str = "",
        backend: str = "local",
        work_dir: str = "",
        log_path: str = "",
    ) -> JobRecord:
        """Insert a ``queued`` job; returns it."""
        cur = self.db.execute(
            "INSERT INTO training_jobs (name, status, backend, params, data_path, data_sha256, work_dir, log_path,"
            " created_at) VALUES (?, 'queued', ?, ?, ?, ?, ?, ?, ?)",
            (name, backend, json.dumps(params), data_path, data_sha256, work_dir, log_path, _now()),
        )
        if cur.lastrowid is None:
            raise JarvisError("the training job could not be stored")
        return self.get(cur.lastrowid)

    def update(self, job_id: int, **values: Any) -> JobRecord:
        """Set columns of one job (dicts are stored as JSON; ``started_at``/``finished_at`` may be "now")."""
        unknown = set(values) - _COLUMNS
        if unknown:
            raise ValueError(f"unknown job columns: {sorted(unknown)}")
        if values.get("status") is not None and values["status"] not in STATUSES:
            raise ValueError(f"unknown status {values['status']!r}")
        for key in ("started_at", "finished_at"):
            if values.get(key) == "now":
                values[key] = _now()
        for key in ("params", "progress", "result"):
            if isinstance(values.get(key), dict):
                values[key] = json.dumps(values[key])
        if "cancel_requested" in values:
            values["cancel_requested"] = int(bool(values["cancel_requested"]))
        if values:
            sets = ", ".join(f"{k} = ?" for k in values)
            self.db.execute(f"UPDATE training_jobs SET {sets} WHERE id = ?", (*values.values(), job_id))
        return self.get(job_id)

    def get(self, job_id: int) -> JobRecord:
        """The job ``job_id``. Raises BadInputError when there is none."""
        rows = self.db.query("SELECT * FROM training_jobs WHERE id = ?", (job_id,))
        if not rows:
            raise BadInputError(f"no training job with id {job_id}", hint="see: jarvis-desktop jobs")
        return _record(rows[0])

    def list_jobs(self, statuses: tuple[str, ...] | None = None, limit: int = 200) -> list[JobRecord]:
        """Jobs, newest first (only ``statuses`` when given)."""
        if statuses:
            marks = ", ".join("?" for _ in statuses)
            rows = self.db.query(
                f"SELECT * FROM training_jobs WHERE status IN ({marks}) ORDER BY id DESC LIMIT ?", (*statuses, limit)
            )
        else:
            rows = self.db.query("SELECT * FROM training_jobs ORDER BY id DESC LIMIT ?", (limit,))
        return [_record(r) for r in rows]

    def add_events(self, job_id: int, events: list[dict[str, object]]) -> None:
        """Store the job's events (each :meth:`~.events.JobEvent.to_dict`: a dict with an ``event`` key), in
        one transaction."""
        if not events:
            return
        now = _now()
        with self.db.transaction() as conn:
            conn.executemany(
                "INSERT INTO training_job_events (job_id, event, data, created_at) VALUES (?, ?, ?, ?)",
                [(job_id, str(e.get("event", "")), json.dumps(e), now) for e in events],
            )

    def events(self, job_id: int, event: str | None = None, after_id: int = 0) -> list[dict[str, Any]]:
        """The job's stored events in order (only kind ``event`` when given); each dict gets ``_id``."""
        sql = "SELECT id, data FROM training_job_events WHERE job_id = ? AND id > ?"
        params: tuple[int | str, ...] = (job_id, after_id)
        if event:
            sql += " AND event = ?"
            params += (event,)
        return [dict(json.loads(r["data"]), _id=int(r["id"])) for r in self.db.query(sql + " ORDER BY id", params)]
