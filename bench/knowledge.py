"""Knowledge index benchmark (jarvis_desktop/knowledge, docs/knowledge.md "Index and retrieval").

Three parts, one run:

1. **Indexing** the real Python 3.11 documentation (Debian ``python3-doc``, ~530 HTML pages; the navigation pages
   ``genindex*``, ``py-modindex``, ``search``, ``contents`` are left out): E1's ``extract_document`` (a minimal
   stand-in reader when it is not installed), then :meth:`KnowledgeIndex.upsert` with all-MiniLM-L6-v2 on
   ``--threads`` torch threads. Reports files/s, chunks/s, the time in embedding, the model's import+load time
   and the process RSS.
2. **Quality**: ``bench/data/knowledge_questions.jsonl`` (80 questions written by reading the pages, each with
   the page(s) that answer it, split dev / test). Each question is searched in "hybrid", "bm25" and "vector"
   mode (50 chunks), the chunks' pages ranked by first appearance; recall@1 / @3 / @5 = share of questions
   with an answering page first / in the first three / five. The retriever was tuned on dev only; test is reported.
   "hybrid_rrf" is the hybrid with reciprocal rank fusion (the fusion before issue 15), side by side.
   ``--dev-grid`` first prints dev recall for every fusion in :data:`DEV_GRID` (the test half is not searched).
3. **Latency** at 10k and 100k chunks: synthetic chunk texts (150 words drawn from the corpus' vocabulary with
   its word frequencies) and *random unit vectors* (embedding 100k texts would take about 2 h here); the queries
   are the question set, embedded for real by the model, so "hybrid"/"vector" include the query's embedding.
   Reports p50/p95 per mode, the first search (loading the vector matrix), the open time and the RSS.

    flock /tmp/jarvis-bench.lock .venv/bin/python bench/knowledge.py [--sizes 10000,100000] [--threads 1] [--json]

``--compare-stores`` also times sqlite-vec (through apsw) and usearch on the same 100k random vectors when
those packages are importable (they are not project dependencies: ``pip install --target /tmp/vecbench apsw
sqlite-vec usearch`` and ``PYTHONPATH=/tmp/vecbench``).
"""

from __future__ import annotations

import argparse
import html.parser
import json
import os
import random
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from jarvis_desktop.config import EmbeddingSettings  # noqa: E402
from jarvis_desktop.knowledge import retrieve  # noqa: E402
from jarvis_desktop.knowledge.embedder import Embedder, load_embedder  # noqa: E402
from jarvis_desktop.knowledge.index import KnowledgeIndex  # noqa: E402
from jarvis_desktop.knowledge.retrieve import Fusion  # noqa: E402
from jarvis_desktop.knowledge.types import Chunk, Document, Location  # noqa: E402
from jarvis_desktop.store.db import Database  # noqa: E402

DOCS = Path("/usr/share/doc/python3.11/html")
QUESTIONS = ROOT / "bench" / "data" / "knowledge_questions.jsonl"
SKIP = re.compile(r"^(genindex.*|py-modindex|search|contents)\.html$")
MODES = ("hybrid", "bm25", "vector")


def rss_mb() -> float:
    return psutil.Process().memory_info().rss / 1e6


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


# -- documents ---------------------------------------------------------------------------------------------------
class _StandIn(html.parser.HTMLParser):
    """Minimal HTML reader, used only when knowledge/extract.py is not there: text of <h1-3> and body blocks."""

    def __init__(self) -> None:
        super().__init__()
        self.sections: list[tuple[str, list[str]]] = [("", [])]
        self.title = ""
        self._in: list[str] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        self._in.append(tag)

    def handle_endtag(self, tag: str) -> None:
        while self._in and self._in.pop() != tag:
            pass

    def handle_data(self, data: str) -> None:
        if any(t in ("script", "style") for t in self._in):
            return
        if "title" in self._in:
            self.title += data
        elif any(t in ("h1", "h2", "h3") for t in self._in):
            self.sections.append((data.strip(" ¶"), []))
        else:
            self.sections[-1][1].append(data)


def stand_in_document(path: Path) -> Document:
    reader = _StandIn()
    reader.feed(path.read_text(encoding="utf-8", errors="replace"))
    chunks: list[Chunk] = []
    for heading, parts in reader.sections:
        words = " ".join(parts).split()
        for start in range(0, len(words), 200):
            chunks.append(Chunk(len(chunks), " ".join(words[start : start + 200]), Location(heading=heading)))
    stat = path.stat()
    return Document(str(path), "file", reader.title.strip(), stat.st_mtime, stat.st_size, chunks)


def extractor() -> tuple[Any, str]:
    try:
        from jarvis_desktop.knowledge.extract import extract_document
    except ImportError:
        return stand_in_document, "stand-in HTML reader (bench only)"
    return extract_document, "knowledge.extract.extract_document"


def doc_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.html") if not SKIP.match(p.name) and "_static" not in p.parts)


# -- part 0: loading the model (fresh process) -------------------------------------------------------------------
_STARTUP = r"""
import json, sys, threading, time, psutil
sys.path.insert(0, sys.argv[1])
proc = psutil.Process()
rss0 = proc.memory_info().rss
t0 = time.perf_counter()
from jarvis_desktop.config import EmbeddingSettings
from jarvis_desktop.knowledge.embedder import load_embedder
from jarvis_desktop.knowledge.index import KnowledgeIndex
t_modules = time.perf_counter() - t0
gaps, stop = [], threading.Event()
def tick():  # stands for the GUI thread: how long is it kept from running while the model loads beside it?
    last = time.perf_counter()
    while not stop.is_set():
        time.sleep(0.005)
        now = time.perf_counter()
        gaps.append(now - last - 0.005)
        last = now
ticker = threading.Thread(target=tick); ticker.start()
embedder = load_embedder(EmbeddingSettings(), threads=int(sys.argv[2]))
t1 = time.perf_counter()
loader = threading.Thread(target=embedder.load); loader.start(); loader.join()
t_load = time.perf_counter() - t1
t2 = time.perf_counter(); embedder.embed_query("warm up"); t_first = time.perf_counter() - t2
stop.set(); ticker.join()
print(json.dumps({"import_knowledge_modules_ms": round(t_modules * 1000),
    "torch_import_and_model_load_s": round(t_load, 2),
    "first_query_ms": round(t_first * 1000), "rss_before_mb": round(rss0 / 1e6),
    "rss_after_model_mb": round(proc.memory_info().rss / 1e6),
    "thread_longest_stall_ms": round(max(gaps) * 1000),
    "thread_p99_stall_ms": round(sorted(gaps)[int(len(gaps) * .99)] * 1000)}))
"""


def bench_startup(threads: int) -> dict[str, Any]:
    """Import + load cost of the model in a fresh process, and the longest stall of another thread meanwhile."""
    import subprocess

    result = subprocess.run(
        [sys.executable, "-c", _STARTUP, str(ROOT), str(threads)], capture_output=True, text=True, check=True
    )
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


# -- part 1: indexing --------------------------------------------------------------------------------------------
def bench_indexing(db_path: Path, files: list[Path], embedder: Embedder) -> tuple[KnowledgeIndex, dict[str, Any]]:
    extract, how = extractor()
    rss0 = rss_mb()
    started = time.perf_counter()
    embedder.load()
    load_s = time.perf_counter() - started
    rss_model = rss_mb()
    index = KnowledgeIndex(Database(db_path, backups=None), embedder)
    t_extract = t_upsert = 0.0
    chunks = files_ok = 0
    problems: list[str] = []
    for path in files:
        t0 = time.perf_counter()
        try:
            doc = extract(path)
        except Exception as exc:  # the bench counts skipped files and goes on
            problems.append(f"{path.name}: {exc}")
            continue
        t1 = time.perf_counter()
        chunks += index.upsert(doc)
        t2 = time.perf_counter()
        t_extract += t1 - t0
        t_upsert += t2 - t1
        files_ok += 1
    total = t_extract + t_upsert
    return index, {
        "extractor": how,
        "files": files_ok,
        "skipped": len(problems),
        "chunks": chunks,
        "seconds": round(total, 1),
        "files_per_s": round(files_ok / total, 2),
        "chunks_per_s": round(chunks / total, 1),
        "extract_s": round(t_extract, 1),
        "upsert_embed_s": round(t_upsert, 1),
        "torch_threads": embedder.threads,
        "model_import_load_s": round(load_s, 2),
        "rss_before_model_mb": round(rss0),
        "rss_after_model_mb": round(rss_model),
        "rss_after_index_mb": round(rss_mb()),
        "db_mb": round(db_path.stat().st_size / 1e6, 1),
    }


# -- part 2: quality ---------------------------------------------------------------------------------------------
def load_questions() -> list[dict[str, Any]]:
    return [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]


def page_ranking(index: KnowledgeIndex, question: str, mode: str, root: Path) -> list[str]:
    pages: list[str] = []
    for hit in index.search(question, k=50, mode=mode):
        page = os.path.relpath(hit.source_id, root)
        if page not in pages:
            pages.append(page)
    return pages


def chunk_pages(index: KnowledgeIndex, root: Path) -> dict[int, str]:
    """``{chunk id: page path relative to root}`` for the whole index."""
    rows = index.db.query(
        "SELECT c.id, d.source_id FROM knowledge_chunks c JOIN knowledge_documents d ON d.id = c.document_id"
    )
    return {int(r[0]): os.path.relpath(str(r[1]), root) for r in rows}


def fused_page_ranking(index: KnowledgeIndex, question: str, fusion: Fusion, pages_of: dict[int, str]) -> list[str]:
    """Like :func:`page_ranking` in "hybrid" mode, with an explicit fusion (for the dev grid and the RRF row)."""
    pages: list[str] = []
    for ranked in retrieve.rank(index, question, k=50, mode="hybrid", fusion=fusion):
        page = pages_of[ranked.chunk_id]
        if page not in pages:
            pages.append(page)
    return pages


def recall_at(rankings: list[list[str]], chosen: list[dict[str, Any]]) -> tuple[float, float]:
    """(recall@1, recall@5) of page rankings against the questions' answering pages."""
    r1 = sum(bool(set(q["pages"]) & set(r[:1])) for q, r in zip(chosen, rankings, strict=True))
    r5 = sum(bool(set(q["pages"]) & set(r[:5])) for q, r in zip(chosen, rankings, strict=True))
    return round(r1 / len(chosen), 3), round(r5 / len(chosen), 3)


#: The fusions tried on dev: convex combination (TM2C2) over alpha, and reciprocal rank fusion over k and weight
DEV_GRID: list[tuple[str, Fusion]] = [
    *[(f"convex alpha={a / 20:.2f}", Fusion("convex", alpha=a / 20)) for a in range(21)],
    *[
        (f"rrf k={k} w_vec={w}", Fusion("rrf", rrf_k=k, weights=(1.0, w)))
        for k in (10, 30, 60)
        for w in (0.5, 0.75, 1.0, 1.25, 1.5, 2.0)
    ],
]


def dev_grid(index: KnowledgeIndex, root: Path, questions: list[dict[str, Any]]) -> dict[str, Any]:
    """Recall@1 / @5 of every fusion in :data:`DEV_GRID` on the dev half only (the test half is never searched)."""
    dev = [q for q in questions if q["split"] == "dev"]
    pages_of = chunk_pages(index, root)
    out: dict[str, Any] = {}
    for name, fusion in DEV_GRID:
        rankings = [fused_page_ranking(index, q["question"], fusion, pages_of) for q in dev]
        out[name] = dict(zip(("recall@1", "recall@5"), recall_at(rankings, dev), strict=True))
    return out


def bench_quality(index: KnowledgeIndex, root: Path, questions: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    misses: dict[str, list[str]] = {}
    pages_of = chunk_pages(index, root)
    old = Fusion("rrf")  # the fusion before issue 15, side by side
    for mode in (*MODES, "hybrid_rrf"):
        for split in ("dev", "test"):
            chosen = [q for q in questions if q["split"] == split]
            r1 = r3 = r5 = 0
            for q in chosen:
                if mode == "hybrid_rrf":
                    ranking = fused_page_ranking(index, q["question"], old, pages_of)
                else:
                    ranking = page_ranking(index, q["question"], mode, root)
                wanted = set(q["pages"])
                r1 += bool(wanted & set(ranking[:1]))
                r3 += bool(wanted & set(ranking[:3]))  # a grounded answer cites at most 3 passages
                hit5 = bool(wanted & set(ranking[:5]))
                r5 += hit5
                if not hit5 and split == "dev":
                    misses.setdefault(mode, []).append(f"{q['id']}: {ranking[:3]}")
            out[f"{mode}/{split}"] = {
                "n": len(chosen),
                "recall@1": round(r1 / len(chosen), 3),
                "recall@3": round(r3 / len(chosen), 3),
                "recall@5": round(r5 / len(chosen), 3),
            }
    out["dev_misses@5"] = misses
    return out


# -- part 3: latency ---------------------------------------------------------------------------------------------
def vocabulary(index: KnowledgeIndex) -> tuple[list[str], list[float]]:
    counts: Counter[str] = Counter()
    for row in index.db.query("SELECT text FROM knowledge_chunks"):
        counts.update(w.lower() for w in re.findall(r"[A-Za-z]{2,}", str(row[0])))
    words = [w for w, _ in counts.most_common(20000)]
    weights = [float(counts[w]) for w in words]
    return words, weights


def build_synthetic(db_path: Path, n_chunks: int, words: list[str], weights: list[float], embedder: Embedder) -> float:
    """An index of ``n_chunks`` synthetic chunks (10 per document) with random unit vectors; returns build s."""
    rng = np.random.default_rng(0)
    pick = random.Random(0)
    started = time.perf_counter()
    db = Database(db_path, backups=None)
    index = KnowledgeIndex(db, None)
    per_doc = 10
    for d in range(n_chunks // per_doc):
        sample = pick.choices(words, weights, k=150 * per_doc)
        chunks = [
            Chunk(i, " ".join(sample[i * 150 : (i + 1) * 150]), Location(heading=f"Section {i}", line=1 + 20 * i))
            for i in range(per_doc)
        ]
        index.upsert(Document(f"/synthetic/doc{d:06d}.txt", "file", f"Document {d}", 0.0, 1, chunks))
    dim = embedder.dim
    with db.transaction() as conn:
        ids = [int(r[0]) for r in conn.execute("SELECT id FROM knowledge_chunks ORDER BY id")]
        for start in range(0, len(ids), 5000):
            part = ids[start : start + 5000]
            vec = rng.standard_normal((len(part), dim)).astype(np.float32)
            vec /= np.linalg.norm(vec, axis=1, keepdims=True)
            conn.executemany(
                "INSERT INTO knowledge_vectors (chunk_id, vector) VALUES (?, ?)",
                [(cid, vec[i].astype("<f4").tobytes()) for i, cid in enumerate(part)],
            )
        conn.execute("INSERT OR REPLACE INTO knowledge_meta (key, value) VALUES ('model', ?)", (embedder.name,))
    db.close()
    return time.perf_counter() - started


def bench_latency(db_path: Path, embedder: Embedder, queries: list[str]) -> dict[str, Any]:
    embedder.load()  # the model's own cost is in "startup"
    rss0 = rss_mb()
    t0 = time.perf_counter()
    index = KnowledgeIndex(Database(db_path, backups=None), embedder)
    open_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    index.search(queries[0], k=5, mode="vector")  # loads the vector matrix
    first_s = time.perf_counter() - t0
    out: dict[str, Any] = {
        "chunks": index.counts()[2],
        "open_ms": round(open_s * 1000, 1),
        "first_search_ms": round(first_s * 1000),
        "rss_delta_mb": round(rss_mb() - rss0),
    }
    embed_ms = []
    for q in queries:
        t0 = time.perf_counter()
        embedder.embed_query(q)
        embed_ms.append((time.perf_counter() - t0) * 1000)
    out["embed_query_ms"] = {"p50": round(pct(embed_ms, 50), 1), "p95": round(pct(embed_ms, 95), 1)}
    for mode in MODES:
        times = []
        for q in queries:
            t0 = time.perf_counter()
            index.search(q, k=5, mode=mode)
            times.append((time.perf_counter() - t0) * 1000)
        out[mode] = {"p50_ms": round(pct(times, 50), 1), "p95_ms": round(pct(times, 95), 1)}
    t0 = time.perf_counter()
    problem = index.check()
    out["fts_integrity_check_ms"] = round((time.perf_counter() - t0) * 1000)
    out["fts_problem"] = problem
    index.db.close()
    return out


def compare_stores(n: int, dim: int, queries: np.ndarray, tmp: Path) -> dict[str, Any]:
    """Brute-force numpy vs sqlite-vec (apsw) vs usearch on ``n`` random unit vectors (top 50)."""
    rng = np.random.default_rng(1)
    mat = rng.standard_normal((n, dim)).astype(np.float32)
    mat /= np.linalg.norm(mat, axis=1, keepdims=True)
    out: dict[str, Any] = {}

    def timed(fn: Any) -> dict[str, float]:
        times = []
        for q in queries:
            t0 = time.perf_counter()
            fn(q)
            times.append((time.perf_counter() - t0) * 1000)
        return {"p50_ms": round(pct(times, 50), 1), "p95_ms": round(pct(times, 95), 1)}

    def numpy_top(q: np.ndarray) -> Any:
        s = mat @ q
        best = np.argpartition(-s, 49)[:50]
        return best[np.argsort(-s[best])]

    out["numpy_bruteforce"] = timed(numpy_top)
    try:
        import apsw
        import sqlite_vec

        conn = apsw.Connection(str(tmp / "vec.sqlite3"))
        conn.enable_load_extension(True)
        conn.load_extension(sqlite_vec.loadable_path())
        conn.execute(f"CREATE VIRTUAL TABLE v USING vec0(embedding float[{dim}] distance_metric=cosine)")
        t0 = time.perf_counter()
        with conn:
            conn.executemany(
                "INSERT INTO v(rowid, embedding) VALUES (?, ?)", [(i + 1, mat[i].tobytes()) for i in range(n)]
            )
        build = time.perf_counter() - t0
        sql = "SELECT rowid, distance FROM v WHERE embedding MATCH ? AND k = 50"
        out["sqlite_vec_apsw"] = timed(lambda q: list(conn.execute(sql, (q.astype(np.float32).tobytes(),))))
        out["sqlite_vec_apsw"]["build_s"] = round(build, 1)
    except ImportError as exc:
        out["sqlite_vec_apsw"] = f"not installed ({exc.name})"
    try:
        from usearch.index import Index

        t0 = time.perf_counter()
        uindex = Index(ndim=dim, metric="cos", dtype="f32")
        uindex.add(np.arange(n), mat)
        build = time.perf_counter() - t0
        out["usearch_hnsw"] = timed(lambda q: uindex.search(q, 50))
        out["usearch_hnsw"]["build_s"] = round(build, 1)
        exact = [set(numpy_top(q).tolist()) for q in queries[:50]]
        found = [set(uindex.search(q, 50).keys.tolist()) for q in queries[:50]]
        out["usearch_hnsw"]["recall@50_vs_exact"] = round(
            statistics.mean(len(a & b) / 50 for a, b in zip(exact, found, strict=True)), 3
        )
    except ImportError as exc:
        out["usearch_hnsw"] = f"not installed ({exc.name})"
    return out


def run_latency(
    args: argparse.Namespace, tmp: Path, embedder: Embedder, vocab: Any, queries: list[str]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for size in [int(s) for s in args.sizes.split(",") if s.strip()]:
        path = tmp / f"synthetic-{size}.sqlite3"
        build_s = build_synthetic(path, size, vocab[0], vocab[1], embedder)
        result = bench_latency(path, embedder, queries)
        result["build_s"] = round(build_s, 1)
        result["db_mb"] = round(path.stat().st_size / 1e6, 1)
        out[f"latency_{size}"] = result
        show(args, f"latency_{size}", result)
        path.unlink()
    return out


def show(args: argparse.Namespace, name: str, value: Any) -> None:
    if not args.json:
        print(name, json.dumps(value, indent=1 if name in ("quality", "dev_grid") else None), flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=Path, default=DOCS, help="HTML tree to index (default: python3-doc)")
    parser.add_argument("--sizes", default="10000,100000", help="chunk counts for the latency part ('' = skip)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads while indexing (default 1)")
    parser.add_argument("--limit", type=int, default=0, help="index only the first N files (0 = all)")
    parser.add_argument("--skip-quality", action="store_true", help="latency only")
    parser.add_argument("--skip-startup", action="store_true", help="do not time the model's loading")
    parser.add_argument("--compare-stores", action="store_true", help="also time sqlite-vec and usearch")
    parser.add_argument("--db", type=Path, help="keep the python3-doc index in this file; re-use it if it exists")
    parser.add_argument(
        "--dev-grid", action="store_true", help="also print recall on the dev half for every fusion in DEV_GRID"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    if not args.docs.is_dir():
        print(f"{args.docs} is missing: apt-get install -y python3-doc", file=sys.stderr)
        return 2
    embedder = load_embedder(EmbeddingSettings(), threads=args.threads)
    report: dict[str, Any] = {"cpu_count": os.cpu_count()}
    questions = load_questions()
    if not args.skip_startup:
        report["startup"] = bench_startup(args.threads)
        show(args, "startup", report["startup"])
    with tempfile.TemporaryDirectory(prefix="knowledge-bench-") as tmp_name:
        tmp = Path(tmp_name)
        files = doc_files(args.docs)[: args.limit or None]
        if args.db is not None and args.db.is_file():  # re-use an index built by an earlier run (tuning on dev)
            index = KnowledgeIndex(Database(args.db, backups=None), embedder)
        else:
            index, report["indexing"] = bench_indexing(args.db or tmp / "docs.sqlite3", files, embedder)
            show(args, "indexing", report["indexing"])
        if args.dev_grid:
            report["dev_grid"] = dev_grid(index, args.docs, questions)
            show(args, "dev_grid", report["dev_grid"])
        if not args.skip_quality:
            report["quality"] = bench_quality(index, args.docs, questions)
            show(args, "quality", report["quality"])
        vocab = vocabulary(index)
        index.db.close()
        report.update(run_latency(args, tmp, embedder, vocab, [q["question"] for q in questions]))
        if args.compare_stores:
            qvec = embedder.embed([q["question"] for q in questions])
            report["stores_100k"] = compare_stores(100_000, embedder.dim, qvec, tmp)
            show(args, "stores_100k", report["stores_100k"])
    if args.json:
        print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
