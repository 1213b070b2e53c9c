"""Automatic and manual backups of the app's SQLite database, and restoring one.

* A backup is a whole copy made with SQLite's online backup API (``sqlite3.Connection.backup``: a consistent
  snapshot even while another connection writes), switched to rollback-journal mode so it is one
  self-contained file: ``<data dir>/backups/jarvis-YYYYmmdd-HHMMSS.sqlite3`` (UTC). It is written under a
  temporary name and renamed into place, so a killed process never leaves a half backup under a backup's name.
* :class:`~jarvis_desktop.store.db.Database` takes one when it opens the app's database, at most once every
  :data:`DEFAULT_EVERY_HOURS` hours and only after the file passed ``PRAGMA quick_check``; the newest
  :data:`DEFAULT_KEEP` are kept. ``JARVIS_BACKUP_KEEP`` (0 = no automatic backups) and
  ``JARVIS_BACKUP_EVERY_HOURS`` (0 = on every open) change both.
* :func:`restore_backup` never deletes the current file: it is renamed aside
  (``jarvis.sqlite3.corrupt-YYYYmmdd-HHMMSS`` when damaged, ``jarvis.sqlite3.replaced-...`` otherwise) with its
  ``-wal`` and ``-shm`` files, then the backup is copied into place.

Errors:
    BadInputError: a backup to restore is missing, unreadable or itself damaged.
    JarvisError: the backup directory cannot be written (full disk, read-only).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from jarvis_desktop.errors import BadInputError, JarvisError

log = logging.getLogger(__name__)

BACKUP_DIR_NAME = "backups"
DEFAULT_KEEP = 3
DEFAULT_EVERY_HOURS = 24.0
KEEP_ENV = "JARVIS_BACKUP_KEEP"
EVERY_ENV = "JARVIS_BACKUP_EVERY_HOURS"
#: An automatic backup is skipped when it would leave less than this free (it must never fill the disk).
MIN_FREE_AFTER_BYTES = 64 * 1024 * 1024
_NAME = re.compile(r"^jarvis-(\d{8}-\d{6})(?:-(\d+))?\.sqlite3$")
_STAMP = "%Y%m%d-%H%M%S"


@dataclass(frozen=True)
class BackupPolicy:
    """When :class:`~jarvis_desktop.store.db.Database` backs up on open: into ``directory``, when the newest
    backup there is older than ``every_hours`` (0 = every open), keeping the newest ``keep`` (0 = never)."""

    directory: Path
    keep: int = DEFAULT_KEEP
    every_hours: float = DEFAULT_EVERY_HOURS

    @classmethod
    def for_database(cls, db_path: Path) -> BackupPolicy:
        """The policy for ``db_path``: ``backups/`` beside it, counts from the environment or the defaults."""
        return cls(backup_dir(db_path), keep=_env_number(KEEP_ENV, DEFAULT_KEEP), every_hours=_env_hours())


def _env_number(name: str, default: int) -> int:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        return max(0, int(text))
    except ValueError:
        log.warning("%s=%r is not a whole number; using %d", name, text, default)
        return default


def _env_hours() -> float:
    text = os.environ.get(EVERY_ENV, "").strip()
    try:
        value = float(text) if text else DEFAULT_EVERY_HOURS
    except ValueError:
        log.warning("%s=%r is not a number; using %g", EVERY_ENV, text, DEFAULT_EVERY_HOURS)
        return DEFAULT_EVERY_HOURS
    return value if value >= 0 and value == value else DEFAULT_EVERY_HOURS


@dataclass(frozen=True)
class BackupInfo:
    """One backup file: its path, when it was taken (UTC, from its name) and its size in bytes."""

    path: Path
    taken_at: datetime
    size_bytes: int

    def describe(self, now: datetime | None = None) -> str:
        """``"jarvis-20261207-111900.sqlite3 (5.8 MB, 3 h ago)"``."""
        age = (now or datetime.now(timezone.utc)) - self.taken_at
        hours = age.total_seconds() / 3600
        when = (
            f"{hours * 60:.0f} min ago"
            if hours < 1
            else f"{hours:.0f} h ago"
            if hours < 48
            else f"{hours / 24:.0f} days ago"
        )
        return f"{self.path.name} ({self.size_bytes / 1e6:.1f} MB, {when})"


def backup_dir(db_path: Path) -> Path:
    """Where the backups of ``db_path`` go: ``<its directory>/backups``."""
    return db_path.parent / BACKUP_DIR_NAME


def list_backups(directory: Path) -> list[BackupInfo]:
    """The backups in ``directory``, newest first (files named ``jarvis-YYYYmmdd-HHMMSS[-N].sqlite3``)."""
    found: list[tuple[datetime, int, BackupInfo]] = []
    try:
        entries = list(directory.iterdir())
    except OSError:
        return []
    for path in entries:
        match = _NAME.match(path.name)
        if not match or not path.is_file():
            continue
        taken = datetime.strptime(match.group(1), _STAMP).replace(tzinfo=timezone.utc)
        found.append((taken, int(match.group(2) or 0), BackupInfo(path, taken, path.stat().st_size)))
    found.sort(key=lambda item: (item[0], item[1]), reverse=True)
    return [info for _, _, info in found]


def backup_due(policy: BackupPolicy, now: datetime | None = None) -> bool:
    """True when the newest backup in ``policy.directory`` is older than ``policy.every_hours`` (or none)."""
    if policy.keep <= 0:
        return False
    backups = list_backups(policy.directory)
    if not backups:
        return True
    return (now or datetime.now(timezone.utc)) - backups[0].taken_at >= timedelta(hours=policy.every_hours)


def _free_name(directory: Path, now: datetime) -> Path:
    """``jarvis-<stamp>.sqlite3``, or ``jarvis-<stamp>-N.sqlite3`` with N above every N taken in that second
    (so the name order is the time order even after rotation deleted the first one)."""
    stamp = now.astimezone(timezone.utc).strftime(_STAMP)
    taken = [b for b in list_backups(directory) if b.path.name.startswith(f"jarvis-{stamp}")]
    if not taken and not (directory / f"jarvis-{stamp}.sqlite3").exists():
        return directory / f"jarvis-{stamp}.sqlite3"
    highest = max((int(_NAME.match(b.path.name).group(2) or 1) for b in taken), default=1)  # type: ignore[union-attr]
    return directory / f"jarvis-{stamp}-{highest + 1}.sqlite3"


def take_backup(
    source: sqlite3.Connection, directory: Path, keep: int = DEFAULT_KEEP, now: datetime | None = None
) -> BackupInfo:
    """Copy the database open on ``source`` into a new backup file in ``directory`` and keep the newest ``keep``.

    Raises:
        JarvisError: the directory cannot be created or written (read-only, full disk); no partial file is left.
    """
    when = now or datetime.now(timezone.utc)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise JarvisError(f"cannot create the backup directory {directory}: {exc.strerror or exc}") from exc
    target = _free_name(directory, when)
    tmp = directory / f".{target.name}.tmp"
    try:
        dest = sqlite3.connect(str(tmp), isolation_level=None)
        try:
            source.backup(dest)
            dest.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
        finally:
            dest.close()
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except (OSError, sqlite3.Error) as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        free = shutil.disk_usage(directory).free if directory.exists() else 0
        raise JarvisError(f"cannot write the backup {target}: {exc} ({free / 1e6:.0f} MB free)") from exc
    rotate(directory, keep)
    return BackupInfo(target, when.astimezone(timezone.utc).replace(microsecond=0), target.stat().st_size)


def rotate(directory: Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` backups (at least one is always kept); returns the deleted paths."""
    removed = []
    for info in list_backups(directory)[max(1, keep) :]:
        with contextlib.suppress(OSError):
            info.path.unlink()
            removed.append(info.path)
    return removed


def maybe_backup(source: sqlite3.Connection, policy: BackupPolicy, now: datetime | None = None) -> BackupInfo | None:
    """The automatic backup on open: one when due (see :func:`backup_due`) and when it leaves at least
    :data:`MIN_FREE_AFTER_BYTES` free, else None. Never raises: a failure is logged (the app keeps working on its
    database; ``doctor`` shows how old the newest backup is)."""
    try:
        if not backup_due(policy, now):
            return None
        pages, page_size = (source.execute(f"PRAGMA {name}").fetchone()[0] for name in ("page_count", "page_size"))
        free = shutil.disk_usage(policy.directory.parent).free
        if free < pages * page_size + MIN_FREE_AFTER_BYTES:
            log.warning("automatic database backup skipped: only %.0f MB free", free / 1e6)
            return None
        return take_backup(source, policy.directory, policy.keep, now)
    except (JarvisError, OSError, sqlite3.Error) as exc:
        log.warning("automatic database backup skipped: %s", exc)
        return None


def file_problem(path: Path) -> str:
    """Why the SQLite file at ``path`` is damaged ("" when ``PRAGMA quick_check`` passes). Opened read-only:
    the file is never modified."""
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None)
    except sqlite3.Error as exc:
        return str(exc)
    try:
        rows = conn.execute("PRAGMA quick_check").fetchall()
    except sqlite3.Error as exc:
        return str(exc)
    finally:
        conn.close()
    problems = [str(r[0]) for r in rows if str(r[0]) != "ok"]
    return "; ".join(problems[:3]) + (f" (and {len(problems) - 3} more)" if len(problems) > 3 else "")


def _aside_name(db_path: Path, kind: str, now: datetime) -> Path:
    stamp = now.astimezone(timezone.utc).strftime(_STAMP)
    path = db_path.with_name(f"{db_path.name}.{kind}-{stamp}")
    n = 2
    while path.exists():
        path = db_path.with_name(f"{db_path.name}.{kind}-{stamp}-{n}")
        n += 1
    return path


def move_aside(db_path: Path, now: datetime | None = None) -> Path | None:
    """Rename ``db_path`` (and its ``-wal`` / ``-shm``) to ``<name>.corrupt-<UTC time>`` when it is damaged, else
    ``<name>.replaced-<UTC time>``; never deletes anything. Returns the new path (None when there was no file).

    Raises:
        JarvisError: the rename failed (the file stays where it was).
    """
    if not db_path.exists():
        return None
    kind = "corrupt" if file_problem(db_path) else "replaced"
    aside = _aside_name(db_path, kind, now or datetime.now(timezone.utc))
    try:
        os.rename(db_path, aside)
        for suffix in ("-wal", "-shm"):
            side = db_path.with_name(db_path.name + suffix)
            if side.exists():
                os.rename(side, aside.with_name(aside.name + suffix))
    except OSError as exc:
        raise JarvisError(f"cannot move {db_path} aside: {exc.strerror or exc}") from exc
    return aside


def resolve_backup(db_path: Path, name: str | None) -> BackupInfo:
    """The backup ``name`` names (a path, or a file name in the backup directory), or the newest one.

    Raises:
        BadInputError: there is no such backup, or none at all.
    """
    directory = backup_dir(db_path)
    backups = list_backups(directory)
    if not name:
        if not backups:
            raise BadInputError(
                f"there is no backup in {directory}", hint="jarvis-desktop db salvage recovers what is readable"
            )
        return backups[0]
    path = Path(name).expanduser()
    if not path.is_file():
        path = directory / name
    if not path.is_file():
        listed = ", ".join(b.path.name for b in backups) or "none"
        raise BadInputError(f"no backup {name!r} (backups in {directory}: {listed})")
    match = _NAME.match(path.name)
    taken = (
        datetime.strptime(match.group(1), _STAMP).replace(tzinfo=timezone.utc)
        if match
        else datetime.fromtimestamp(path.stat().st_mtime, timezone.utc)
    )
    return BackupInfo(path, taken, path.stat().st_size)


def restore_backup(db_path: Path, backup: BackupInfo, now: datetime | None = None) -> Path | None:
    """Put a copy of ``backup`` in place of ``db_path``; the current file is moved aside first (see
    :func:`move_aside`), never deleted. Close the window and other commands using the database first.

    Returns:
        Where the previous file now is (None when there was none).

    Raises:
        BadInputError: the backup itself is damaged (nothing was moved).
        JarvisError: a rename or the copy failed (the previous file is left, or put back, in place).
    """
    problem = file_problem(backup.path)
    if problem:
        raise BadInputError(f"the backup {backup.path} is damaged too ({problem}); nothing was changed")
    tmp = db_path.with_name(f".{db_path.name}.restore.tmp")
    try:
        shutil.copyfile(backup.path, tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise JarvisError(f"cannot copy {backup.path} next to {db_path}: {exc.strerror or exc}") from exc
    aside = move_aside(db_path, now)
    try:
        os.replace(tmp, db_path)
    except OSError as exc:
        if aside is not None:
            with contextlib.suppress(OSError):
                os.rename(aside, db_path)
        raise JarvisError(f"cannot put the backup in place at {db_path}: {exc.strerror or exc}") from exc
    return aside
