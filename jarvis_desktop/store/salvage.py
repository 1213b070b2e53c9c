"""Copy what is still readable out of a damaged database into a new one with the current schema.

The damaged file is opened read-only (``mode=ro``: never modified). For every table of the current schema, its
columns that the old file also has are copied row by row in rowid order: rowids are read in ranges of
:data:`CHUNK` and, when a range meets a damaged page, one rowid at a time, so one bad page costs only the rows
stored on it (a damaged interior page costs the rows below it). Rows that break a NOT NULL or CHECK constraint
(garbage read from a damaged page) are skipped. Chat messages whose conversation was lost get a conversation
"Recovered conversation"; other rows whose parent row was lost are dropped. Ids are kept, so undo entries and
references still match.

Errors:
    CorruptDatabaseError: not even the list of tables can be read (nothing to salvage).
    JarvisError: the new file cannot be written.
"""

from __future__ import annotations

import contextlib
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from jarvis_desktop.errors import BadInputError, JarvisError
from jarvis_desktop.store.db import Database, corrupt_error, map_sqlite_error

#: Rowids read per range query.
CHUNK = 256
#: Upper rowid scanned when neither ``max(rowid)`` nor ``sqlite_sequence`` can be read.
FALLBACK_MAX_ROWID = 1_000_000


@dataclass
class TableSalvage:
    """What was copied of one table: rows copied, rowids whose reads failed, rows skipped as invalid."""

    table: str
    copied: int = 0
    unreadable: int = 0
    invalid: int = 0
    error: str = ""

    def to_dict(self) -> dict[str, object]:
        """``{"table", "copied", "unreadable", "invalid", "error"}``."""
        return {
            "table": self.table,
            "copied": self.copied,
            "unreadable": self.unreadable,
            "invalid": self.invalid,
            "error": self.error,
        }


@dataclass
class SalvageReport:
    """Per-table results of :func:`salvage_database` and the new file's path."""

    output: Path
    tables: list[TableSalvage] = field(default_factory=list)

    @property
    def copied(self) -> int:
        """Rows copied in all tables."""
        return sum(t.copied for t in self.tables)


def _open_ro(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None)
    conn.execute("PRAGMA query_only = ON")
    return conn


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [str(row[1]) for row in conn.execute(f'PRAGMA table_info("{table}")').fetchall()]


def _max_rowid(src: sqlite3.Connection, table: str) -> int:
    with contextlib.suppress(sqlite3.Error):
        value = src.execute(f'SELECT max(rowid) FROM "{table}"').fetchone()[0]
        if value is not None:
            return int(value)
    with contextlib.suppress(sqlite3.Error):
        row = src.execute("SELECT seq FROM sqlite_sequence WHERE name = ?", (table,)).fetchone()
        if row is not None:
            return int(row[0])
    return FALLBACK_MAX_ROWID


def _insert_rows(dst: sqlite3.Connection, sql: str, rows: list[tuple[object, ...]], report: TableSalvage) -> None:
    try:
        with dst:
            dst.executemany(sql, rows)
        report.copied += len(rows)
        return
    except sqlite3.IntegrityError:
        pass
    for row in rows:
        try:
            with dst:
                dst.execute(sql, row)
            report.copied += 1
        except sqlite3.IntegrityError:
            report.invalid += 1


def _read_range(
    src: sqlite3.Connection, select: str, lo: int, hi: int, report: TableSalvage
) -> list[tuple[object, ...]]:
    try:
        return [tuple(r) for r in src.execute(select + " WHERE rowid BETWEEN ? AND ?", (lo, hi)).fetchall()]
    except sqlite3.DatabaseError:
        pass
    rows: list[tuple[object, ...]] = []
    for rowid in range(lo, hi + 1):
        try:
            rows.extend(tuple(r) for r in src.execute(select + " WHERE rowid = ?", (rowid,)).fetchall())
        except sqlite3.DatabaseError:
            report.unreadable += 1
    return rows


def _copy_table(src: sqlite3.Connection, dst: sqlite3.Connection, table: str) -> TableSalvage:
    report = TableSalvage(table)
    try:
        old = set(_columns(src, table))
    except sqlite3.DatabaseError as exc:
        report.error = str(exc)
        return report
    columns = [c for c in _columns(dst, table) if c in old]
    if not columns:
        report.error = "not in the damaged file" if not old else "no common columns"
        return report
    quoted = ", ".join(f'"{c}"' for c in columns)
    select = f'SELECT rowid, {quoted} FROM "{table}"'
    insert = f'INSERT OR IGNORE INTO "{table}" (rowid, {quoted}) VALUES ({", ".join("?" * (len(columns) + 1))})'
    top = _max_rowid(src, table)
    for lo in range(1, top + 1, CHUNK):
        rows = _read_range(src, select, lo, min(lo + CHUNK - 1, top), report)
        if rows:
            _insert_rows(dst, insert, rows, report)
    return report


def _repair_references(dst: sqlite3.Connection, reports: dict[str, TableSalvage]) -> None:
    """Give orphaned chat messages a conversation; drop other rows whose parent row was lost."""
    with dst:
        dst.execute(
            "INSERT INTO conversations (id, title, created_at, updated_at) "
            "SELECT conversation_id, 'Recovered conversation', MIN(created_at), MAX(created_at) FROM chat_messages "
            "WHERE conversation_id IS NOT NULL AND conversation_id NOT IN (SELECT id FROM conversations) "
            "GROUP BY conversation_id"
        )
        for table, rowid, _parent, _fk in dst.execute("PRAGMA foreign_key_check").fetchall():
            dst.execute(f'DELETE FROM "{table}" WHERE rowid = ?', (rowid,))
            if table in reports:
                reports[table].copied -= 1
                reports[table].invalid += 1


def salvage_database(source: Path, output: Path) -> SalvageReport:
    """Copy the readable rows of ``source`` (opened read-only, never modified) into a new database at ``output``
    (which must not exist) with the current schema; returns rows copied / unreadable / invalid per table.

    Raises:
        BadInputError: ``output`` exists already.
        CorruptDatabaseError: the damaged file's table list cannot be read at all.
        JarvisError: the new file cannot be written (full disk, read-only directory).
    """

    if output.exists():
        raise BadInputError(f"{output} exists already; salvage writes a new file")
    Database(output, backups=None).close()  # the current schema, every migration applied
    try:
        src = _open_ro(source)
    except sqlite3.Error as exc:
        output.unlink(missing_ok=True)
        raise corrupt_error(source, str(exc)) from exc
    dst = sqlite3.connect(str(output), isolation_level=None)
    try:
        dst.isolation_level = "DEFERRED"  # "with dst:" commits each batch
        dst.execute("PRAGMA foreign_keys = OFF")
        tables = [
            str(r[0])
            for r in dst.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY rowid"
            )
        ]
        try:
            src.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.DatabaseError as exc:
            raise corrupt_error(source, f"its table list is unreadable: {exc}") from exc
        reports = {table: _copy_table(src, dst, table) for table in tables}
        _repair_references(dst, reports)
    except sqlite3.Error as exc:
        raise map_sqlite_error(exc, output, "write to") from exc
    except JarvisError:
        dst.close()
        output.unlink(missing_ok=True)
        raise
    finally:
        src.close()
        dst.close()
    return SalvageReport(output, list(reports.values()))
