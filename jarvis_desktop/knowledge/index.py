"""The knowledge index inside the app's SQLite database (migration 6 in store/db.py).

Tables: ``knowledge_documents`` (one row per file or record, keyed by ``source_id``), ``knowledge_chunks`` (text
and citation place), ``knowledge_fts`` (FTS5, porter + unicode61 tokenizer, rowid = chunk id; BM25 ranking),
``knowledge_vectors`` (one float32 unit vector per chunk, little-endian BLOB), ``knowledge_folders``,
``knowledge_meta`` (embedding model name, a change counter, the last update).

Vector search is exact (brute force): the vectors are loaded once into a numpy matrix and a query is one
matrix-vector product (about 10 ms for 100k chunks x 384 dimensions here; docs/knowledge.md compares it with
sqlite-vec and usearch). The matrix follows this process's writes incrementally; a write by another process
(the CLI while the GUI runs) bumps the change counter and the matrix is reloaded at the next search.

Everything here is derived from the files and records, so damage is repaired, never fatal: a missing table is
re-created (documents/chunks lost: the index starts empty and :attr:`KnowledgeIndex.rebuilt` says why, so the
indexer re-reads the sources), a damaged or out-of-step full-text table is rebuilt from the chunks, and vectors
of the wrong size or from another model are dropped and re-computed by :meth:`KnowledgeIndex.fill_vectors`.
"""

from __future__ import annotations

import contextlib
import logging
import re
import sqlite3
import threading
from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from jarvis_desktop.errors import BadInputError, JarvisError
from jarvis_desktop.knowledge import retrieve
from jarvis_desktop.knowledge.embedder import NO_VECTORS_NOTE, Embedder
from jarvis_desktop.knowledge.types import KINDS, Document, Location, SearchHit
from jarvis_desktop.store import db as db_module
from jarvis_desktop.store.db import Database

log = logging.getLogger(__name__)

TABLES = (
    "knowledge_folders",
    "knowledge_documents",
    "knowledge_chunks",
    "knowledge_vectors",
    "knowledge_fts",
    "knowledge_meta",
)
_KIND_CODE = {kind: i for i, kind in enumerate(KINDS)}
_OTHER_KIND = len(KINDS)
#: chunks embedded per batch by :meth:`KnowledgeIndex.fill_vectors`
FILL_BATCH = 64


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


def _ddl(table: str) -> list[str]:
    """The migration's CREATE statements for ``table`` (the table and its indexes), the schema's one source."""
    pattern = re.compile(r"\b(TABLE|ON)\s+" + re.escape(table) + r"\b", re.IGNORECASE)
    out: list[str] = []
    for script in db_module.MIGRATIONS:
        out.extend(
            s for s in db_module._split_sql(script) if s.lstrip().upper().startswith("CREATE") and pattern.search(s)
        )
    return out


def embedding_text(title: str, heading: str, text: str) -> str:
    """What is embedded for a chunk: its document's title and heading path, then its text."""
    head = " > ".join(p for p in (title.strip(), heading.strip()) if p)
    return f"{head}\n{text}" if head else text


class _Vectors:
    """This process's copy of the vectors: ids ascending, a matrix with spare rows, a live mask, kind codes."""

    def __init__(self, dim: int, ids: np.ndarray, mat: np.ndarray, kinds: np.ndarray) -> None:
        self.dim = dim
        self.n = len(ids)
        cap = max(1024, int(self.n * 1.25))
        self.ids = np.zeros(cap, dtype=np.int64)
        self.mat = np.zeros((cap, dim), dtype=np.float32)
        self.kinds = np.zeros(cap, dtype=np.int8)
        self.alive = np.zeros(cap, dtype=bool)
        self.ids[: self.n], self.mat[: self.n], self.kinds[: self.n] = ids, mat, kinds
        self.alive[: self.n] = True
        self.dead = 0

    def _grow(self, extra: int) -> None:
        need = self.n + extra
        if need <= len(self.ids):
            return
        cap = max(need, int(len(self.ids) * 1.5))
        for name in ("ids", "kinds", "alive"):
            old = getattr(self, name)
            new = np.zeros(cap, dtype=old.dtype)
            new[: self.n] = old[: self.n]
            setattr(self, name, new)
        mat = np.zeros((cap, self.dim), dtype=np.float32)
        mat[: self.n] = self.mat[: self.n]
        self.mat = mat

    def remove(self, ids: Iterable[int]) -> None:
        wanted = np.fromiter(ids, dtype=np.int64)
        if not len(wanted) or not self.n:
            return
        pos = np.searchsorted(self.ids[: self.n], wanted)
        pos = pos[pos < self.n]
        pos = pos[np.isin(self.ids[pos], wanted) & self.alive[pos]]
        self.alive[pos] = False
        self.dead += len(pos)
        if self.dead > 1024 and self.dead > self.n // 4:
            keep = self.alive[: self.n]
            ids, mat, kinds = self.ids[: self.n][keep], self.mat[: self.n][keep], self.kinds[: self.n][keep]
            self.__init__(self.dim, ids, mat, kinds)  # type: ignore[misc]

    def add(self, ids: np.ndarray, mat: np.ndarray, kind: int) -> None:
        if not len(ids):
            return
        if self.n and ids.min() <= self.ids[self.n - 1]:  # ids are AUTOINCREMENT: new ones are always larger
            raise JarvisError("knowledge index: chunk ids out of order")
        self._grow(len(ids))
        end = self.n + len(ids)
        self.ids[self.n : end], self.mat[self.n : end], self.kinds[self.n : end] = ids, mat, kind
        self.alive[self.n : end] = True
        self.n = end

    def top(self, query: np.ndarray, n: int, kinds: Collection[str] | None) -> list[tuple[int, float]]:
        if not self.n:
            return []
        scores = self.mat[: self.n] @ query.astype(np.float32)
        mask = self.alive[: self.n]
        if kinds is not None:
            codes = [_KIND_CODE.get(k, _OTHER_KIND) for k in kinds]
            mask = mask & np.isin(self.kinds[: self.n], codes)
        scores = np.where(mask, scores, -np.inf)
        live = int(mask.sum())
        n = min(n, live)
        if n <= 0:
            return []
        best = np.argpartition(-scores, n - 1)[:n] if n < self.n else np.arange(self.n)
        best = best[np.argsort(-scores[best], kind="stable")][:n]
        return [(int(self.ids[i]), float(scores[i])) for i in best]

    def lookup(self, query: np.ndarray, ids: Sequence[int]) -> dict[int, float]:
        if not self.n or not ids:
            return {}
        wanted = np.asarray(ids, dtype=np.int64)
        pos = np.searchsorted(self.ids[: self.n], wanted)
        out: dict[int, float] = {}
        for cid, p in zip(ids, pos, strict=True):
            if p < self.n and self.ids[p] == cid and self.alive[p]:
                out[int(cid)] = float(self.mat[p] @ query)
        return out


class KnowledgeIndex:
    """Documents, their chunks, full text and vectors in the app's database.

    Args:
        db: the open app :class:`Database` (schema version >= 6).
        embedder: the sentence embedder; None = BM25 only (no vectors are written or searched; see
            :attr:`vectors_note`). A different model than the one the stored vectors came from drops them
            (:meth:`fill_vectors` re-computes them).

    Attributes:
        rebuilt: "" normally; else why the index was found damaged and emptied at open (the indexer should then
            re-read every source).
        repaired: what was repaired at open without losing documents ("" if nothing).

    Thread-safe: the database's lock serialises SQL; a lock of its own guards the in-memory vectors.
    Raises JarvisError (CorruptDatabaseError) when the database itself is damaged or read-only.
    """

    def __init__(self, db: Database, embedder: Embedder | None = None) -> None:
        if db.user_version < 6:
            raise JarvisError(f"the database {db.path} has no knowledge tables (schema version {db.user_version})")
        self.db = db
        self.embedder = embedder
        self.rebuilt = ""
        self.repaired = ""
        self._lock = threading.RLock()
        self._vectors: _Vectors | None = None
        self._generation = -1
        self._check_schema()
        self._stemmer: sqlite3.Connection | None = None
        if embedder is not None:
            self._check_model(embedder)

    # -- health -----------------------------------------------------------------------------------
    def _existing(self) -> set[str]:
        rows = self.db.query("SELECT name FROM sqlite_master WHERE type IN ('table') AND name LIKE 'knowledge%'")
        return {str(r[0]) for r in rows}

    def _check_schema(self) -> None:
        missing = [t for t in TABLES if t not in self._existing()]
        if "knowledge_documents" in missing or "knowledge_chunks" in missing:
            self._recreate_all(f"the table(s) {', '.join(missing)} were missing")
            return
        with self.db.transaction() as conn:
            for table in missing:
                for statement in _ddl(table):
                    conn.execute(statement)
        if missing:
            self.repaired = f"re-created {', '.join(missing)}"
            log.warning("knowledge index: %s", self.repaired)
        problem = "" if "knowledge_fts" in missing else self._fts_problem(full=False)
        if "knowledge_fts" in missing or problem:
            self.rebuild_fts()
            self.repaired = ((self.repaired + "; ") if self.repaired else "") + (problem or "rebuilt the full text")

    def _recreate_all(self, reason: str) -> None:
        with self.db.transaction() as conn:
            for table in TABLES:
                if table != "knowledge_folders":
                    conn.execute(f"DROP TABLE IF EXISTS {table}")
            for table in TABLES:
                if table != "knowledge_folders" or table not in self._existing():
                    for statement in _ddl(table):
                        conn.execute(statement.replace("CREATE TABLE ", "CREATE TABLE IF NOT EXISTS ", 1))
        self.rebuilt = (
            f"the knowledge index was damaged ({reason}) and has been emptied; it is re-read from the sources"
        )
        self._vectors = None
        log.warning("%s", self.rebuilt)

    def _fts_problem(self, full: bool) -> str:
        """Why the full-text table is unusable ("" when sound). ``full`` runs FTS5's integrity-check (reads the
        whole index) on a separate connection, so a damaged FTS table never switches the app's database to
        read-only; the quick form compares row counts."""
        try:
            chunks = int(self.db.query("SELECT count(*) FROM knowledge_chunks")[0][0])
            fts = int(self.db.query("SELECT count(*) FROM knowledge_fts_docsize")[0][0])
        except JarvisError as exc:
            return f"the full-text table is unreadable: {exc}"
        if chunks != fts:
            return f"the full-text table has {fts} rows for {chunks} chunks"
        if not full or not isinstance(self.db.path, Path):
            return ""
        try:
            conn = sqlite3.connect(str(self.db.path), timeout=5)
            try:
                conn.execute("INSERT INTO knowledge_fts (knowledge_fts, rank) VALUES ('integrity-check', 1)")
            finally:
                conn.close()
        except sqlite3.Error as exc:
            return f"the full-text table is damaged: {exc}"
        return ""

    def check(self) -> str:
        """Run the full integrity check of the full-text table (reads all of it) and rebuild it if damaged;
        returns what was wrong ("" when sound)."""
        problem = self._fts_problem(full=True)
        if problem:
            self.rebuild_fts()
        return problem

    def rebuild_fts(self) -> None:
        """Drop and re-create the full-text table from the chunks (no source is re-read)."""
        with self.db.transaction() as conn:
            conn.execute("DROP TABLE IF EXISTS knowledge_fts")
            for statement in _ddl("knowledge_fts"):
                conn.execute(statement)
            conn.execute(
                "INSERT INTO knowledge_fts (rowid, title, heading, text) SELECT c.id, d.title, c.heading, c.text "
                "FROM knowledge_chunks c JOIN knowledge_documents d ON d.id = c.document_id"
            )
            self._bump(conn)
        log.warning("knowledge index: rebuilt the full-text table from the chunks")

    def _check_model(self, embedder: Embedder) -> None:
        rows = self.db.query("SELECT value FROM knowledge_meta WHERE key = 'model'")
        stored = str(rows[0][0]) if rows else ""
        if stored == embedder.name:
            return
        with self.db.transaction() as conn:
            dropped = conn.execute("DELETE FROM knowledge_vectors").rowcount
            conn.execute("INSERT OR REPLACE INTO knowledge_meta (key, value) VALUES ('model', ?)", (embedder.name,))
            self._bump(conn)
        if dropped:
            log.info("knowledge index: model changed (%s -> %s): %d vectors dropped", stored, embedder.name, dropped)
        with self._lock:
            self._vectors = None

    # -- status -----------------------------------------------------------------------------------
    @property
    def vectors(self) -> bool:
        """True when vector search is on (an embedder is set)."""
        return self.embedder is not None

    @property
    def vectors_note(self) -> str:
        """Why vector search is off ("" when on)."""
        return "" if self.embedder is not None else NO_VECTORS_NOTE

    def counts(self) -> tuple[int, int, int]:
        """(files, records, chunks) in the index."""
        row = self.db.query(
            "SELECT (SELECT count(*) FROM knowledge_documents WHERE kind = 'file'),"
            " (SELECT count(*) FROM knowledge_documents WHERE kind != 'file'),"
            " (SELECT count(*) FROM knowledge_chunks)"
        )[0]
        return int(row[0]), int(row[1]), int(row[2])

    def last_update(self) -> datetime | None:
        """When the index last changed (aware UTC), None when it never did."""
        rows = self.db.query("SELECT value FROM knowledge_meta WHERE key = 'last_update'")
        return datetime.fromisoformat(str(rows[0][0])) if rows else None

    def known(self, kind: str | None = None) -> dict[str, tuple[float, int]]:
        """``{source_id: (mtime, size)}`` of the indexed documents (of one kind, or all)."""
        sql = "SELECT source_id, mtime, size FROM knowledge_documents"
        rows = self.db.query(sql + " WHERE kind = ?", (kind,)) if kind else self.db.query(sql)
        return {str(r[0]): (float(r[1]), int(r[2])) for r in rows}

    def missing_vectors(self) -> int:
        """Chunks without a vector (indexed without an embedder, or after a model change)."""
        return int(
            self.db.query(
                "SELECT count(*) FROM knowledge_chunks c LEFT JOIN knowledge_vectors v ON v.chunk_id = c.id"
                " WHERE v.chunk_id IS NULL"
            )[0][0]
        )

    # -- folders ----------------------------------------------------------------------------------
    def folders(self) -> list[str]:
        """The indexed folders (absolute paths), in the order they were added."""
        return [str(r[0]) for r in self.db.query("SELECT path FROM knowledge_folders ORDER BY added_at, path")]

    def add_folder(self, path: str | Path) -> str:
        """Record ``path`` (made absolute) as an indexed folder; returns it. Indexing it is the indexer's job.

        Raises:
            BadInputError: not an existing directory.
        """
        folder = Path(path).expanduser().resolve()
        if not folder.is_dir():
            raise BadInputError(f"{folder} is not a folder")
        self.db.execute("INSERT OR IGNORE INTO knowledge_folders (path, added_at) VALUES (?, ?)", (str(folder), _now()))
        return str(folder)

    def remove_folder(self, path: str | Path) -> int:
        """Forget the folder and remove its files from the index; returns the documents removed."""
        folder = str(Path(path).expanduser().resolve())
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM knowledge_folders WHERE path = ? OR path = ?", (folder, str(path)))
        return self.remove_under(folder)

    # -- writing ----------------------------------------------------------------------------------
    def _bump(self, conn: sqlite3.Connection) -> int:
        """Increment the change counter and the last update inside the caller's transaction; returns the new
        counter (this process's vector copy is current iff it saw the previous value)."""
        row = conn.execute("SELECT value FROM knowledge_meta WHERE key = 'generation'").fetchone()
        before = int(row[0]) if row else 0
        conn.execute("INSERT OR REPLACE INTO knowledge_meta (key, value) VALUES ('generation', ?)", (str(before + 1),))
        conn.execute("INSERT OR REPLACE INTO knowledge_meta (key, value) VALUES ('last_update', ?)", (_now(),))
        with self._lock:
            if self._generation == before:
                self._generation = before + 1
            else:
                self._vectors, self._generation = None, -1
        return before + 1

    def _embed(self, texts: list[str]) -> np.ndarray | None:
        if self.embedder is None or not texts:
            return None
        vectors = self.embedder.embed(texts)
        if vectors.shape != (len(texts), self.embedder.dim):
            raise JarvisError(f"the embedder returned shape {vectors.shape} for {len(texts)} texts")
        return vectors

    def upsert(self, doc: Document) -> int:
        """Index ``doc``, replacing whatever was indexed under its ``source_id``, in one transaction (chunks are
        embedded before it starts). Returns the number of chunks written.

        Raises:
            BadInputError: an empty source_id.
            JarvisError: the database cannot be written; the embedder failed (nothing was changed).
        """
        if not doc.source_id:
            raise BadInputError("a document needs a source_id")
        chunks = [c for c in doc.chunks if c.text.strip()]
        vectors = self._embed([embedding_text(doc.title, c.location.heading, c.text) for c in chunks])
        created = doc.created.isoformat() if doc.created else None
        with self._lock, self.db.transaction() as conn:
            old = self._delete_chunks(conn, doc.source_id)
            conn.execute(
                "INSERT INTO knowledge_documents (source_id, kind, title, mtime, size, created_at, indexed_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (source_id) DO UPDATE SET kind = excluded.kind,"
                " title = excluded.title, mtime = excluded.mtime, size = excluded.size,"
                " created_at = excluded.created_at, indexed_at = excluded.indexed_at",
                (doc.source_id, doc.kind, doc.title, float(doc.mtime), int(doc.size), created, _now()),
            )
            doc_id = int(
                conn.execute("SELECT id FROM knowledge_documents WHERE source_id = ?", (doc.source_id,)).fetchone()[0]
            )
            ids: list[int] = []
            for chunk in chunks:
                loc = chunk.location
                cur = conn.execute(
                    "INSERT INTO knowledge_chunks (document_id, ordinal, text, page, heading, line)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (doc_id, chunk.ordinal, chunk.text, loc.page, loc.heading, loc.line),
                )
                ids.append(int(cur.lastrowid or 0))
            conn.executemany(
                "INSERT INTO knowledge_fts (rowid, title, heading, text) VALUES (?, ?, ?, ?)",
                [(cid, doc.title, c.location.heading, c.text) for cid, c in zip(ids, chunks, strict=True)],
            )
            if vectors is not None:
                conn.executemany(
                    "INSERT INTO knowledge_vectors (chunk_id, vector) VALUES (?, ?)",
                    [(cid, vectors[i].astype("<f4").tobytes()) for i, cid in enumerate(ids)],
                )
            self._bump(conn)
            if self._vectors is not None:
                self._vectors.remove(old)
                if vectors is not None:
                    self._vectors.add(np.asarray(ids, dtype=np.int64), vectors, _KIND_CODE.get(doc.kind, _OTHER_KIND))
        return len(ids)

    def _delete_chunks(self, conn: sqlite3.Connection, source_id: str) -> list[int]:
        old = [
            int(r[0])
            for r in conn.execute(
                "SELECT c.id FROM knowledge_chunks c JOIN knowledge_documents d ON d.id = c.document_id"
                " WHERE d.source_id = ?",
                (source_id,),
            )
        ]
        for start in range(0, len(old), 500):
            part = old[start : start + 500]
            marks = ",".join("?" * len(part))
            conn.execute(f"DELETE FROM knowledge_fts WHERE rowid IN ({marks})", part)
            conn.execute(f"DELETE FROM knowledge_chunks WHERE id IN ({marks})", part)  # vectors: ON DELETE CASCADE
        return old

    def remove(self, source_id: str) -> bool:
        """Remove one document; False when it was not indexed."""
        return self._remove_where("source_id = ?", (source_id,)) > 0

    def remove_under(self, folder: str) -> int:
        """Remove every file whose path is inside ``folder``; returns how many documents were removed."""
        prefix = str(folder).rstrip("/\\") + "/"
        return self._remove_where("kind = 'file' AND substr(source_id, 1, ?) = ?", (len(prefix), prefix))

    def _remove_where(self, where: str, params: tuple[object, ...]) -> int:
        with self._lock, self.db.transaction() as conn:
            sources = [
                str(r[0]) for r in conn.execute(f"SELECT source_id FROM knowledge_documents WHERE {where}", params)
            ]
            old: list[int] = []
            for source_id in sources:
                old.extend(self._delete_chunks(conn, source_id))
                conn.execute("DELETE FROM knowledge_documents WHERE source_id = ?", (source_id,))
            if sources:
                self._bump(conn)
                if self._vectors is not None:
                    self._vectors.remove(old)
        return len(sources)

    def clear(self) -> None:
        """Empty the index (documents, chunks, full text, vectors); the folder list is kept."""
        with self._lock, self.db.transaction() as conn:
            conn.execute("DELETE FROM knowledge_fts")
            conn.execute("DELETE FROM knowledge_vectors")
            conn.execute("DELETE FROM knowledge_chunks")
            conn.execute("DELETE FROM knowledge_documents")
            self._bump(conn)
            self._vectors = None

    def fill_vectors(self, batch: int = FILL_BATCH, progress: Callable[[int, int], None] | None = None) -> int:
        """Embed the chunks that have no vector, ``batch`` at a time (each batch its own transaction, so it can
        be interrupted); ``progress(done, total)`` after each. Returns how many were embedded (0 without an
        embedder)."""
        if self.embedder is None:
            return 0
        total, done = self.missing_vectors(), 0
        while done < total:
            rows = self.db.query(
                "SELECT c.id, d.title, c.heading, c.text FROM knowledge_chunks c"
                " JOIN knowledge_documents d ON d.id = c.document_id"
                " LEFT JOIN knowledge_vectors v ON v.chunk_id = c.id WHERE v.chunk_id IS NULL ORDER BY c.id LIMIT ?",
                (batch,),
            )
            if not rows:
                break
            vectors = self.embedder.embed([embedding_text(str(r[1]), str(r[2]), str(r[3])) for r in rows])
            with self._lock, self.db.transaction() as conn:
                conn.executemany(
                    "INSERT OR REPLACE INTO knowledge_vectors (chunk_id, vector) VALUES (?, ?)",
                    [(int(r[0]), vectors[i].astype("<f4").tobytes()) for i, r in enumerate(rows)],
                )
                self._bump(conn)
                self._vectors = None  # filled out of id order: reload at the next search
            done += len(rows)
            if progress is not None:
                progress(done, total)
        return done

    # -- reading (used by retrieve) ---------------------------------------------------------------
    def _current_vectors(self) -> _Vectors | None:
        """This process's vector matrix, (re)loaded when another process changed the index."""
        if self.embedder is None:
            return None
        rows = self.db.query("SELECT value FROM knowledge_meta WHERE key = 'generation'")
        generation = int(rows[0][0]) if rows else 0
        with self._lock:
            if self._vectors is not None and generation == self._generation:
                return self._vectors
            self._vectors = self._load_vectors()
            self._generation = generation
            return self._vectors

    def _load_vectors(self) -> _Vectors:
        assert self.embedder is not None
        dim = self.embedder.dim
        rows = self.db.query(
            "SELECT v.chunk_id, v.vector, d.kind FROM knowledge_vectors v"
            " JOIN knowledge_chunks c ON c.id = v.chunk_id JOIN knowledge_documents d ON d.id = c.document_id"
            " ORDER BY v.chunk_id"
        )
        size = dim * 4
        good = [r for r in rows if r[1] is not None and len(r[1]) == size]
        if len(good) != len(rows):
            bad = [int(r[0]) for r in rows if r[1] is None or len(r[1]) != size]
            log.warning("knowledge index: %d vectors of the wrong size dropped (re-embedded later)", len(bad))
            with contextlib.suppress(JarvisError), self.db.transaction() as conn:
                conn.executemany("DELETE FROM knowledge_vectors WHERE chunk_id = ?", [(b,) for b in bad])
        ids = np.fromiter((int(r[0]) for r in good), dtype=np.int64, count=len(good))
        mat = np.frombuffer(b"".join(bytes(r[1]) for r in good), dtype="<f4").reshape(len(good), dim)
        kinds = np.fromiter((_KIND_CODE.get(str(r[2]), _OTHER_KIND) for r in good), dtype=np.int8, count=len(good))
        return _Vectors(dim, ids, mat.astype(np.float32), kinds)

    def bm25_ids(self, expression: str, n: int, kinds: Collection[str] | None, weights: Sequence[float]) -> list[int]:
        """Chunk ids matching the FTS5 ``expression``, best BM25 first (at most ``n``)."""
        return [cid for cid, _ in self.bm25_scored(expression, n, kinds, weights)]

    def bm25_scored(
        self, expression: str, n: int, kinds: Collection[str] | None, weights: Sequence[float]
    ) -> list[tuple[int, float]]:
        """``(chunk id, BM25 score)`` matching the FTS5 ``expression``, best first (at most ``n``); the score is
        FTS5's ``-bm25()``, so higher is better and >= 0."""
        w = ", ".join(f"{float(x):.3f}" for x in weights)
        if kinds is None:
            sql = (
                f"SELECT rowid, bm25(knowledge_fts, {w}) AS s FROM knowledge_fts WHERE knowledge_fts MATCH ?"
                " ORDER BY s LIMIT ?"
            )
            params: list[object] = [expression, n]
        else:
            marks = ",".join("?" * len(kinds)) or "NULL"
            sql = (
                f"SELECT f.rowid, bm25(knowledge_fts, {w}) AS s FROM knowledge_fts f"
                " JOIN knowledge_chunks c ON c.id = f.rowid"
                " JOIN knowledge_documents d ON d.id = c.document_id"
                f" WHERE knowledge_fts MATCH ? AND d.kind IN ({marks}) ORDER BY s LIMIT ?"
            )
            params = [expression, *kinds, n]
        return [(int(r[0]), -float(r[1])) for r in self.db.query(sql, params)]

    def document_frequencies(self, words: Sequence[str]) -> dict[str, int]:
        """``{word: chunks containing it}`` as the full-text index counts it (porter stems: "functions" counts
        the chunks with "function", "functional" ...). Words the tokenizer drops are absent."""
        if not words:
            return {}
        with self._lock:
            if self._stemmer is None:  # the same tokenizer in a private in-memory database: stems the words
                self._stemmer = sqlite3.connect(":memory:", check_same_thread=False)
                self._stemmer.execute("CREATE VIRTUAL TABLE words USING fts5 (w, tokenize = 'porter unicode61')")
                self._stemmer.execute("CREATE VIRTUAL TABLE v USING fts5vocab (words, 'instance')")
            self._stemmer.execute("DELETE FROM words")
            self._stemmer.executemany("INSERT INTO words (rowid, w) VALUES (?, ?)", list(enumerate(words)))
            stems = {int(r[0]): str(r[1]) for r in self._stemmer.execute("SELECT doc, term FROM v")}
        # fts5vocab on the app's connection, in its temp schema (per connection, nothing written to the file)
        self.db.query(
            "CREATE VIRTUAL TABLE IF NOT EXISTS temp.knowledge_vocab USING fts5vocab (main, knowledge_fts, row)"
        )
        out: dict[str, int] = {}
        for i, stem in stems.items():
            rows = self.db.query("SELECT doc FROM temp.knowledge_vocab WHERE term = ?", (stem,))
            out[words[i]] = int(rows[0][0]) if rows else 0
        return out

    def vector_ids(self, query: np.ndarray, n: int, kinds: Collection[str] | None) -> list[tuple[int, float]]:
        """``(chunk id, cosine)`` of the ``n`` chunks nearest to the unit vector ``query`` (shape (dim,))."""
        vectors = self._current_vectors()
        if vectors is None:
            return []
        with self._lock:
            return vectors.top(query, n, kinds)

    def similarities(self, query: np.ndarray, ids: Sequence[int]) -> dict[int, float]:
        """Cosine of ``query`` with each listed chunk that has a vector."""
        vectors = self._current_vectors()
        if vectors is None or not ids:
            return {}
        with self._lock:
            return vectors.lookup(query, ids)

    def hits(self, ranked: Sequence[retrieve.Ranked], terms: Sequence[str]) -> list[SearchHit]:
        """The ranked chunks as :class:`SearchHit` records (same order), snippets around ``terms``."""
        if not ranked:
            return []
        marks = ",".join("?" * len(ranked))
        rows = self.db.query(
            "SELECT c.id, c.text, c.page, c.heading, c.line, d.source_id, d.kind, d.title, d.created_at"
            f" FROM knowledge_chunks c JOIN knowledge_documents d ON d.id = c.document_id WHERE c.id IN ({marks})",
            [r.chunk_id for r in ranked],
        )
        by_id = {int(r[0]): r for r in rows}
        out: list[SearchHit] = []
        for r in ranked:
            row = by_id.get(r.chunk_id)
            if row is None:  # removed by another thread in between
                continue
            text = str(row[1])
            out.append(
                SearchHit(
                    chunk_id=r.chunk_id,
                    source_id=str(row[5]),
                    kind=str(row[6]),
                    title=str(row[7]),
                    text=text,
                    snippet=retrieve.make_snippet(text, terms),
                    location=Location(page=row[2], heading=str(row[3] or ""), line=row[4]),
                    score=r.score,
                    bm25_rank=r.bm25_rank,
                    vector_rank=r.vector_rank,
                    similarity=r.similarity,
                    created=datetime.fromisoformat(str(row[8])) if row[8] else None,
                )
            )
        return out

    def search(
        self, query: str, k: int = 5, kinds: Collection[str] | None = None, mode: str = "hybrid"
    ) -> list[SearchHit]:
        """The ``k`` best chunks for ``query``, best first (:mod:`.retrieve`): ``mode`` "hybrid" (BM25 + vectors,
        reciprocal rank fusion; BM25 alone without an embedder), "bm25" or "vector". ``kinds`` limits the
        document kinds ("file", "note", "chat", "schedule"). Any text is a valid query (FTS5 syntax is quoted).

        Raises:
            BadInputError: unknown mode, k < 1, "vector" without an embedder.
        """
        return retrieve.search(self, query, k, kinds, mode)
