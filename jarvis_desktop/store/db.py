"""The app's SQLite database: one file, schema migrations by ``PRAGMA user_version``.

* Journal mode WAL (readers never block the writer), foreign keys on, a busy timeout so a second
  process (the CLI while the GUI runs) waits instead of failing at once.
* Migrations: :data:`MIGRATIONS` is an ordered list of SQL scripts. Script ``i`` (0-based) brings the schema
  from ``user_version == i`` to ``i + 1``; each runs in its own transaction together with the version bump, so
  a crash never leaves a half-applied schema. Later features append scripts; never edit a released one.
* Threads: ONE connection opened with ``check_same_thread=False`` and guarded by a re-entrant lock. Every
  public method takes the lock, so worker threads (STT, chat, GUI workers) may share one ``Database``. The
  store's traffic is a few small rows per utterance, so serialising it costs nothing measurable, and
  ``close()`` can close the single connection from any thread (a per-thread connection could not be).

Errors:
    BadInputError: the file is not an SQLite database (or is corrupt), the path is a directory, or the
        schema was written by a newer Jarvis. The file is never modified or deleted.
    JarvisError: the database cannot be created or written: read-only directory or file, full disk, I/O error.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from jarvis_desktop.errors import BadInputError, JarvisError

BUSY_TIMEOUT_MS = 5000

#: Ordered schema scripts; index i upgrades user_version i -> i + 1. Append only.
MIGRATIONS: list[str] = [
    # 1: chat history (store/history.py)
    """
    CREATE TABLE chat_messages (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        role        TEXT    NOT NULL CHECK (role IN ('user', 'assistant', 'system')),
        content     TEXT    NOT NULL,
        created_at  TEXT    NOT NULL,   -- ISO 8601, UTC, e.g. 2026-11-22T03:01:27.123456+00:00
        meta        TEXT    NOT NULL DEFAULT '{}'  -- JSON object
    );
    """,
    # 2: actions: scheduled items (store/schedule.py), notes (store/notes.py), action log for undo
    #    (store/action_log.py). Times are ISO 8601 UTC to the second, e.g. 2026-11-23T15:00:00+00:00,
    #    so text order is time order.
    """
    CREATE TABLE scheduled_items (
        id           INTEGER PRIMARY KEY AUTOINCREMENT,
        kind         TEXT    NOT NULL CHECK (kind IN ('reminder', 'timer', 'alarm', 'event')),
        title        TEXT    NOT NULL DEFAULT '',
        due_at       TEXT    NOT NULL,              -- when it fires (events: their start)
        end_at       TEXT,                          -- events only
        all_day      INTEGER NOT NULL DEFAULT 0,    -- events only: a date, not a time
        status       TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'fired', 'cancelled')),
        created_at   TEXT    NOT NULL,
        fired_at     TEXT,
        missed       INTEGER NOT NULL DEFAULT 0,    -- fired late because Jarvis was not running
        cancelled_at TEXT,
        source_text  TEXT    NOT NULL DEFAULT '',   -- what the user said
        uid          TEXT    UNIQUE,                -- iCalendar UID (events)
        location     TEXT    NOT NULL DEFAULT '',
        description  TEXT    NOT NULL DEFAULT ''
    );
    CREATE INDEX scheduled_items_status_due ON scheduled_items (status, due_at);
    CREATE TABLE notes (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        text        TEXT    NOT NULL,
        created_at  TEXT    NOT NULL,
        deleted_at  TEXT
    );
    CREATE TABLE action_log (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        intent      TEXT    NOT NULL,
        text        TEXT    NOT NULL DEFAULT '',    -- the utterance
        summary     TEXT    NOT NULL DEFAULT '',
        undo        TEXT,                           -- JSON {"op": ..., ...}, NULL when it cannot be undone
        created_at  TEXT    NOT NULL,
        undone_at   TEXT
    );
    """,
    # 3: background LoRA training jobs (jarvis_desktop/jobs/store.py). Times ISO 8601 UTC; params, progress
    #    and result are JSON objects; events hold the job's JSON lines (progress, checkpoint, validation ...).
    """
    CREATE TABLE training_jobs (
        id               INTEGER PRIMARY KEY AUTOINCREMENT,
        name             TEXT    NOT NULL,              -- adapter name the job writes
        status           TEXT    NOT NULL CHECK (status IN
                             ('queued', 'running', 'succeeded', 'failed', 'cancelled', 'interrupted')),
        backend          TEXT    NOT NULL DEFAULT 'local',
        params           TEXT    NOT NULL DEFAULT '{}',
        data_path        TEXT    NOT NULL DEFAULT '',
        data_sha256      TEXT    NOT NULL DEFAULT '',
        work_dir         TEXT    NOT NULL DEFAULT '',   -- checkpoints, progress file, log
        log_path         TEXT    NOT NULL DEFAULT '',
        output_path      TEXT    NOT NULL DEFAULT '',   -- the adapter directory once installed
        pid              INTEGER,
        pid_started      REAL,                          -- the process' start time (epoch s): pid reuse guard
        owner_pid        INTEGER,                       -- the app/CLI process running the job
        attempts         INTEGER NOT NULL DEFAULT 0,    -- starts, resumes included
        cancel_requested INTEGER NOT NULL DEFAULT 0,
        exit_code        INTEGER,
        error            TEXT    NOT NULL DEFAULT '',   -- why it failed, with the log's last lines
        progress         TEXT    NOT NULL DEFAULT '{}', -- the last progress event
        result           TEXT    NOT NULL DEFAULT '{}', -- validation scores, artifact paths
        created_at       TEXT    NOT NULL,
        started_at       TEXT,
        finished_at      TEXT
    );
    CREATE INDEX training_jobs_status ON training_jobs (status);
    CREATE TABLE training_job_events (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        job_id      INTEGER NOT NULL REFERENCES training_jobs (id) ON DELETE CASCADE,
        event       TEXT    NOT NULL,
        data        TEXT    NOT NULL,
        created_at  TEXT    NOT NULL
    );
    CREATE INDEX training_job_events_job ON training_job_events (job_id, id);
    """,
    # 4: conversations (store/conversations.py). Every chat message belongs to one; messages written before this
    #    migration go into conversation 1, "Earlier chat" (made only when there are such messages).
    """
    CREATE TABLE conversations (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        title       TEXT    NOT NULL DEFAULT '',
        created_at  TEXT    NOT NULL,
        updated_at  TEXT    NOT NULL
    );
    INSERT INTO conversations (id, title, created_at, updated_at)
        SELECT 1, 'Earlier chat', MIN(created_at), MAX(created_at) FROM chat_messages HAVING COUNT(*) > 0;
    ALTER TABLE chat_messages ADD COLUMN conversation_id INTEGER REFERENCES conversations (id) ON DELETE CASCADE;
    UPDATE chat_messages SET conversation_id = 1;
    CREATE INDEX chat_messages_conversation ON chat_messages (conversation_id, id);
    """,
    # 5: at-least-once firing (actions/scheduler.py): a due item is claimed (claimed_by = the scheduler's owner
    #    token, claimed_at UTC), delivered, and only then marked fired together with its history entry; a claim
    #    whose owner died (kill -9) is taken over and the item delivered again.
    """
    ALTER TABLE scheduled_items ADD COLUMN claimed_by TEXT;
    ALTER TABLE scheduled_items ADD COLUMN claimed_at TEXT;
    """,
]


def _error_name(exc: sqlite3.Error) -> str:
    """SQLite's error code name (``SQLITE_FULL`` ...) when Python exposes it (3.11+), else ''."""
    return getattr(exc, "sqlite_errorname", "") or ""


def map_sqlite_error(exc: sqlite3.Error, path: Path | str, action: str) -> JarvisError:
    """Translate an ``sqlite3`` exception into the engine's error with a message a user can act on.

    ``action`` is a short verb phrase for the message ("open", "write to").
    """
    name = _error_name(exc)
    text = str(exc).lower()
    if name in ("SQLITE_NOTADB", "SQLITE_CORRUPT") or "not a database" in text or "malformed" in text:
        return BadInputError(
            f"{path} is not a usable SQLite database ({exc})",
            hint=f"move the file aside (e.g. rename it to {Path(str(path)).name}.bad) and Jarvis will start "
            "a new one; it was left untouched",
        )
    if name.startswith("SQLITE_FULL") or "disk is full" in text:
        return JarvisError(f"cannot {action} the database {path}: the disk is full", hint="free some disk space")
    if name.startswith("SQLITE_READONLY") or "readonly" in text or "read-only" in text:
        return JarvisError(
            f"cannot {action} the database {path}: it is read-only",
            hint="check the permissions of the file and its directory, or set JARVIS_DESKTOP_HOME to a writable one",
        )
    if name.startswith("SQLITE_CANTOPEN") or "unable to open" in text:
        return JarvisError(
            f"cannot {action} the database {path}: unable to open the file",
            hint="check that its directory exists and is writable, or set JARVIS_DESKTOP_HOME to a writable one",
        )
    if name.startswith("SQLITE_BUSY") or "locked" in text:
        return JarvisError(
            f"cannot {action} the database {path}: it is locked by another process",
            hint="close the other Jarvis window or command and retry",
        )
    return JarvisError(f"cannot {action} the database {path}: {exc}")


class Database:
    """An open SQLite database file with the app schema applied.

    Args:
        path: the ``.sqlite3`` file (created with its parent directories if missing), or ``":memory:"``.
        migrations: schema scripts to apply (default :data:`MIGRATIONS`); tests may pass their own.

    Raises:
        BadInputError: not a database / corrupt / a directory / written by a newer version.
        JarvisError: cannot create or write it (read-only location, full disk).
    """

    def __init__(self, path: Path | str, migrations: Sequence[str] | None = None) -> None:
        self.path = path if str(path) == ":memory:" else Path(path).expanduser()
        self._migrations = list(MIGRATIONS if migrations is None else migrations)
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None
        if isinstance(self.path, Path):
            if self.path.is_dir():
                raise BadInputError(f"{self.path} is a directory, not a database file")
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise JarvisError(
                    f"cannot create the directory {self.path.parent} for the database: {exc.strerror}",
                    hint="set JARVIS_DESKTOP_HOME to a writable directory",
                ) from exc
        try:
            conn = sqlite3.connect(
                str(self.path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise map_sqlite_error(exc, self.path, "open") from exc
        try:
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            # Reading the journal mode is the first access to the file: garbage fails here, unchanged.
            mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
            if mode != "wal" and self.path != ":memory:":
                conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA synchronous = NORMAL")  # safe with WAL; a crash may lose only the last commit
            self._conn = conn
            self._migrate()
        except sqlite3.Error as exc:
            conn.close()
            self._conn = None
            raise map_sqlite_error(exc, self.path, "open") from exc
        except JarvisError:
            conn.close()
            self._conn = None
            raise

    # -- schema -----------------------------------------------------------------------------------
    @property
    def user_version(self) -> int:
        """The schema version: how many migrations have been applied."""
        return int(self.query("PRAGMA user_version")[0][0])

    def _migrate(self) -> None:
        conn = self._require()
        current = conn.execute("PRAGMA user_version").fetchone()[0]
        if current > len(self._migrations):
            raise BadInputError(
                f"{self.path} has schema version {current}, newer than this Jarvis knows ({len(self._migrations)})",
                hint="update Jarvis, or move the file aside to start a new database",
            )
        for index in range(current, len(self._migrations)):
            conn.execute("BEGIN IMMEDIATE")
            try:
                # Another process may have migrated while we waited for the write lock.
                if conn.execute("PRAGMA user_version").fetchone()[0] != index:
                    conn.execute("ROLLBACK")
                    continue
                for statement in _split_sql(self._migrations[index]):
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {index + 1}")
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    # -- access -----------------------------------------------------------------------------------
    def _require(self) -> sqlite3.Connection:
        if self._conn is None:
            raise JarvisError(f"the database {self.path} is closed")
        return self._conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``with db.transaction() as conn:`` runs the block in one write transaction (BEGIN IMMEDIATE),
        holding the lock; commits on success, rolls back on any exception.

        Raises:
            JarvisError: the write failed (full disk, read-only, locked); the transaction was rolled back.
        """
        with self._lock:
            conn = self._require()
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield conn
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                raise map_sqlite_error(exc, self.path, "write to") from exc

    def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> sqlite3.Cursor:
        """Run one writing statement in its own transaction; the cursor's ``lastrowid`` and ``rowcount``
        are valid afterwards (do not fetch rows from it: use :meth:`query`)."""
        with self.transaction() as conn:
            return conn.execute(sql, params)

    def insert(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> int:
        """Run one INSERT in its own transaction; returns the new row's id.

        Raises:
            JarvisError: the database cannot be written, or the statement added no row.
        """
        rowid = self.execute(sql, params).lastrowid
        if rowid is None:
            raise JarvisError("the database did not return the new row's id")
        return int(rowid)

    def query(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[sqlite3.Row]:
        """Run a read statement and return all rows (``sqlite3.Row``: index or column-name access)."""
        with self._lock:
            conn = self._require()
            try:
                return conn.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise map_sqlite_error(exc, self.path, "read") from exc

    def close(self) -> None:
        """Close the connection (checkpointing the WAL); safe to call twice and from any thread."""
        with self._lock:
            if self._conn is not None:
                try:
                    self._conn.close()
                finally:
                    self._conn = None

    @property
    def closed(self) -> bool:
        """True after :meth:`close`."""
        return self._conn is None

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Database({str(self.path)!r})"


def _split_sql(script: str) -> list[str]:
    """Split a migration script into complete statements; ``sqlite3.complete_statement`` decides where one
    ends, so semicolons inside strings, comments or trigger bodies are kept."""
    statements: list[str] = []
    buffer = ""
    for piece in script.split(";"):
        buffer += piece + ";"
        if sqlite3.complete_statement(buffer):
            if buffer.strip(" \n\t;"):
                statements.append(buffer.strip())
            buffer = ""
    if buffer.strip(" \n\t;"):
        statements.append(buffer.strip().rstrip(";"))  # let SQLite report the incomplete statement
    return statements
