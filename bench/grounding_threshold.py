"""Choose the relevance thresholds of grounded answers (jarvis_desktop/knowledge/answer.py) and check them.

The set: ``bench/data/grounding_corpus.jsonl`` (8 notes and 4 documents, written for this) and
``bench/data/grounding_questions.jsonl`` (40 questions those answer, each naming its source, and 40 everyday chat
questions that must get no citation), each marked ``dev`` or ``heldout``. The corpus is indexed for real (E1's
extraction and chunking, E2's index with all-MiniLM-L6-v2, in a temporary database); every question is searched
(k = ``assistant.SEARCH_K``, as the app does) in hybrid mode (the similarity threshold) and in BM25-only mode
(the lexical-coverage fallback).

A question is handled right when a relevant one gets a citation of its source and an irrelevant one gets none.
The threshold is the middle of the widest run of grid values with the best balanced accuracy on **dev**; the
held-out half is only reported. ``--answers N`` also runs the chat model (SmolLM2-135M) on N relevant dev questions
with the grounded prompt and reports how often its answer cites a real passage and is made of the passages' words,
against the same questions without passages.

    flock /tmp/jarvis-bench.lock .venv/bin/python bench/grounding_threshold.py [--answers 8] [--json]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from jarvis_desktop.assistant import SEARCH_K  # noqa: E402
from jarvis_desktop.knowledge.answer import (  # noqa: E402
    check_citations,
    cited_numbers,
    grounded_messages,
    select_citations,
    uses_passages,
)
from jarvis_desktop.knowledge.types import SearchHit  # noqa: E402

DATA = ROOT / "bench" / "data"


def load_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def build_index(corpus: list[dict[str, Any]], folder: Path) -> tuple[Any, dict[str, str]]:
    """Index the corpus in a temporary database; returns (index, source_id -> corpus id)."""
    from jarvis_desktop.config import EmbeddingSettings
    from jarvis_desktop.knowledge.embedder import load_embedder
    from jarvis_desktop.knowledge.extract import extract_document, record_document
    from jarvis_desktop.knowledge.index import KnowledgeIndex
    from jarvis_desktop.store.db import Database

    db = Database(folder / "bench.sqlite3", backups=None)
    index = KnowledgeIndex(db, load_embedder(EmbeddingSettings()))
    ids: dict[str, str] = {}
    for item in corpus:
        if item["kind"] == "file":
            path = folder / item["id"]
            path.write_text(item["text"], encoding="utf-8")
            doc = extract_document(path)
        else:
            kind, number = item["id"].split(":")
            created = datetime.fromisoformat(item["created"])
            doc = record_document(kind, int(number), item["text"], item["text"][:40], created, created.timestamp())
        index.upsert(doc)
        ids[doc.source_id] = item["id"]
    return index, ids


def searched(index: Any, questions: list[dict[str, Any]]) -> tuple[list[list[SearchHit]], list[list[SearchHit]]]:
    """Hybrid hits and BM25-only hits (similarity removed) of every question."""
    hybrid, bm25 = [], []
    for q in questions:
        hybrid.append(index.search(q["question"], k=SEARCH_K))
        bm25.append(
            [dataclasses.replace(h, similarity=None) for h in index.search(q["question"], k=SEARCH_K, mode="bm25")]
        )
    return hybrid, bm25


def right(q: dict[str, Any], hits: list[SearchHit], ids: dict[str, str], vec: float, lex: float) -> bool:
    cited = select_citations(hits, vec, question=q["question"], lexical_threshold=lex)
    if not q["relevant"]:
        return not cited
    return any(ids.get(c.hit.source_id) == q["source"] for c in cited)


def score(questions, hits, ids, vec: float, lex: float) -> dict[str, float]:
    """Balanced accuracy and its two halves for one threshold pair."""
    rel = [right(q, h, ids, vec, lex) for q, h in zip(questions, hits, strict=True) if q["relevant"]]
    irr = [right(q, h, ids, vec, lex) for q, h in zip(questions, hits, strict=True) if not q["relevant"]]
    r, i = sum(rel) / max(1, len(rel)), sum(irr) / max(1, len(irr))
    return {"balanced": (r + i) / 2, "relevant_cited": r, "irrelevant_uncited": i, "n": len(rel) + len(irr)}


def choose(values: list[float], balanced: list[float]) -> float:
    """The middle of the widest run of grid values reaching the best balanced accuracy."""
    best = max(balanced)
    runs: list[list[float]] = []
    for value, b in zip(values, balanced, strict=True):
        if b == best:
            if runs and runs[-1][-1] == values[values.index(value) - 1]:
                runs[-1].append(value)
            else:
                runs.append([value])
    run = max(runs, key=len)
    return round(run[len(run) // 2], 3)


def measure_answers(questions, hits, ids, vec: float, n: int) -> dict[str, Any]:
    """Run the chat model on ``n`` relevant dev questions with and without passages."""
    from jarvis_desktop.config import ChatSettings
    from jarvis_desktop.llm.chat import LocalChatModel
    from jarvis_desktop.llm.context import token_counter

    model = LocalChatModel(options=ChatSettings(max_tokens=96, temperature=0.0))
    model.load()
    count = token_counter(model)
    rows = []
    for q, h in [(q, h) for q, h in zip(questions, hits, strict=True) if q["relevant"] and q["split"] == "dev"][:n]:
        cited = select_citations(h, vec, question=q["question"])
        if not cited:
            continue
        messages = grounded_messages(q["question"], cited, count, 768)
        t0 = time.perf_counter()
        raw = "".join(model.stream(messages)).strip()
        seconds = time.perf_counter() - t0
        plain = "".join(model.stream([{"role": "user", "content": q["question"]}])).strip()
        answer = check_citations(raw, cited)
        rows.append(
            {
                "question": q["question"],
                "answer": answer,
                "prompt_tokens": model.last_stats.prompt_tokens if model.last_stats else None,
                "seconds": round(seconds, 2),
                "real_citation": any(k in {c.number for c in cited} for k in cited_numbers(answer)),
                "invented_removed": raw != answer,
                "uses_passages": uses_passages(answer, cited),
                "plain_uses_passages": uses_passages(plain, cited),
                "plain": plain,
            }
        )
    k = max(1, len(rows))
    return {
        "cases": len(rows),
        "real_citation": sum(r["real_citation"] for r in rows) / k,
        "uses_passages": sum(r["uses_passages"] for r in rows) / k,
        "plain_uses_passages": sum(r["plain_uses_passages"] for r in rows) / k,
        "rows": rows,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=0, help="also run the chat model on N dev questions")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    corpus = load_jsonl(DATA / "grounding_corpus.jsonl")
    questions = load_jsonl(DATA / "grounding_questions.jsonl")
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        index, ids = build_index(corpus, Path(tmp))
        hybrid, bm25 = searched(index, questions)
        build_s = time.perf_counter() - t0
        dev = [i for i, q in enumerate(questions) if q["split"] == "dev"]
        held = [i for i, q in enumerate(questions) if q["split"] == "heldout"]

        def part(idx: list[int], hits: list[list[SearchHit]]):
            return [questions[i] for i in idx], [hits[i] for i in idx]

        vec_grid = [round(0.15 + 0.01 * i, 2) for i in range(56)]
        dq, dh = part(dev, hybrid)
        vec = choose(vec_grid, [score(dq, dh, ids, v, 1.0)["balanced"] for v in vec_grid])
        lex_grid = [round(0.05 * i, 2) for i in range(1, 21)]
        bq, bh = part(dev, bm25)
        lex = choose(lex_grid, [score(bq, bh, ids, 1.0, x)["balanced"] for x in lex_grid])
        out: dict[str, Any] = {
            "questions": {"dev": len(dev), "heldout": len(held)},
            "similarity_threshold": vec,
            "similarity_dev": score(dq, dh, ids, vec, 1.0),
            "similarity_heldout": score(*part(held, hybrid), ids, vec, 1.0),
            "lexical_threshold": lex,
            "lexical_dev": score(bq, bh, ids, 1.0, lex),
            "lexical_heldout": score(*part(held, bm25), ids, 1.0, lex),
            "index_and_search_s": round(build_s, 1),
        }
        if args.answers:
            out["answers"] = measure_answers(questions, hybrid, ids, vec, args.answers)
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    for key in ("similarity", "lexical"):
        print(f"{key} threshold {out[key + '_threshold']}")
        for split in ("dev", "heldout"):
            s = out[f"{key}_{split}"]
            print(
                f"  {split:8s} balanced {s['balanced']:.3f}  relevant cited right {s['relevant_cited']:.3f}  "
                f"irrelevant uncited {s['irrelevant_uncited']:.3f}  (n={s['n']})"
            )
    if "answers" in out:
        a = out["answers"]
        print(
            f"answers: {a['cases']} cases; real citation {a['real_citation']:.2f}; uses passages "
            f"{a['uses_passages']:.2f} (without passages {a['plain_uses_passages']:.2f})"
        )
        for row in a["rows"]:
            print(f"  Q: {row['question']}\n     A: {row['answer']}\n     plain: {row['plain'][:100]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
