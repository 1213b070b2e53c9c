"""Qt side of the knowledge service: every call runs on a worker thread, results come back as signals.

:class:`KnowledgeController` is handed the Assistant's
:class:`~jarvis_desktop.knowledge.indexer.KnowledgeService` (:meth:`set_service`, once the engine thread built it;
calls made before are queued) and starts its background indexer, whose progress (an
:class:`~jarvis_desktop.knowledge.types.IndexStatus`, reported from the indexer's thread) is re-emitted as
``status_changed``, which Qt queues to the GUI thread. Folder changes, pause/resume and status run on one worker
thread; searches on another, so a search never waits behind a folder change. Adding a folder only registers it:
the background indexer indexes it in small batches and yields while a turn runs. Nothing here blocks the GUI
thread (:meth:`close` returns at once). Adding or removing a folder never stops or restarts the background
indexer: its queue, progress and pause state carry on.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from jarvis_desktop.errors import BadInputError, JarvisError
from jarvis_desktop.knowledge.indexer import KnowledgeService
from jarvis_desktop.knowledge.types import IndexStatus
from jarvis_desktop.ui.workers import describe_error

#: search results asked for by the tab's search box
SEARCH_K = 10


class KnowledgeController(QObject):
    """Signals (all delivered on the GUI thread): ``status_changed(IndexStatus)``; ``results(str, list)`` a query
    and its :class:`~jarvis_desktop.knowledge.types.SearchHit` list; ``failed(str)`` an action that could not be
    done; ``ready()`` once the service is set.

    Args:
        background: start the service's background indexer when it is set (the window does; a test may not).
    """

    status_changed = Signal(object)
    results = Signal(str, list)
    failed = Signal(str)
    ready = Signal()

    def __init__(self, background: bool = True, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.background = background
        self.service: KnowledgeService | None = None
        self._waiting: list[tuple[ThreadPoolExecutor, Callable[[], Any], Callable[[Any], None] | None]] = []
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="jarvis-knowledge-ui")
        self._search_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="jarvis-knowledge-search")
        self._closed = False

    # ---- plumbing -------------------------------------------------------------------------------------------
    def _run(
        self, fn: Callable[[], Any], on_ok: Callable[[Any], None] | None = None, pool: ThreadPoolExecutor | None = None
    ) -> None:
        if self._closed:
            return
        executor = pool or self._pool
        if self.service is None:
            self._waiting.append((executor, fn, on_ok))
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

        executor.submit(task)

    def _need(self) -> KnowledgeService:
        assert self.service is not None  # _run queues calls until the service is set
        return self.service

    def _on_progress(self, status: IndexStatus) -> None:
        """The background indexer's report (its thread): handed to the GUI thread by the queued signal."""
        if not self._closed:
            self.status_changed.emit(status)

    # ---- API (GUI thread; each returns at once) ---------------------------------------------------------------
    def set_service(self, service: KnowledgeService) -> None:
        """Use ``service``: start its background indexer (when ``background``), run the queued calls, read the
        status."""
        if self._closed or self.service is not None:
            return
        self.service = service
        if self.background:
            self._run(lambda: service.start_background(self._on_progress))
        waiting, self._waiting = self._waiting, []
        for pool, fn, on_ok in waiting:
            self._run(fn, on_ok, pool)
        self.refresh()
        self.ready.emit()

    def refresh(self) -> None:
        """Read the index status (``status_changed``)."""
        self._run(lambda: self._need().status(), self.status_changed.emit)

    def add_folder(self, path: str | Path) -> None:
        """Add a folder. With the background indexer running it is walked and its files queued for that indexer
        (which goes on with its work, paused or not: nothing restarts; progress on ``status_changed``); without
        one it is indexed on the worker thread before the status is sent.

        ``failed`` gets a folder that does not exist or is not a directory."""

        def add() -> IndexStatus:
            service = self._need()
            folder = Path(path).expanduser()
            if not folder.is_dir():
                raise BadInputError(f"not a folder: {folder}" if folder.exists() else f"no such folder: {folder}")
            if service.running:
                return service.queue_folder(folder)
            return service.add_folder(folder)

        self._run(add, self.status_changed.emit)

    def remove_folder(self, path: str) -> None:
        """Forget a folder: its files leave the index (the background indexer, if running, goes on with the
        other folders' work)."""

        def remove() -> IndexStatus:
            service = self._need()
            service.remove_folder(path)
            return service.status()

        self._run(remove, self.status_changed.emit)

    def set_paused(self, paused: bool) -> None:
        """Pause or resume the background indexer."""
        service_call = (lambda: self._need().pause()) if paused else (lambda: self._need().resume())
        self._run(lambda: (service_call(), self._need().status())[1], self.status_changed.emit)

    def search(self, query: str) -> None:
        """Search the index (``results(query, hits)``; ``failed`` for an empty query)."""
        self._run(
            lambda: self._need().search(query, k=SEARCH_K),
            lambda hits: self.results.emit(query, list(hits)),
            self._search_pool,
        )

    def close(self) -> None:
        """Stop taking calls (the Assistant stops the background indexer when the engine closes); returns at once."""
        self._closed = True
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._search_pool.shutdown(wait=False, cancel_futures=True)
