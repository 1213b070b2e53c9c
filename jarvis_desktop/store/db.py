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

* Corruption: an existing file gets ``PRAGMA quick_check`` when it is opened (16 ms for 10k notes + 10k chat
  messages, 6 MB; files over :data:`CHECK_EVERY_OPEN_BYTES` only when their daily backup is due). A failed
  check, or a "malformed" / "not a database" error later, switches the Database to a read-only connection
  (``mode=ro``: SQLite cannot write the file): reads of what is still readable go on, every write raises
  :class:`~jarvis_desktop.errors.CorruptDatabaseError`, and the file is never modified, moved or deleted
  (``jarvis-desktop db restore|salvage`` moves it aside on the user's word).
* Backups: opening the app's database (``config.database_path()``) after a passing check takes an automatic
  backup when one is due (``store/backup.py``: once a day, newest 3 kept).
* A full disk is reported as "the disk is full (N MB free)", also when SQLite says only "disk I/O error"
  (creating the ``-shm`` file of a reopened database on a full disk fails with SQLITE_IOERR_SHMSIZE).

Errors:
    CorruptDatabaseError (a BadInputError): the file is not an SQLite database or is damaged; writes are refused.
    BadInputError: the path is a directory, or the schema was written by a newer Jarvis. The file is never
        modified or deleted.
    JarvisError: the database cannot be created or written: read-only directory or file, full disk, I/O error.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from jarvis_desktop import config
from jarvis_desktop.errors import BadInputError, CorruptDatabaseError, JarvisError
from jarvis_desktop.store.backup import BackupInfo, BackupPolicy, backup_due, maybe_backup

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5000
#: Files up to this size get ``PRAGMA quick_check`` at every open (6 MB: 16 ms, 61 MB: 0.17 s warm, 1.6 s cold
#: here); bigger ones only when an automatic backup is due. Any read or write meeting a damaged page still
#: switches the Database to read-only.
CHECK_EVERY_OPEN_BYTES = 64 * 1024 * 1024
#: Free bytes below which an SQLite I/O error on the database's file system is reported as a full disk.
LOW_SPACE_BYTES = 8 * 1024 * 1024

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
    # 6: the knowledge index (knowledge/index.py, docs/knowledge.md). A document is a file of an indexed folder or
    #    an app record (source_id: the absolute path, or "note:<id>" ...); its chunks carry the citation's place;
    #    knowledge_fts is the full-text index (BM25; rowid = chunk id); knowledge_vectors holds each chunk's
    #    embedding (float32 little-endian, L2-normalised; absent when indexed without vectors); knowledge_meta
    #    holds the embedding model's name, a change counter and the last update. All of it is derived from the
    #    files and records, so a damaged table is rebuilt from them.
    """
    CREATE TABLE knowledge_folders (
        path        TEXT    PRIMARY KEY,
        added_at    TEXT    NOT NULL
    );
    CREATE TABLE knowledge_documents (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        source_id   TEXT    NOT NULL UNIQUE,
        kind        TEXT    NOT NULL,
        title       TEXT    NOT NULL DEFAULT '',
        mtime       REAL    NOT NULL DEFAULT 0,
        size        INTEGER NOT NULL DEFAULT 0,
        created_at  TEXT,
        indexed_at  TEXT    NOT NULL
    );
    CREATE INDEX knowledge_documents_kind ON knowledge_documents (kind);
    CREATE TABLE knowledge_chunks (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        document_id INTEGER NOT NULL REFERENCES knowledge_documents (id) ON DELETE CASCADE,
        ordinal     INTEGER NOT NULL,
        text        TEXT    NOT NULL,
        page        INTEGER,
        heading     TEXT    NOT NULL DEFAULT '',
        line        INTEGER
    );
    CREATE INDEX knowledge_chunks_document ON knowledge_chunks (document_id, ordinal);
    CREATE TABLE knowledge_vectors (
        chunk_id    INTEGER PRIMARY KEY REFERENCES knowledge_chunks (id) ON DELETE CASCADE,
        vector      BLOB    NOT NULL
    );
    CREATE VIRTUAL TABLE knowledge_fts USING fts5 (title, heading, text, tokenize = 'porter unicode61');
    CREATE TABLE knowledge_meta (
        key         TEXT    PRIMARY KEY,
        value       TEXT    NOT NULL
    );
    """,
    # 7: the sources of a grounded chat answer (store/history.py, docs/knowledge.md): one row per citation of an
    #    assistant message, numbered as its "[n]"; the passage text as the chat model was given it (Continue and
    #    Regenerate answer from the same passages), and where it sits (page, heading, line) so the reloaded source
    #    list opens it there. Deleted with its message (regenerate, edit, a deleted conversation).
    """
    CREATE TABLE message_citations (
        message_id  INTEGER NOT NULL REFERENCES chat_messages (id) ON DELETE CASCADE,
        number      INTEGER NOT NULL,
        label       TEXT    NOT NULL,
        kind        TEXT    NOT NULL,               -- file, note, chat, schedule
        source_id   TEXT    NOT NULL,               -- the absolute path, or note:<id>, chat:<id>, schedule:<id>
        title       TEXT    NOT NULL DEFAULT '',
        text        TEXT    NOT NULL DEFAULT '',    -- the passage
        page        INTEGER,
        heading     TEXT    NOT NULL DEFAULT '',
        line        INTEGER,
        source_created_at TEXT,                     -- when the cited note or message was written (UTC)
        PRIMARY KEY (message_id, number)
    );
    CREATE INDEX message_citations_source ON message_citations (source_id);
    """,
    # 8: every use of a remote endpoint (store/remote_usage.py, docs/offload.md "Cost and budget"): chat now, the
    #    NLU and speech offloads later (``kind``); tokens from the server's usage when it gave them, else estimated
    #    (``tokens_estimated`` 1); ``uptime_s``: VM time this use added (per-hour pricing); ``cost_usd`` estimated.
    """
    CREATE TABLE remote_usage (
        id               INTEGER PRIMARY KEY AUTOINCREMENT,
        at               TEXT    NOT NULL,          -- when the use started (UTC ISO 8601)
        kind             TEXT    NOT NULL,          -- chat, nlu, stt
        model            TEXT    NOT NULL DEFAULT '',
        endpoint         TEXT    NOT NULL DEFAULT '',  -- the shown (redacted) base URL
        requests         INTEGER NOT NULL DEFAULT 1,
        input_tokens     INTEGER NOT NULL DEFAULT 0,
        output_tokens    INTEGER NOT NULL DEFAULT 0,
        tokens_estimated INTEGER NOT NULL DEFAULT 1 CHECK (tokens_estimated IN (0, 1)),
        seconds          REAL    NOT NULL DEFAULT 0,  -- wall time of the use
        uptime_s         REAL    NOT NULL DEFAULT 0,  -- VM uptime billed for this use
        cost_usd         REAL    NOT NULL DEFAULT 0,
        ok               INTEGER NOT NULL DEFAULT 1 CHECK (ok IN (0, 1))
    );
    CREATE INDEX remote_usage_at ON remote_usage (at);
    """,
]


def _error_name(exc: sqlite3.Error) -> str:
    """SQLite's error code name (``SQLITE_FULL`` ...) when Python exposes it (3.11+), else ''."""
    return getattr(exc, "sqlite_errorname", "") or ""


def is_corruption(exc: sqlite3.Error) -> bool:
    """True when ``exc`` says the file is damaged or not a database (SQLITE_CORRUPT / SQLITE_NOTADB)."""
    name = _error_name(exc)
    text = str(exc).lower()
    return name.startswith(("SQLITE_NOTADB", "SQLITE_CORRUPT")) or "not a database" in text or "malformed" in text


def corrupt_error(path: Path | str, detail: str) -> CorruptDatabaseError:
    """The error for a damaged database: names the file, says it was left untouched, gives the fix commands."""
    return CorruptDatabaseError(
        f"the database {path} is damaged ({detail}); Jarvis stopped writing to it and left the file untouched",
        hint="restore the latest automatic backup with: jarvis-desktop db restore, or copy what is still readable "
        "into a new database with: jarvis-desktop db salvage; both move the damaged file aside, never delete it",
    )


def free_bytes(path: Path | str) -> int | None:
    """Free bytes on the file system holding ``path`` (its directory), or None when it cannot be asked."""
    try:
        return shutil.disk_usage(Path(str(path)).parent).free
    except OSError:
        return None


def _disk_full_error(exc: sqlite3.Error, path: Path | str, action: str) -> JarvisError | None:
    """The "disk is full" error when ``exc`` is SQLITE_FULL, or an I/O error while the disk has almost no room."""
    name = _error_name(exc)
    text = str(exc).lower()
    full = name.startswith("SQLITE_FULL") or "disk is full" in text
    if not (full or name.startswith("SQLITE_IOERR") or "disk i/o error" in text):
        return None
    free = free_bytes(path)
    if not full and (free is None or free >= LOW_SPACE_BYTES):
        return None
    shown = f" ({free / 1e6:.1f} MB free)" if free is not None else ""
    return JarvisError(
        f"cannot {action} the database {path}: the disk is full{shown}",
        hint="free some disk space and retry; what was saved before is kept",
    )


def map_sqlite_error(exc: sqlite3.Error, path: Path | str, action: str) -> JarvisError:
    """Translate an ``sqlite3`` exception into the engine's error with a message a user can act on.

    ``action`` is a short verb phrase for the message ("open", "write to").
    """
    name = _error_name(exc)
    text = str(exc).lower()
    if is_corruption(exc):
        return corrupt_error(path, str(exc))
    full = _disk_full_error(exc, path, action)
    if full is not None:
        return full
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


OPEN_ATTEMPTS = 5
"""Opens tried when the file was refused as locked at once (0.1 + 0.2 + 0.3 + 0.4 s apart) before "locked by another
process" is reported; a lock that outlasted the busy timeout is reported at once."""


class _OpenBusy(Exception):
    """The file was locked while opening (internal: :class:`Database` retries)."""

    def __init__(self, error: sqlite3.Error) -> None:
        super().__init__(str(error))
        self.error = error


def _is_busy(exc: sqlite3.Error) -> bool:
    name = getattr(exc, "sqlite_errorname", "") or ""
    return name.startswith("SQLITE_BUSY") or "locked" in str(exc).lower()


class Database:
    """An open SQLite database file with the app schema applied.

    Args:
        path: the ``.sqlite3`` file (created with its parent directories if missing), or ``":memory:"``.
        migrations: schema scripts to apply (default :data:`MIGRATIONS`); tests may pass their own.
        backups: the automatic backup on open: ``"auto"`` (default) backs up the app's database
            (``config.database_path()``) per :meth:`BackupPolicy.for_database` and no other file; None: never.

    Attributes:
        corrupt: None while the file is healthy; else why it is not (the quick check's finding or SQLite's
            error); the connection is then read-only and every write raises CorruptDatabaseError.
        last_backup: the backup taken by this open, if one was due.

    Raises:
        CorruptDatabaseError: not a database at all (nothing readable). A damaged file that SQLite can still read
            opens read-only instead (see ``corrupt``).
        BadInputError: a directory / written by a newer version.
        JarvisError: cannot create or write it (read-only location, full disk).
    """

    def __init__(
        self,
        path: Path | str,
        migrations: Sequence[str] | None = None,
        *,
        backups: BackupPolicy | str | None = "auto",
    ) -> None:
        self.path = path if str(path) == ":memory:" else Path(path).expanduser()
        self._migrations = list(MIGRATIONS if migrations is None else migrations)
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None
        self.corrupt: str | None = None
        self.last_backup: BackupInfo | None = None
        size = 0
        if isinstance(self.path, Path):
            if self.path.is_dir():
                raise BadInputError(f"{self.path} is a directory, not a database file")
            size = self.path.stat().st_size if self.path.is_file() else 0
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise JarvisError(
                    f"cannot create the directory {self.path.parent} for the database: {exc.strerror}",
                    hint="set JARVIS_DESKTOP_HOME to a writable directory",
                ) from exc
        policy = self._backup_policy(backups)
        # Check files up to CHECK_EVERY_OPEN_BYTES at every open; bigger ones when a backup is due (once a day).
        check = size > 0 and (size <= CHECK_EVERY_OPEN_BYTES or (policy is not None and backup_due(policy)))
        for attempt in range(OPEN_ATTEMPTS):
            started = time.monotonic()
            try:
                conn = self._open_connection(check)
                break
            except _OpenBusy as busy:
                waited_out = time.monotonic() - started >= BUSY_TIMEOUT_MS / 1000 / 2  # a real, long-held lock
                # Two connections opening a new file at once: switching it to WAL or migrating it needs a lock the
                # other may hold, and SQLite can refuse such a lock at once instead of waiting (busy_timeout does not
                # apply to every lock upgrade). The other open finishes within milliseconds: try again.
                if waited_out or attempt == OPEN_ATTEMPTS - 1:
                    raise map_sqlite_error(busy.error, self.path, "open") from busy.error
                time.sleep(0.1 * (attempt + 1))
        if conn is None:  # opened read-only (damaged): nothing to migrate or back up
            return
        if check and policy is not None:  # only a file that just passed the check is backed up
            self.last_backup = maybe_backup(conn, policy)

    def _open_connection(self, check: bool) -> sqlite3.Connection | None:
        """Connect, set WAL and the pragmas, quick-check (``check``) and migrate; returns the connection, or None
        when the file is damaged (then opened read-only). Raises _OpenBusy when the file is locked, else the mapped
        JarvisError."""
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
            problem = quick_check(conn) if check else ""
            if problem:
                self._open_read_only(problem, conn)
                return None
            if mode != "wal" and self.path != ":memory:":
                conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA synchronous = NORMAL")  # safe with WAL; a crash may lose only the last commit
            self._conn = conn
            self._migrate()
        except sqlite3.Error as exc:
            conn.close()
            self._conn = None
            if _is_busy(exc):
                raise _OpenBusy(exc) from exc
            raise map_sqlite_error(exc, self.path, "open") from exc
        except JarvisError as exc:
            conn.close()
            self._conn = None
            if isinstance(exc.__cause__, sqlite3.Error) and _is_busy(exc.__cause__):
                raise _OpenBusy(exc.__cause__) from exc
            raise
        return conn

    def _backup_policy(self, backups: BackupPolicy | str | None) -> BackupPolicy | None:
        if isinstance(backups, BackupPolicy) or backups is None or not isinstance(self.path, Path):
            return backups if isinstance(backups, BackupPolicy) else None
        try:
            app_db = config.database_path()
        except JarvisError:
            return None
        if self.path.resolve() != app_db.resolve():
            return None
        return BackupPolicy.for_database(self.path)

    # -- corruption -------------------------------------------------------------------------------
    def _open_read_only(self, problem: str, current: sqlite3.Connection | None) -> None:
        """Mark the file damaged and swap ``current`` for a read-only connection (``mode=ro``), opened first and
        holding a read transaction while ``current`` closes, so that close does not checkpoint the WAL (commits
        made before the damage was seen) into the damaged file."""
        assert isinstance(self.path, Path)
        self.corrupt = problem
        log.info("database %s is damaged (%s): switched to read-only", self.path, problem)
        try:
            ro = sqlite3.connect(
                f"{self.path.resolve().as_uri()}?mode=ro",
                uri=True,
                timeout=BUSY_TIMEOUT_MS / 1000,
                isolation_level=None,
                check_same_thread=False,
            )
            ro.row_factory = sqlite3.Row
            ro.execute("PRAGMA query_only = ON")
        except sqlite3.Error:
            ro = None
        if ro is not None:
            # A read transaction held while ``current`` closes stops its close from checkpointing the WAL into
            # the damaged file (a read-only connection never checkpoints).
            with contextlib.suppress(sqlite3.Error):
                ro.execute("BEGIN")
                ro.execute("SELECT count(*) FROM sqlite_master").fetchone()
        if current is not None:
            current.close()
        if ro is not None and ro.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                ro.execute("COMMIT")
        self._conn = ro
        if ro is None:
            raise corrupt_error(self.path, problem)

    def _corruption(self, exc: sqlite3.Error) -> CorruptDatabaseError:
        """Called under the lock when an operation met a damaged page: go read-only (once), return the error."""
        if self.corrupt is None and isinstance(self.path, Path):
            self._open_read_only(str(exc), self._conn)
        return corrupt_error(self.path, self.corrupt or str(exc))

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
            if self.corrupt is not None:
                raise corrupt_error(self.path, self.corrupt)
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
                if is_corruption(exc):
                    raise self._corruption(exc) from exc
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
                if is_corruption(exc):
                    raise self._corruption(exc) from exc
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


def quick_check(conn: sqlite3.Connection) -> str:
    """``PRAGMA quick_check`` on ``conn``: "" when the file is sound, else what is wrong (first findings)."""
    try:
        rows = conn.execute("PRAGMA quick_check").fetchall()
    except sqlite3.DatabaseError as exc:
        if is_corruption(exc):
            return str(exc)
        raise
    problems = [str(row[0]) for row in rows if str(row[0]) != "ok"]
    more = f" (and {len(problems) - 2} more)" if len(problems) > 2 else ""
    return "quick_check: " + "; ".join(problems[:2]) + more if problems else ""


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
