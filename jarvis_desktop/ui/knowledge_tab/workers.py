"""Engine-thread jobs of the Knowledge tab: hand over the Assistant's knowledge service, and find the conversation
of a cited chat message. They run between two turns on the window's engine thread (where the Assistant lives)."""

from __future__ import annotations

from PySide6.QtCore import Signal

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
        service = get().knowledge
        embedder = service.index.embedder
        if embedder is not None:
            embedder.embed(["warm up"])
        self.ready.emit(service)


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
