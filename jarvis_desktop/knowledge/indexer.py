"""The knowledge service: folders, records, search, and the background indexer (docs/knowledge.md, "Sources and the
background indexer").

:class:`KnowledgeService` is what the CLI, the Assistant and the window use:

* ``add_folder(path, progress)`` / ``rebuild(progress)`` index in the caller's thread before they return (the CLI);
* ``sync_records()`` brings notes, chat messages and schedule items in step (a cheap ``(id, mtime, size)`` diff);
* ``start_background(on_progress)`` starts one daemon thread (the window): it syncs the records and scans the
  folders at start, then follows them with watchdog (a changed file is re-indexed after :data:`DEBOUNCE_S`, a
  deleted one leaves the index), and works in small batches (:data:`BATCH_FILES` files) with a pause between
  them. It yields to the voice path: while ``busy()`` returns True (the Assistant's hook: a turn runs, or a voice
  session hears, transcribes or answers) no new file is started and a file being embedded stops before its next
  piece of :data:`~jarvis_desktop.knowledge.embedder.WORKER_PIECE` texts, going on where it stopped afterwards
  (still one write per document, after its embedding); after ``pause()`` no new file is started.
  ``request_sync()`` (after an action or a turn) asks it to sync the records at its next step without blocking
  the caller. Progress goes to ``on_progress`` as an
  :class:`~jarvis_desktop.knowledge.types.IndexStatus` (at most every :data:`PROGRESS_EVERY_S` and when it
  goes idle).

Files that cannot be indexed are kept with their reason (``status().problems``) in
``<data dir>/knowledge-problems.json`` and not retried until they change. A damaged index (its tables unreadable) is
cleared and rebuilt from the folders and records, which are its only source.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from jarvis_desktop.config import Settings
from jarvis_desktop.errors import BadInputError, JarvisError
from jarvis_desktop.knowledge.embedder import yielding
from jarvis_desktop.knowledge.extract import MAX_FILE_BYTES
from jarvis_desktop.knowledge.index import KnowledgeIndex
from jarvis_desktop.knowledge.sources import (
    RECORD_KINDS,
    SyncReport,
    folder_key,
    index_file,
    is_candidate,
    is_hidden,
    scan_folder,
    stat_file,
    sync_records,
    too_large_reason,
    under,
)
from jarvis_desktop.knowledge.types import FileProblem, IndexStatus, SearchHit
from jarvis_desktop.safe_write import write_atomically
from jarvis_desktop.store.db import Database

log = logging.getLogger(__name__)

#: files indexed per batch of the background indexer (a batch is never interrupted)
BATCH_FILES = 4
#: chunks embedded per step when the background indexer re-computes missing vectors
BATCH_CHUNKS = 32
#: seconds the background indexer sleeps between batches (leaves the CPU to the voice path and the GUI)
BATCH_PAUSE_S = 0.05
#: seconds a changed file must stay quiet before it is re-indexed (an editor's save is several events)
DEBOUNCE_S = 0.5
#: seconds between progress reports while working
PROGRESS_EVERY_S = 0.5
#: how often a paused or yielding indexer looks again (s)
POLL_S = 0.05
#: the problems file, beside the database
PROBLEMS_FILE = "knowledge-problems.json"

#: ``progress(done, total, path)``: files done of ``total`` in this pass, and the file just done
Progress = Callable[[int, int, str], None]


@dataclass
class _Skipped:
    reason: str
    mtime: float
    size: int


class KnowledgeService:
    """The index of the user's folders and records, kept in sync (see the module doc). Thread-safe.

    Args:
        db: the app's open database (migration 6 or later).
        settings: the user settings (``[embeddings]`` picks the model).
        index: an index to use (tests, benchmarks); None builds one on first use with the embedder of
            ``settings`` (BM25 only, with ``status().vectors_note`` saying why, when it cannot load). Building it
            is what loads torch: nothing here does so at construction.
        busy: the voice path's hook: while it returns True the background indexer starts no new file and embeds no
            new piece of the file in progress (it is called every :data:`POLL_S` meanwhile, and before each piece).

    Raises (from the methods):
        BadInputError: a folder that does not exist or is not a directory (CLI exit 2), an empty query.
        JarvisError: the database cannot be written (full, read-only, locked).
    """

    def __init__(
        self,
        db: Database,
        settings: Settings,
        *,
        index: KnowledgeIndex | None = None,
        busy: Callable[[], bool] | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.busy: Callable[[], bool] = busy or (lambda: False)
        self.max_bytes = MAX_FILE_BYTES
        self._index = index
        self._vectors_note = ""
        self._lock = threading.RLock()
        self._work_lock = threading.Lock()  # one pass over files at a time (CLI call or background batch)
        # one records sync at a time; apart from the files' lock, so a turn's sync never waits for a file in progress
        self._records_lock = threading.Lock()
        self._skipped: dict[str, _Skipped] = self._load_problems()
        self._pending: dict[str, float] = {}  # path -> not before (monotonic s): the debounced work list
        self._sync_wanted = False
        self._rescan_wanted = False
        self._paused = False
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._observer: Any = None
        self._on_progress: Callable[[IndexStatus], None] | None = None
        self._checked = False
        self._watched: list[str] = []  # the folders the watcher follows
        self._needs_reread = False
        self._fill_wanted = False

    # ---- the index ---------------------------------------------------------------------------------------------
    @property
    def index(self) -> KnowledgeIndex:
        """The :class:`~jarvis_desktop.knowledge.index.KnowledgeIndex` (built on first use; see the class doc)."""
        with self._lock:
            if self._index is None:
                from jarvis_desktop.knowledge.embedder import load_embedder

                embedder = None
                try:
                    embedder = load_embedder(self.settings.embeddings)
                except JarvisError as exc:  # sentence-transformers or the model missing: BM25 only
                    self._vectors_note = exc.user_message()
                    log.warning("knowledge index without vectors: %s", self._vectors_note)
                self._index = KnowledgeIndex(self.db, embedder)
            if not self._checked:
                self._checked = True
                self._check_index(self._index)
            return self._index

    def _check_index(self, index: KnowledgeIndex) -> None:
        """Note the repairs the index needs: re-reading every source when it was found damaged and emptied at open
        (``index.rebuilt``), re-computing vectors missing after a change of model. They are done by
        :meth:`repair` (the CLI's commands, the background indexer's first step), never here: the first caller
        may be the GUI's thread."""
        if index.rebuilt:
            log.warning("%s", index.rebuilt)
        with self._lock:
            self._needs_reread = bool(index.rebuilt)
            self._fill_wanted = index.vectors

    def repair(self) -> None:
        """Do the repairs noted when the index was opened (see :meth:`_check_index`), in the caller's thread."""
        index = self.index
        with self._lock:
            reread, self._needs_reread = self._needs_reread, False
            fill, self._fill_wanted = self._fill_wanted, False
        if reread:
            self._rebuild_from_scratch(index, None)
        if fill:
            with self._work_lock:
                index.fill_vectors()

    def search(self, query: str, k: int = 5, kinds: Collection[str] | None = None) -> list[SearchHit]:
        """The ``k`` best passages for ``query`` (hybrid BM25 + vectors; BM25 only without an embedder), best first.

        Raises:
            BadInputError: empty query, ``k`` < 1.
        """
        if not query or not query.strip():
            raise BadInputError("empty search: give some words to look for")
        if k < 1:
            raise BadInputError(f"k must be at least 1, not {k}")
        if not self.running:
            self.repair()
        return self.index.search(query, k=k, kinds=kinds)

    # ---- status ------------------------------------------------------------------------------------------------
    def status(self) -> IndexStatus:
        """Folders, counts, last update, pending files, paused, vectors and the skipped files with their reasons."""
        index = self.index
        files, records, chunks = index.counts()
        folders = index.folders()
        with self._lock:
            problems = [
                FileProblem(p, s.reason)
                for p, s in sorted(self._skipped.items())
                if any(under(p, f) for f in folders)  # a folder removed by another process: its problems go
            ]
            pending = len(self._pending)
            paused = self._paused
        return IndexStatus(
            folders=folders,
            files=files,
            records=records,
            chunks=chunks,
            last_update=index.last_update(),
            pending=pending,
            paused=paused,
            vectors=index.vectors,
            vectors_note=self._vectors_note or index.vectors_note,
            problems=problems,
        )

    # ---- records -----------------------------------------------------------------------------------------------
    def sync_records(self, kinds: Collection[str] = RECORD_KINDS) -> SyncReport:
        """Bring notes, chat messages and schedule items in step with the index now (in the caller's thread);
        the cost is one small query per kind when nothing changed. Returns what changed."""
        index = self.index
        if not self.running:
            self.repair()
        with self._records_lock:
            return sync_records(self.db, index, kinds)

    def request_sync(self) -> None:
        """Ask the background indexer to sync the records at its next step (returns at once; call it after an
        action or a turn). Without a running background indexer, syncs now."""
        if self._thread is None or not self._thread.is_alive():
            self.sync_records()
            return
        with self._lock:
            self._sync_wanted = True
        self._wake.set()

    # ---- folders -----------------------------------------------------------------------------------------------
    def add_folder(self, path: str | Path, progress: Progress | None = None) -> IndexStatus:
        """Add a folder and index it before returning (``progress(done, total, path)`` after each file).

        Raises:
            BadInputError: it does not exist or is not a directory.
        """
        folder = self._existing_folder(path)
        index = self.index
        self.repair()
        index.add_folder(folder)
        self.index_folder(folder, progress)
        self._watch(folder)
        return self.status()

    def queue_folder(self, path: str | Path) -> IndexStatus:
        """Add a folder for the running background indexer and return at once after a walk of it: its new and
        changed files are queued (``status().pending``; indexed in batches by the indexer's thread, paused or not
        as before) and the watcher follows it too (re-armed on every folder); the indexer itself is neither stopped
        nor restarted. Without a running background indexer the folder is only registered (``start_background``
        scans it).

        Raises:
            BadInputError: it does not exist or is not a directory.
        """
        folder = self._existing_folder(path)
        index = self.index
        index.add_folder(folder)
        if not self.running:
            return self.status()
        scan = scan_folder(folder, index.known("file"), self._skipped_keys(), self.max_bytes)
        with self._lock:
            for problem in scan.problems:
                found = stat_file(problem.path)
                self._skipped[problem.path] = _Skipped(problem.reason, *(found.key if found else (0.0, 0)))
            for todo in [*(f.path for f in scan.todo), *scan.removed]:  # a gone file leaves the index when taken
                self._pending.setdefault(todo, 0.0)
        self._restart_watch()
        self._wake.set()
        return self.status()

    def remove_folder(self, path: str | Path) -> int:
        """Forget a folder: its files leave the index (files also under another indexed folder stay). Returns
        the files removed.

        Raises:
            BadInputError: ``path`` is not an indexed folder.
        """
        folder = folder_key(path)
        index = self.index
        if folder not in index.folders():
            listed = ", ".join(index.folders()) or "none"
            raise BadInputError(f"{folder} is not an indexed folder (indexed: {listed})")
        with self._work_lock:
            removed = index.remove_folder(folder)
            with self._lock:
                self._skipped = {p: s for p, s in self._skipped.items() if not under(p, folder)}
                self._pending = {p: t for p, t in self._pending.items() if not under(p, folder)}
                self._save_problems()
        for other in index.folders():  # a folder inside another indexed one: the outer one keeps its files
            if under(folder, other):
                self.index_folder(other)
        self._restart_watch()
        return removed

    def index_folder(self, folder: str, progress: Progress | None = None) -> int:
        """(Re)index what changed in ``folder`` (absolute) now: new and modified files indexed, deleted ones removed,
        unchanged ones left alone. Returns the files indexed."""
        index = self.index
        with self._work_lock:
            scan = scan_folder(folder, index.known("file"), self._skipped_keys(), self.max_bytes)
            for source_id in scan.removed:
                index.remove(source_id)
            with self._lock:
                for problem in scan.problems:
                    found = stat_file(problem.path)
                    self._skipped[problem.path] = _Skipped(problem.reason, *(found.key if found else (0.0, 0)))
            done = 0
            for n, f in enumerate(scan.todo, 1):
                done += self._index_one(index, f.path)
                if progress is not None:
                    progress(n, len(scan.todo), f.path)
            self._save_problems()
            return done

    def rebuild(self, progress: Progress | None = None) -> IndexStatus:
        """Clear the index and index every folder and record again (a changed embedding model, a damaged index)."""
        index = self.index
        with self._lock:
            self._needs_reread = False
        self._rebuild_from_scratch(index, progress)
        return self.status()

    def _rebuild_from_scratch(self, index: KnowledgeIndex, progress: Progress | None) -> None:
        folders = index.folders()
        with self._work_lock, self._records_lock:
            index.clear()  # keeps the folder list
            with self._lock:
                self._skipped.clear()
            sync_records(self.db, index)
        for folder in folders:
            if Path(folder).is_dir():
                self.index_folder(folder, progress)

    def _existing_folder(self, path: str | Path) -> str:
        p = Path(path).expanduser()
        if not p.exists():
            raise BadInputError(f"no such folder: {p}")
        if not p.is_dir():
            raise BadInputError(f"not a folder: {p} (index add takes a directory)")
        return folder_key(p)

    def _index_one(self, index: KnowledgeIndex, path: str) -> int:
        """Index one file (or remove it when gone); 1 when indexed, 0 when skipped (with its reason kept)."""
        found = stat_file(path)
        if found is None:
            index.remove(path)
            with self._lock:
                self._skipped.pop(path, None)
            return 0
        try:
            if found.size > self.max_bytes:
                raise BadInputError(too_large_reason(found.size, self.max_bytes))
            index_file(index, path, self.max_bytes)
        except BadInputError as exc:
            index.remove(path)  # an indexed file that turned bad leaves the index
            with self._lock:
                self._skipped[path] = _Skipped(exc.user_message(), found.mtime, found.size)
            return 0
        with self._lock:
            self._skipped.pop(path, None)
        return 1

    # ---- problems file -----------------------------------------------------------------------------------------
    def _problems_path(self) -> Path | None:
        return self.db.path.parent / PROBLEMS_FILE if isinstance(self.db.path, Path) else None

    def _load_problems(self) -> dict[str, _Skipped]:
        path = self._problems_path()
        if path is None or not path.is_file():
            return {}
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return {str(p): _Skipped(str(v["reason"]), float(v["mtime"]), int(v["size"])) for p, v in data.items()}
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            return {}  # a damaged problems file: the files are simply tried again

    def _save_problems(self) -> None:
        path = self._problems_path()
        if path is None:
            return
        with self._lock:
            data = {p: {"reason": s.reason, "mtime": s.mtime, "size": s.size} for p, s in self._skipped.items()}
        try:
            write_atomically(path, json.dumps(data, ensure_ascii=False, indent=1))
        except JarvisError as exc:  # the list is shown from memory; not being able to keep it is no reason to stop
            log.warning("cannot write %s: %s", path, exc.user_message())

    def _skipped_keys(self) -> dict[str, tuple[float, int]]:
        with self._lock:
            return {p: (s.mtime, s.size) for p, s in self._skipped.items()}

    # ---- the background indexer --------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        """True while the background indexer's thread runs."""
        return self._thread is not None and self._thread.is_alive()

    @property
    def paused(self) -> bool:
        """True after :meth:`pause` until :meth:`resume`."""
        return self._paused

    def start_background(self, on_progress: Callable[[IndexStatus], None] | None = None, *, watch: bool = True) -> None:
        """Start the background indexer (once; a second call only replaces ``on_progress``). It syncs the records
        and scans every folder first, then follows changes (``watch``: with watchdog). ``on_progress`` is called
        from its thread: a GUI must hand the status over to its own thread."""
        self._on_progress = on_progress
        if self.running:
            return
        self._stop.clear()
        with self._lock:
            self._sync_wanted = True
            self._rescan_wanted = True
        self._thread = threading.Thread(target=self._run, name="knowledge-indexer", daemon=True)
        self._thread.start()
        if watch:
            self._restart_watch()

    def pause(self) -> None:
        """Stop starting new files until :meth:`resume` (a file in progress finishes; changes keep being noted)."""
        with self._lock:
            self._paused = True
        self._report(force=True)

    def resume(self) -> None:
        """Go on after :meth:`pause`."""
        with self._lock:
            self._paused = False
        self._wake.set()
        self._report(force=True)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the watcher and the background thread (waits up to ``timeout`` s for the piece being embedded; a
        file not written yet is left for the next start's walk)."""
        self._stop.set()
        self._wake.set()
        self._stop_watch()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def request_rescan(self) -> None:
        """Ask the background indexer to walk every folder again (e.g. after the watcher lost events)."""
        with self._lock:
            self._rescan_wanted = True
        self._wake.set()

    def note_change(self, path: str) -> None:
        """A file under an indexed folder was created, changed or deleted: re-index (or remove) it after
        :data:`DEBOUNCE_S`. Called by the watcher; callers may use it too."""
        if not is_candidate(path) or not self._followed(path):
            return
        with self._lock:
            self._pending[path] = time.monotonic() + DEBOUNCE_S
        self._wake.set()

    def _followed(self, path: str) -> bool:
        """True when ``path`` is in a watched folder and not inside one of its hidden directories (.git, .cache ...),
        which the walk skips too."""
        folder = next((f for f in self._watched if under(path, f)), None)
        return folder is not None and not any(is_hidden(p) for p in Path(path).relative_to(folder).parts)

    def _voice_busy(self) -> bool:
        try:
            return bool(self.busy())
        except Exception:  # a broken hook must not stop the indexer; take it as "not busy"
            return False

    def _yielding(self) -> bool:
        return self._paused or self._voice_busy()

    def _wait_for_voice(self) -> None:
        """The gate before each piece a background file or vector fill embeds (:func:`~.embedder.yielding`):
        returns at once when the voice path is free, else waits until it is (``pause()`` does not hold a file
        midway: it waits for the next file). Raises :class:`_Stopped` after :meth:`stop`."""
        while not self._stop.is_set() and self._voice_busy():
            self._stop.wait(POLL_S)
        if self._stop.is_set():
            raise _Stopped

    def _requeue(self, paths: list[str]) -> None:
        with self._lock:  # due at once
            for path in paths:
                self._pending.setdefault(path, 0.0)

    def _run(self) -> None:
        last = 0.0
        while not self._stop.is_set():
            if self._yielding():
                self._stop.wait(POLL_S)
                continue
            try:
                worked = self._step()
            except Exception as exc:  # the indexer must survive anything: report it and try again later
                log.exception("knowledge indexer: %s", exc)
                worked = False
                self._stop.wait(1.0)
            now = time.monotonic()
            if worked and now - last >= PROGRESS_EVERY_S:
                last = now
                self._report()
            if worked:
                self._stop.wait(BATCH_PAUSE_S)
                continue
            if last:
                self._report(force=True)
                last = 0.0
            self._wake.wait(self._next_due())
            self._wake.clear()

    def _next_due(self) -> float:
        with self._lock:
            if not self._pending:
                return 1.0
            return max(0.0, min(min(self._pending.values()) - time.monotonic(), 1.0))

    def _step(self) -> bool:
        """One unit of background work; True when something was done."""
        index = self.index
        with self._lock:
            reread, self._needs_reread = self._needs_reread, False
            sync, self._sync_wanted = self._sync_wanted, False
            rescan, self._rescan_wanted = self._rescan_wanted, False
        if reread:
            with self._work_lock, self._records_lock:
                index.clear()
            sync = rescan = True
        if self._fill_wanted and not reread:
            try:
                with self._work_lock, yielding(self._wait_for_voice):
                    filled = _fill_one_batch(index)
            except _Stopped:
                return False
            if filled == 0:
                self._fill_wanted = False
            else:
                return True
        if sync:
            with self._records_lock:  # yields to a voice turn between records; the rest at the next step
                report = sync_records(self.db, index, should_stop=lambda: self._stop.is_set() or self._yielding())
            if not report.complete:
                with self._lock:
                    self._sync_wanted = True
        if rescan:
            self._queue_scans()
        batch = self._take_batch()
        for n, path in enumerate(batch):
            if self._stop.is_set() or self._yielding():
                self._requeue(batch[n:])
                break
            try:  # the voice path holds the file's embedding between pieces; the document is written once, after it
                with self._work_lock, yielding(self._wait_for_voice):
                    self._index_one(index, path)
            except _Stopped:  # nothing of this file was written
                self._requeue(batch[n:])
                break
        if batch:
            self._save_problems()
        return bool(sync or rescan or batch)

    def _queue_scans(self) -> None:
        """Walk every folder; queue new and changed files, remove deleted ones."""
        index = self.index
        for folder in index.folders():
            if not Path(folder).is_dir():
                continue  # a folder on an unmounted disk: its files stay until it is removed
            scan = scan_folder(folder, index.known("file"), self._skipped_keys(), self.max_bytes)
            with self._work_lock:
                for source_id in scan.removed:
                    index.remove(source_id)
            with self._lock:
                for problem in scan.problems:
                    found = stat_file(problem.path)
                    self._skipped[problem.path] = _Skipped(problem.reason, *(found.key if found else (0.0, 0)))
                for f in scan.todo:
                    self._pending.setdefault(f.path, 0.0)

    def _take_batch(self) -> list[str]:
        now = time.monotonic()
        with self._lock:
            due = [p for p, t in self._pending.items() if t <= now][:BATCH_FILES]
            for p in due:
                del self._pending[p]
        return due

    def _report(self, force: bool = False) -> None:
        callback = self._on_progress
        if callback is None:
            return
        try:
            callback(self.status())
        except Exception as exc:  # the listener's failure is not the indexer's
            log.warning("knowledge progress listener failed: %s", exc)

    # ---- watchdog ----------------------------------------------------------------------------------------------
    def _watch(self, folder: str) -> None:
        if self.running:
            self._restart_watch()

    def _restart_watch(self) -> None:
        """(Re)start the watcher on every indexed folder (only while the background indexer runs)."""
        self._stop_watch()
        if not self.running:
            return
        observer = Observer()
        handler = _Handler(self)
        watched = 0
        self._watched = self.index.folders()
        for folder in self._watched:
            try:
                observer.schedule(handler, folder, recursive=True)
                watched += 1
            except OSError as exc:  # missing, or the inotify watch limit reached: the rescan at start still runs
                log.warning("cannot watch %s: %s", folder, exc)
        if watched:
            observer.daemon = True
            observer.start()
            self._observer = observer

    def _stop_watch(self) -> None:
        observer, self._observer = self._observer, None
        if observer is not None:
            observer.stop()
            observer.join(5.0)


class _Stopped(Exception):
    """Ends a background embedding at its next piece after :meth:`KnowledgeService.stop` (nothing is written)."""


class _OneBatch(Exception):
    """Ends :meth:`KnowledgeIndex.fill_vectors` after its first batch (each batch is committed on its own)."""


def _stop_after_one_batch(done: int, total: int) -> None:
    raise _OneBatch


def _fill_one_batch(index: KnowledgeIndex) -> int:
    """Embed up to :data:`BATCH_CHUNKS` chunks that have no vector; returns how many (0: none left)."""
    try:
        return index.fill_vectors(batch=BATCH_CHUNKS, progress=_stop_after_one_batch)
    except _OneBatch:
        return BATCH_CHUNKS


class _Handler(FileSystemEventHandler):
    """watchdog events -> :meth:`KnowledgeService.note_change` (files) or a rescan (directories)."""

    def __init__(self, service: KnowledgeService) -> None:
        super().__init__()
        self.service = service

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed_no_write"):
            return
        paths = [event.src_path, getattr(event, "dest_path", "")]
        for raw in paths:
            path = raw.decode() if isinstance(raw, bytes) else str(raw or "")
            if not path:
                continue
            if event.is_directory:
                if event.event_type in ("moved", "deleted", "created") and self.service._followed(path):
                    self.service.request_rescan()
                continue
            self.service.note_change(path)
