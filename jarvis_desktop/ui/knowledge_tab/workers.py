"""Engine-thread jobs of the Knowledge tab: hand over the Assistant's knowledge service, and find the conversation
of a cited chat message. They run between two turns on the window's engine thread (where the Assistant lives)."""

from __future__ import annotations

import logging
import threading

from PySide6.QtCore import Signal

from jarvis_desktop.knowledge.embedder import Embedder, WorkerEmbedder
from jarvis_desktop.ui.workers import AssistantGetter, Worker


class KnowledgeServiceWorker(Worker):
    """``Assistant.knowledge`` with its embedding model loaded and used once, on the engine thread after the other
    models loaded (the window's Assistant runs the model in a child process; in process, torch would be imported
    here rather than by the background indexer while another thread imports: two threads importing heavy
    libraries at once can crash the process), then ``ready(object)``
    with the :class:`~jarvis_desktop.knowledge.indexer.KnowledgeService`, which the tab's controller uses from its
    own threads (the database connection is thread-safe). Without sentence-transformers the index is BM25 only."""

    ready = Signal(object)

    def execute(self, get: AssistantGetter) -> None:
        assistant = get()
        service = assistant.knowledge
        embedder = service.index.embedder
        if isinstance(embedder, WorkerEmbedder):
            # the child process loads torch and the model (seconds): it is started here (starting imports
            # multiprocessing's modules, which only this thread may do) and waited for on a thread of its own, so
            # the engine thread is free for the user's next command at once
            embedder.start_loading()
            threading.Thread(target=_warm, args=(embedder,), name="jarvis-embedder-warm", daemon=True).start()
        elif embedder is not None:
            embedder.embed(["warm up"])  # in process: torch is imported here, not beside another import
        self.ready.emit(service)


def _warm(embedder: Embedder) -> None:
    """Load the embedding model by embedding one text; a failure is logged (a search reports it clearly)."""
    try:
        embedder.embed(["warm up"])
    except Exception as exc:  # a thread's last resort: the search path raises the clear error
        logging.getLogger(__name__).warning("the embedding model did not load: %s", exc)


class ChatSourceWorker(Worker):
    """The conversation holding chat message ``message_id``: ``found(int)`` with its id (nothing when the message
    is gone or has no conversation)."""

    found = Signal(int)

    def __init__(self, message_id: int) -> None:
        super().__init__()
        self.message_id = message_id

    def execute(self, get: AssistantGetter) -> None:
        record = get().history.get(self.message_id)
        if record is not None and record.conversation_id is not None:
            self.found.emit(int(record.conversation_id))
