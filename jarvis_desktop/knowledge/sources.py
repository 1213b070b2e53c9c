"""What the index holds and how it is kept in step with its sources (docs/knowledge.md, "Sources and the background
indexer").

* **The app's records**: notes (not deleted), chat messages (the user's and Jarvis's, not empty) and schedule items
  (not cancelled) become :class:`~jarvis_desktop.knowledge.types.Document`\\ s through
  :func:`~jarvis_desktop.knowledge.extract.record_document`. :func:`sync_records` is a cheap diff: one small query
  per kind gives each record's ``(id, mtime, size)`` (``size`` = the UTF-8 bytes of its indexed text, so an edited
  message is seen), compared with ``index.known(kind)``; only new or changed records are read and embedded, and
  records gone from the database (deleted notes, cancelled items, regenerated replies) leave the index.
* **Folders**: :func:`scan_folder` walks a folder (hidden directories and files skipped, only
  :data:`~jarvis_desktop.knowledge.extract.SUPPORTED_SUFFIXES`), compares each file's ``(mtime, size)`` with the
  index and lists what to (re)index and what to remove. :func:`index_file` indexes one file; a file that cannot be
  indexed (unreadable, binary, too large, malformed) raises :class:`~jarvis_desktop.errors.BadInputError` whose
  message is the reason, and the caller records a :class:`~jarvis_desktop.knowledge.types.FileProblem` and goes on.

No Qt, no heavy import here.
"""

from __future__ import annotations

import dataclasses
import os
import stat
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

from jarvis_desktop.errors import BadInputError
from jarvis_desktop.knowledge.extract import MAX_FILE_BYTES, SUPPORTED_SUFFIXES, extract_document, record_document
from jarvis_desktop.knowledge.types import Document, FileProblem
from jarvis_desktop.store.db import Database

#: the record kinds kept in sync from the app's own tables
RECORD_KINDS = ("note", "chat", "schedule")

#: words of a record's text that make its title
TITLE_WORDS = 8


class IndexLike(Protocol):
    """What this module needs of :class:`~jarvis_desktop.knowledge.index.KnowledgeIndex`."""

    def upsert(self, doc: Document) -> int: ...

    def remove(self, source_id: str) -> bool: ...

    def known(self, kind: str | None = None) -> dict[str, tuple[float, int]]: ...


# ---- the app's records -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RecordText:
    """One record as indexed: ``kind`` (note/chat/schedule), ``record_id``, its ``text`` and ``title``, ``created``
    (aware UTC) and ``mtime`` (POSIX seconds of its last change known to the table)."""

    kind: str
    record_id: int
    text: str
    title: str
    created: datetime | None
    mtime: float

    @property
    def source_id(self) -> str:
        """The index key, ``"<kind>:<id>"``."""
        return f"{self.kind}:{self.record_id}"

    @property
    def size(self) -> int:
        """UTF-8 bytes of :attr:`text` (the ``size`` half of the diff key)."""
        return len(self.text.encode("utf-8"))

    def document(self) -> Document:
        """The :class:`Document` to index (``size`` = :attr:`size`)."""
        doc = record_document(self.kind, self.record_id, self.text, self.title, self.created, self.mtime)
        return dataclasses.replace(doc, size=self.size)


@dataclass
class SyncReport:
    """What :func:`sync_records` did: records ``added``, ``updated`` (changed since indexed), ``removed`` (gone from
    the database), ``chunks`` written, ``problems`` (a record that could not be indexed, with why), and
    ``complete`` (False: ended early by ``should_stop``; the next pass goes on)."""

    added: int = 0
    updated: int = 0
    removed: int = 0
    chunks: int = 0
    problems: list[FileProblem] = field(default_factory=list)
    complete: bool = True

    @property
    def changed(self) -> bool:
        """True when the index changed."""
        return bool(self.added or self.updated or self.removed)


def _stamp(text: str | None) -> float:
    """A stored ISO 8601 time as POSIX seconds (0.0 for None or an unreadable value)."""
    if not text:
        return 0.0
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return 0.0
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def _created(text: str | None) -> datetime | None:
    stamp = _stamp(text)
    return datetime.fromtimestamp(stamp, timezone.utc) if stamp else None


def title_of(text: str, words: int = TITLE_WORDS) -> str:
    """The first ``words`` words of ``text`` (with "..." when cut): a record's title."""
    parts = text.split()
    head = " ".join(parts[:words])
    return head + ("..." if len(parts) > words else "")


def _in_clause(ids: Iterable[int]) -> tuple[str, list[int]]:
    values = [int(i) for i in ids]
    return ", ".join("?" * len(values)), values


def _batched(values: list[str], size: int = 500) -> Iterable[list[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _note_stamps(db: Database) -> dict[str, tuple[float, int]]:
    rows = db.query(
        "SELECT id, created_at, length(CAST(text AS BLOB)) AS n FROM notes"
        " WHERE deleted_at IS NULL AND trim(text) != ''"
    )
    return {f"note:{r['id']}": (_stamp(r["created_at"]), int(r["n"])) for r in rows}


def _note_texts(db: Database, ids: list[int]) -> list[RecordText]:
    marks, params = _in_clause(ids)
    rows = db.query(f"SELECT id, text, created_at FROM notes WHERE id IN ({marks})", params)
    return [
        RecordText(
            "note", int(r["id"]), r["text"], title_of(r["text"]), _created(r["created_at"]), _stamp(r["created_at"])
        )
        for r in rows
    ]


_CHAT_WHERE = "role IN ('user', 'assistant') AND trim(content) != ''"


def _chat_stamps(db: Database) -> dict[str, tuple[float, int]]:
    rows = db.query(f"SELECT id, created_at, length(CAST(content AS BLOB)) AS n FROM chat_messages WHERE {_CHAT_WHERE}")
    return {f"chat:{r['id']}": (_stamp(r["created_at"]), int(r["n"])) for r in rows}


def _chat_texts(db: Database, ids: list[int]) -> list[RecordText]:
    marks, params = _in_clause(ids)
    rows = db.query(
        f"SELECT id, role, content, created_at FROM chat_messages WHERE id IN ({marks}) AND {_CHAT_WHERE}", params
    )
    out = []
    for r in rows:
        who = "You" if r["role"] == "user" else "Jarvis"
        title = f"{who}: {title_of(r['content'])}"
        out.append(
            RecordText("chat", int(r["id"]), r["content"], title, _created(r["created_at"]), _stamp(r["created_at"]))
        )
    return out


def schedule_text(row: Any) -> str:
    """A schedule item (a ``scheduled_items`` row: sqlite3.Row or a mapping) as indexed text, e.g.
    "Reminder: call mom. Due Tuesday 08 December 2026, 09:00 CET. At home." (the system's local time)."""
    head = str(row["kind"]).capitalize()
    title = str(row["title"] or "").strip()
    parts = [f"{head}: {title}" if title else head]
    due = _created(row["due_at"])
    if due is not None:
        fmt = "%A %d %B %Y" if row["all_day"] else "%A %d %B %Y, %H:%M %Z"
        parts.append(f"Due {due.astimezone().strftime(fmt)}")
    end = _created(row["end_at"])
    if end is not None:
        parts.append(f"Ends {end.astimezone().strftime('%A %d %B %Y, %H:%M %Z')}")
    if row["status"] == "fired":
        parts.append("Done")
    for key, label in (("location", "At"), ("description", "Notes:"), ("source_text", "Asked as:")):
        value = str(row[key] or "").strip()
        if value:
            parts.append(f"{label} {value}")
    return ". ".join(parts) + "."


def _schedule_all(db: Database) -> dict[str, RecordText]:
    rows = db.query("SELECT * FROM scheduled_items WHERE status != 'cancelled'")
    out: dict[str, RecordText] = {}
    for r in rows:
        text = schedule_text(r)
        mtime = max(_stamp(r["created_at"]), _stamp(r["fired_at"]))
        title = f"{str(r['kind']).capitalize()}: {title_of(str(r['title'] or ''))}".rstrip(": ")
        rec = RecordText("schedule", int(r["id"]), text, title, _created(r["created_at"]), mtime)
        out[rec.source_id] = rec
    return out


def record_stamps(db: Database, kind: str) -> dict[str, tuple[float, int]]:
    """``source_id -> (mtime, size)`` of every record of ``kind`` that belongs in the index.

    Raises:
        BadInputError: ``kind`` is not one of :data:`RECORD_KINDS`.
    """
    if kind == "note":
        return _note_stamps(db)
    if kind == "chat":
        return _chat_stamps(db)
    if kind == "schedule":
        return {sid: (rec.mtime, rec.size) for sid, rec in _schedule_all(db).items()}
    raise BadInputError(f"unknown record kind {kind!r}; expected one of {', '.join(RECORD_KINDS)}")


def record_texts(db: Database, kind: str, source_ids: Iterable[str]) -> list[RecordText]:
    """The records of ``kind`` named by ``source_ids`` (``"<kind>:<id>"``), read from the database."""
    wanted = [s for s in source_ids if s.startswith(kind + ":")]
    if not wanted:
        return []
    if kind == "schedule":
        every = _schedule_all(db)
        return [every[s] for s in wanted if s in every]
    reader = _note_texts if kind == "note" else _chat_texts
    out: list[RecordText] = []
    for part in _batched(wanted):
        out.extend(reader(db, [int(s.split(":", 1)[1]) for s in part]))
    return out


def _same(a: tuple[float, int], b: tuple[float, int]) -> bool:
    return abs(a[0] - b[0]) < 1e-6 and int(a[1]) == int(b[1])


def sync_records(
    db: Database,
    index: IndexLike,
    kinds: Iterable[str] = RECORD_KINDS,
    should_stop: Callable[[], bool] | None = None,
) -> SyncReport:
    """Bring the index's records of ``kinds`` in step with the database (see the module doc): new and changed
    records are (re)indexed, records gone from the database are removed. ``should_stop`` (checked between records)
    ends the pass early; the next pass finishes it.

    Returns:
        A :class:`SyncReport`. A record that cannot be indexed is reported in ``problems``, never raised.

    Raises:
        JarvisError: the database cannot be read or written (damaged, locked, full disk).
    """
    report = SyncReport()
    for kind in kinds:
        current = record_stamps(db, kind)
        known = index.known(kind)
        for source_id in known.keys() - current.keys():
            if index.remove(source_id):
                report.removed += 1
        todo = [sid for sid, stamp in current.items() if sid not in known or not _same(known[sid], stamp)]
        for rec in record_texts(db, kind, todo):
            if should_stop is not None and should_stop():
                report.complete = False
                return report
            try:
                report.chunks += index.upsert(rec.document())
            except BadInputError as exc:
                report.problems.append(FileProblem(rec.source_id, exc.user_message()))
                continue
            if rec.source_id in known:
                report.updated += 1
            else:
                report.added += 1
    return report


# ---- folders -----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FileStamp:
    """A file found in a folder: absolute ``path``, ``mtime`` (POSIX seconds), ``size`` (bytes)."""

    path: str
    mtime: float
    size: int

    @property
    def key(self) -> tuple[float, int]:
        """``(mtime, size)``, the incremental-index key."""
        return (self.mtime, self.size)


@dataclass
class FolderScan:
    """What :func:`scan_folder` found: ``todo`` files new or changed since indexed (to index), ``removed`` indexed
    files no longer there (source ids), ``problems`` files skipped at the walk (too large, unreadable directory),
    ``unchanged`` files already indexed as they are."""

    todo: list[FileStamp] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    problems: list[FileProblem] = field(default_factory=list)
    unchanged: int = 0


def folder_key(path: str | Path) -> str:
    """The absolute, normalised form of a folder path as stored (``~`` expanded, symlinks resolved)."""
    return str(Path(path).expanduser().resolve())


def is_hidden(name: str) -> bool:
    """A dot file or directory (skipped by the walk and by the watcher)."""
    return name.startswith(".")


def is_candidate(path: str | Path) -> bool:
    """A file name the walk would index: a supported suffix, not hidden."""
    p = Path(path)
    return not is_hidden(p.name) and p.suffix.lower() in SUPPORTED_SUFFIXES


def under(path: str, folder: str) -> bool:
    """True when ``path`` is ``folder`` or inside it (both absolute)."""
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def too_large_reason(size: int, max_bytes: int = MAX_FILE_BYTES) -> str:
    """The skip reason for a file over ``max_bytes``."""
    return f"too large: {size / 2**20:.1f} MB (the limit is {max_bytes / 2**20:.0f} MB)"


def stat_file(path: str | Path) -> FileStamp | None:
    """The :class:`FileStamp` of a regular file (symlinks followed), or None when it is gone or not a file."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode):
        return None
    return FileStamp(str(path), st.st_mtime, st.st_size)


def walk_folder(folder: str | Path, max_bytes: int = MAX_FILE_BYTES) -> tuple[list[FileStamp], list[FileProblem]]:
    """Every indexable file under ``folder`` (recursive; hidden directories and files and unsupported suffixes
    skipped; symlinked directories not followed), sorted by path, and the files skipped at the walk with why:
    over ``max_bytes``, or a directory that cannot be listed."""
    files: list[FileStamp] = []
    problems: list[FileProblem] = []

    def on_error(exc: OSError) -> None:
        problems.append(FileProblem(str(exc.filename or folder), f"unreadable: {exc.strerror or exc}"))

    for root, dirs, names in os.walk(folder, onerror=on_error):
        dirs[:] = sorted(d for d in dirs if not is_hidden(d))
        for name in sorted(names):
            if not is_candidate(name):
                continue
            found = stat_file(os.path.join(root, name))
            if found is None:
                continue
            if found.size > max_bytes:
                problems.append(FileProblem(found.path, too_large_reason(found.size, max_bytes)))
                continue
            files.append(found)
    return files, problems


def scan_folder(
    folder: str,
    known: Mapping[str, tuple[float, int]],
    skipped: Mapping[str, tuple[float, int]] | None = None,
    max_bytes: int = MAX_FILE_BYTES,
) -> FolderScan:
    """Compare ``folder`` (absolute, see :func:`folder_key`) with what the index knows.

    Args:
        known: ``index.known("file")`` (``path -> (mtime, size)``); entries outside ``folder`` are ignored.
        skipped: files that failed before, with the ``(mtime, size)`` they had then: left out of ``todo`` while
            unchanged (a binary file is not re-read at every pass).
        max_bytes: larger files are skipped with a reason.
    """
    skipped = skipped or {}
    files, problems = walk_folder(folder, max_bytes)
    scan = FolderScan(problems=problems)
    on_disk = {f.path for f in files}
    scan.removed = sorted(p for p in known if under(p, folder) and p not in on_disk)
    too_large = {p.path for p in problems}
    scan.removed.extend(p for p in too_large if p in known)
    for f in files:
        before = known.get(f.path)
        if before is not None and _same(before, f.key):
            scan.unchanged += 1
        elif f.path in skipped and _same(skipped[f.path], f.key):
            continue
        else:
            scan.todo.append(f)
    return scan


def index_file(index: IndexLike, path: str, max_bytes: int = MAX_FILE_BYTES) -> int:
    """Extract and (re)index one file; returns chunks written.

    Raises:
        BadInputError: the file cannot be indexed; the message is the reason (unreadable, binary, too large,
            malformed, unsupported type, or an extractor failure of any kind).
    """
    try:
        doc = extract_document(Path(path), max_bytes=max_bytes)
    except BadInputError:
        raise
    except MemoryError as exc:
        raise BadInputError("too large to read into memory") from exc
    except Exception as exc:  # a malformed file must never stop the index: any extractor failure is a reason
        raise BadInputError(f"malformed: {type(exc).__name__}: {exc}") from exc
    return index.upsert(doc)
