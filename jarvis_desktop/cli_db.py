"""``jarvis-desktop db check|backup|restore [BACKUP]|salvage``: the app database's health, backups and repair.

* ``check``: ``PRAGMA quick_check`` (``--full``: ``integrity_check``) on the file opened read-only, and the
  backups. Exit 0 when sound, 2 (CorruptDatabaseError, with the fix commands) when damaged.
* ``backup``: a backup now (``<data dir>/backups/jarvis-YYYYmmdd-HHMMSS.sqlite3``), keeping the newest ``--keep``.
* ``restore [BACKUP]``: the newest backup (or the one named) replaces the database; the current file is moved
  aside to ``jarvis.sqlite3.corrupt-<UTC time>`` (``.replaced-`` when it was sound), never deleted.
* ``salvage``: the readable rows of the damaged file go into a new database with the current schema, which then
  replaces it (the damaged file moved aside as by ``restore``); ``--output FILE`` only writes the new file.
  Prints rows recovered per table.

Close the Jarvis window before ``restore`` or ``salvage``: a running window keeps using the file it opened.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from jarvis_desktop.cli_common import print_json
from jarvis_desktop.config import database_path
from jarvis_desktop.errors import BadInputError
from jarvis_desktop.store.backup import (
    DEFAULT_KEEP,
    KEEP_ENV,
    BackupPolicy,
    backup_dir,
    file_problem,
    list_backups,
    move_aside,
    resolve_backup,
    restore_backup,
    take_backup,
)
from jarvis_desktop.store.db import corrupt_error, map_sqlite_error
from jarvis_desktop.store.salvage import salvage_database


def add_parser(sub: argparse._SubParsersAction[Any]) -> None:
    """Register the ``db`` sub-command (check, backup, restore, salvage) on the CLI's sub-parsers."""
    s = sub.add_parser("db", help="check, back up, restore or salvage the database (notes, reminders, chat)")
    db_sub = s.add_subparsers(dest="db_command", parser_class=type(s), required=True, metavar="COMMAND")
    c = db_sub.add_parser("check", help="is the database sound? which backups exist?")
    c.add_argument("--full", action="store_true", help="PRAGMA integrity_check (slower) instead of quick_check")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_check)
    b = db_sub.add_parser("backup", help="back the database up now")
    b.add_argument("--keep", type=int, default=None, help=f"backups kept (default: ${KEEP_ENV} or {DEFAULT_KEEP})")
    b.set_defaults(func=cmd_backup)
    r = db_sub.add_parser("restore", help="replace the database by a backup (the current file is kept aside)")
    r.add_argument("backup", nargs="?", metavar="BACKUP", help="a backup's file name or path (default: the newest)")
    r.set_defaults(func=cmd_restore)
    v = db_sub.add_parser("salvage", help="copy the readable rows of a damaged database into a new one")
    v.add_argument("--output", metavar="FILE", help="write the new database here and leave the current one in place")
    v.add_argument("--json", action="store_true")
    v.set_defaults(func=cmd_salvage)


def _check(path: Path, full: bool) -> tuple[str, float]:
    """(problem or "", seconds) for the file at ``path``, opened read-only."""
    if not full:
        t0 = time.perf_counter()
        return file_problem(path), time.perf_counter() - t0
    t0 = time.perf_counter()
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            rows = [str(r[0]) for r in conn.execute("PRAGMA integrity_check").fetchall()]
        finally:
            conn.close()
    except sqlite3.Error as exc:
        return str(exc), time.perf_counter() - t0
    bad = [r for r in rows if r != "ok"]
    return "; ".join(bad[:3]), time.perf_counter() - t0


def cmd_check(args: argparse.Namespace) -> int:
    """``db check``: 0 when sound; CorruptDatabaseError (exit 2) when damaged."""
    path = database_path()
    backups = list_backups(backup_dir(path))
    if not path.exists():
        print(f"{path}: not created yet")
        return 0
    problem, seconds = _check(path, args.full)
    if args.json:
        print_json(
            {
                "path": str(path),
                "size_bytes": path.stat().st_size,
                "ok": not problem,
                "problem": problem,
                "check_ms": round(seconds * 1000, 1),
                "backups": [
                    {"path": str(b.path), "taken_at": b.taken_at.isoformat(), "size_bytes": b.size_bytes}
                    for b in backups
                ],
            }
        )
        return 2 if problem else 0
    if problem:
        raise corrupt_error(path, problem)
    kind = "integrity_check" if args.full else "quick_check"
    print(f"{path}: ok ({path.stat().st_size / 1e6:.1f} MB, {kind} {seconds * 1000:.0f} ms)")
    _print_backups(backups)
    return 0


def _print_backups(backups: list[Any]) -> None:
    if not backups:
        print("backups: none yet (one is made when Jarvis opens the database, once a day)")
        return
    now = datetime.now(timezone.utc)
    print(f"backups ({len(backups)}), newest first:")
    for info in backups:
        print(f"  {info.describe(now)}")


def cmd_backup(args: argparse.Namespace) -> int:
    """``db backup``: refuses a damaged database (CorruptDatabaseError): a backup of it would be no backup."""
    path = database_path()
    keep = BackupPolicy.for_database(path).keep if args.keep is None else args.keep
    if keep < 1:
        raise BadInputError(f"--keep must be at least 1, not {keep}")
    if not path.exists():
        raise BadInputError(f"there is no database yet at {path}")
    problem = file_problem(path)
    if problem:
        raise corrupt_error(path, problem)
    t0 = time.perf_counter()
    try:
        source = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise map_sqlite_error(exc, path, "open") from exc
    try:
        info = take_backup(source, backup_dir(path), keep=keep)
    finally:
        source.close()
    print(f"backed up to {info.path} ({info.size_bytes / 1e6:.1f} MB, {(time.perf_counter() - t0) * 1000:.0f} ms)")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    """``db restore [BACKUP]``: the newest (or named) backup replaces the database; the old file is kept aside."""
    path = database_path()
    info = resolve_backup(path, args.backup)
    aside = restore_backup(path, info)
    print(f"restored {path} from {info.path.name} (taken {info.taken_at:%Y-%m-%d %H:%M} UTC)")
    if aside is not None:
        print(f"the previous file was kept as {aside}")
    return 0


def cmd_salvage(args: argparse.Namespace) -> int:
    """``db salvage [--output FILE]``: rows recovered per table; installs the new file unless ``--output``."""
    path = database_path()
    if not path.exists():
        raise BadInputError(f"there is no database at {path}")
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    output = Path(args.output).expanduser() if args.output else path.with_name(f".{path.name}.salvage-{stamp}")
    report = salvage_database(path, output)
    aside = None
    if not args.output:
        aside = move_aside(path)
        os.replace(output, path)
        for suffix in ("-wal", "-shm"):
            side = output.with_name(output.name + suffix)
            if side.exists():
                os.replace(side, path.with_name(path.name + suffix))
    if args.json:
        print_json(
            {
                "output": str(path if not args.output else output),
                "aside": str(aside or ""),
                "tables": [t.to_dict() for t in report.tables],
            }
        )
        return 0
    for table in report.tables:
        if table.copied or table.unreadable or table.invalid or table.error:
            lost = f", {table.unreadable} unreadable" if table.unreadable else ""
            lost += f", {table.invalid} invalid" if table.invalid else ""
            lost += f" ({table.error})" if table.error else ""
            print(f"{table.table}: {table.copied} rows recovered{lost}")
    if args.output:
        print(f"wrote {output}; the database {path} was left as it was")
    else:
        print(f"{path} now holds the {report.copied} recovered rows; the damaged file was kept as {aside}")
    return 0
