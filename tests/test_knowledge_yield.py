"""The background indexer yields to the voice path (issue 15): while the busy hook says busy no further document is
written and a long file stops embedding within one piece of 8 texts; once it clears, everything is indexed, each
document exactly once. The Assistant's hook also counts a voice session's checks.

Real SQLite files, real files in tmp, the real indexer thread. The first test runs BM25 only (no torch); the
second embeds with the real all-MiniLM-L6-v2 in this process, counting the pieces it embeds.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from jarvis_desktop.assistant import Assistant
from jarvis_desktop.config import EmbeddingSettings, Settings
from jarvis_desktop.knowledge.embedder import WORKER_PIECE, Embedder, load_embedder
from jarvis_desktop.knowledge.extract import extract_document
from jarvis_desktop.knowledge.index import KnowledgeIndex
from jarvis_desktop.knowledge.indexer import KnowledgeService
from jarvis_desktop.knowledge.types import Document
from jarvis_desktop.store.db import Database

TOPICS = ["boiler", "garden", "invoice", "lease", "bicycle", "passport", "dentist", "recipe", "insurance", "train"]


class CountingIndex(KnowledgeIndex):
    """The real index, noting which document each upsert (one transaction) wrote; ``on_upsert`` runs after it."""

    def __init__(self, db: Database, embedder: Embedder | None = None) -> None:
        super().__init__(db, embedder)
        self.written: list[str] = []
        self.on_upsert: Callable[[int], None] = lambda n: None

    def upsert(self, doc: Document) -> int:
        chunks = super().upsert(doc)
        self.written.append(doc.source_id)
        self.on_upsert(len(self.written))
        return chunks


def _wait_for(check: Callable[[], bool], timeout: float) -> None:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout} s")


def _small_files(folder: Path, n: int) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        topic = TOPICS[i % len(TOPICS)]
        path = folder / f"{i:02d}_{topic}.txt"
        path.write_text(f"Note {i} about the {topic}: item number {1000 + i} is kept in drawer {i % 7}.\n")
        paths.append(str(path.resolve()))
    return paths


def test_busy_hook_holds_new_documents_and_everything_is_indexed_once(tmp_path: Path) -> None:
    db = Database(tmp_path / "jarvis.sqlite3", backups=None)
    index = CountingIndex(db)  # BM25 only
    busy = threading.Event()
    service = KnowledgeService(db, Settings(), index=index, busy=busy.is_set)
    paths = _small_files(tmp_path / "docs", 24)
    index.add_folder(str((tmp_path / "docs").resolve()))
    index.on_upsert = lambda n: busy.set() if n == 5 else None  # a turn starts while the 5th file is written
    try:
        service.start_background(watch=False)
        _wait_for(lambda: len(index.written) >= 5, 30)
        time.sleep(1.5)
        assert len(index.written) == 5  # nothing further while busy
        assert len(index.known("file")) == 5
        assert service.status().pending == 24 - 5  # the rest waits, none lost
        busy.clear()
        _wait_for(lambda: len(index.known("file")) == 24 and service.status().pending == 0, 30)
        assert sorted(index.written) == sorted(paths)  # each file written exactly once
        hits = service.search("drawer item 1017", k=1)
        assert hits and hits[0].source_id.endswith("17_recipe.txt")
    finally:
        service.stop()
        db.close()


@pytest.mark.slow
def test_a_long_file_stops_within_one_piece_and_is_finished_once(tmp_path: Path) -> None:
    pieces: list[int] = []  # texts per piece of the long file, in the indexer thread
    busy = threading.Event()

    class PieceCounter(Embedder):
        """The real model; counts the pieces of the long file and starts a 'turn' during its second."""

        def _embed_piece(self, items: list[str], batch_size: int) -> np.ndarray:
            if threading.current_thread().name == "knowledge-indexer" and "Lighthouse" in items[0]:
                pieces.append(len(items))
                if len(pieces) == 2:
                    busy.set()
            return super()._embed_piece(items, batch_size)

    base = load_embedder(EmbeddingSettings())
    embedder = PieceCounter(base.path, base.name)
    db = Database(tmp_path / "jarvis.sqlite3", backups=None)
    index = CountingIndex(db, embedder)
    service = KnowledgeService(db, Settings(), index=index, busy=busy.is_set)
    docs = tmp_path / "docs"
    small = _small_files(docs, 3)
    sections = [
        f"## Section {i}: the {TOPICS[i % 10]}\n\n"
        + " ".join(f"The keeper checks the {TOPICS[(i + j) % 10]} log {i}-{j} at dawn and dusk." for j in range(12))
        for i in range(40)
    ]
    long_file = docs / "lighthouse.md"
    long_file.write_text("# Lighthouse handbook\n\n" + "\n\n".join(sections) + "\n", encoding="utf-8")
    chunks = len(extract_document(long_file).chunks)
    assert chunks >= 3 * WORKER_PIECE
    index.add_folder(str(docs.resolve()))
    try:
        embedder.load()
        service.start_background(watch=False)
        _wait_for(lambda: busy.is_set(), 60)
        written = len(index.written)
        time.sleep(2.0)
        assert pieces == [WORKER_PIECE, WORKER_PIECE]  # the third piece waits for the voice path
        assert len(index.written) == written  # no document written while busy
        assert str(long_file.resolve()) not in index.known("file")
        t0 = time.monotonic()
        assert service.search("keeper log at dawn", k=1)  # a query embeds meanwhile: the model is not held
        assert time.monotonic() - t0 < 5.0
        busy.clear()
        _wait_for(lambda: len(index.known("file")) == 4 and service.status().pending == 0, 120)
        assert sum(pieces) == chunks and len(pieces) == math.ceil(chunks / WORKER_PIECE)  # not embedded again
        assert sorted(index.written) == sorted([*small, str(long_file.resolve())])  # one write per document
        stored = db.query(
            "SELECT COUNT(c.id), COUNT(v.chunk_id) FROM knowledge_chunks c JOIN knowledge_documents d"
            " ON d.id = c.document_id LEFT JOIN knowledge_vectors v ON v.chunk_id = c.id WHERE d.source_id = ?",
            (str(long_file.resolve()),),
        )
        assert tuple(stored[0]) == (chunks, chunks)
        assert service.search("keeper checks the passport log", k=1, kinds=["file"])[0].source_id.endswith(
            "lighthouse.md"
        )
    finally:
        service.stop()
        db.close()


def test_the_assistants_busy_hook_counts_voice_session_checks(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("JARVIS_DESKTOP_HOME", str(tmp_path / "home"))
    assistant = Assistant(Settings(), record_history=False)
    try:
        service = assistant.knowledge
        assert service.busy() is False
        hearing = threading.Event()
        remove = assistant.add_busy_check(hearing.is_set)
        assert service.busy() is False
        hearing.set()
        assert service.busy() is True
        remove()
        remove()  # twice is harmless
        assert service.busy() is False
    finally:
        assistant.close()
