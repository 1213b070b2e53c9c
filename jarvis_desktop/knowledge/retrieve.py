"""Hybrid retrieval over the knowledge index: BM25 (SQLite FTS5) + vector cosine, fused by a convex combination.

* BM25: the user's words become quoted FTS5 terms joined with OR (:func:`fts_query`), so no FTS5 syntax in the
  text ("C++", ``a"b``, NOT, ``*``, ``:``, parentheses) can raise; common English function words are dropped
  unless nothing else is left. Columns are weighted (title, heading path, text) by :data:`BM25_WEIGHTS`.
* Vectors: the query's embedding against every chunk's (dot product of unit vectors = cosine).
* Fusion (:func:`convex`): each retriever contributes its top :data:`CANDIDATES`; a candidate's score is
  alpha * cos' + (1 - alpha) * bm25' with alpha = :data:`CONVEX_ALPHA`, each score min-max normalised between
  the scoring function's theoretical minimum (cosine -1, BM25 0) and the best score of that query's candidates
  ("TM2C2": S. Bruch, S. Gai, A. Ingber, "An Analysis of Fusion Functions for Hybrid Retrieval", ACM TOIS 42(1),
  2023, where a tuned convex combination beats reciprocal rank fusion and needs few queries to tune). Every
  candidate has its exact cosine; a chunk outside BM25's list gets BM25 0. Reciprocal rank fusion
  (:func:`rrf`, Cormack, Clarke, Buettcher, SIGIR 2009) stays selectable (:class:`Fusion`) for the bench.
* Snippets: the window of the chunk holding most query words (:func:`make_snippet`).

Alpha was chosen on the dev half of bench/data/knowledge_questions.jsonl only (docs/knowledge.md, "Retrieval").
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from jarvis_desktop.errors import BadInputError, JarvisError

if TYPE_CHECKING:
    from jarvis_desktop.knowledge.index import KnowledgeIndex
    from jarvis_desktop.knowledge.types import SearchHit

MODES = ("hybrid", "bm25", "vector")
FUSIONS = ("convex", "rrf")
#: RRF constant (Cormack et al. 2009)
RRF_K = 60
#: How many candidates each retriever contributes to the fusion
CANDIDATES = 50
#: bm25() column weights: title, heading path, text
BM25_WEIGHTS = (5.0, 3.0, 1.0)
#: RRF weight of each retriever (bm25, vector), when RRF is chosen
FUSION_WEIGHTS = (1.0, 1.0)
#: Weight of the normalised cosine in the convex combination (BM25 gets 1 - alpha); chosen on dev
CONVEX_ALPHA = 0.85
#: Theoretical minimum of each score, the lower end of its normalisation: cosine of unit vectors, FTS5 BM25
COSINE_MIN = -1.0
BM25_MIN = 0.0
SNIPPET_CHARS = 240
#: BM25's work limit per query, in postings (chunk-term matches) scored: ~0.5 us each here, so ~10 ms
POSTINGS_BUDGET = 20_000

_WORD = re.compile(r"\w+", re.UNICODE)
_STOPWORDS_TEXT = """
    a an and are as at be been being but by can could did do does doing for from had has have how i if in into is
    it its me my of on or our should so than that the their them then there these they this to was we were what
    when where which who whom why will with would you your about also any may might must shall"""
#: English function words dropped from BM25 queries (kept when a query has nothing else)
STOPWORDS = frozenset(_STOPWORDS_TEXT.split())


def query_terms(text: str) -> list[str]:
    """The query's words, lower-cased, function words dropped (kept when nothing else is left), de-duplicated."""
    words = [w.lower() for w in _WORD.findall(text)]
    content = [w for w in words if w not in STOPWORDS]
    seen: dict[str, None] = dict.fromkeys(content or words)
    return list(seen)


def affordable_terms(terms: Sequence[str], frequencies: dict[str, int], budget: int = POSTINGS_BUDGET) -> list[str]:
    """The query terms BM25 can score within ``budget`` postings: rarest first, at least one; terms no chunk
    contains are dropped. FTS5 scores every chunk that matches any OR-ed term, so a common word ("file" in 40 %
    of 100k chunks) costs tens of milliseconds while adding almost nothing to the ranking (its IDF is near 0)."""
    present = sorted((frequencies.get(t, 0), i, t) for i, t in enumerate(terms) if frequencies.get(t, 0) > 0)
    kept: list[str] = []
    spent = 0
    for df, _, term in present:
        if kept and spent + df > budget:
            break
        kept.append(term)
        spent += df
    return kept


def fts_query(text: str | Sequence[str]) -> str | None:
    """An FTS5 MATCH expression for ``text`` (or for already chosen terms) that cannot be a syntax error: each word
    double-quoted (a string, never an operator), joined with OR; None when there is no word at all."""
    terms = query_terms(text) if isinstance(text, str) else list(text)
    if not terms:
        return None
    return " OR ".join('"' + t.replace('"', '""') + '"' for t in terms)


def rrf(rankings: Sequence[Sequence[int]], weights: Sequence[float] | None = None, k: int = RRF_K) -> dict[int, float]:
    """Reciprocal rank fusion: ``{item: sum_i weights[i] / (k + rank_i(item))}`` with 1-based ranks."""
    ws = list(weights) if weights is not None else [1.0] * len(rankings)
    scores: dict[int, float] = {}
    for ranking, w in zip(rankings, ws, strict=True):
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + w / (k + rank)
    return scores


def convex(
    bm25: Sequence[tuple[int, float]], cosine: dict[int, float], alpha: float = CONVEX_ALPHA
) -> dict[int, float]:
    """Convex combination of theoretically min-max normalised scores (Bruch, Gai, Ingber 2023, "TM2C2").

    Args:
        bm25: BM25's candidates ``(chunk id, score)``, score higher = better (FTS5's ``-bm25()``, >= 0).
        cosine: ``{chunk id: cosine}`` for the candidates of both retrievers that have a vector (a chunk without
            one, not embedded yet, counts as the minimum).
        alpha: weight of the cosine side, 0 (BM25 only) to 1 (cosine only).

    Returns:
        ``{chunk id: alpha * (cos + 1) / (max cos + 1) + (1 - alpha) * bm25 / max bm25}``, each part in [0, 1]
        (maxima over the candidates; a chunk outside BM25's list counts as BM25 0).

    Raises:
        BadInputError: alpha outside [0, 1].
    """
    if not 0.0 <= alpha <= 1.0:
        raise BadInputError(f"alpha must be between 0 and 1, not {alpha}")
    lexical = dict(bm25)
    top_bm25 = max(lexical.values(), default=BM25_MIN) - BM25_MIN
    top_cos = max(cosine.values(), default=COSINE_MIN) - COSINE_MIN
    out: dict[int, float] = {}
    for cid in dict.fromkeys([*lexical, *cosine]):
        b = (lexical.get(cid, BM25_MIN) - BM25_MIN) / top_bm25 if top_bm25 > 0 else 0.0
        c = (cosine[cid] - COSINE_MIN) / top_cos if cid in cosine and top_cos > 0 else 0.0
        out[cid] = alpha * c + (1.0 - alpha) * max(0.0, b)
    return out


@dataclass(frozen=True)
class Fusion:
    """How "hybrid" fuses the two lists: ``method`` "convex" (default, weight ``alpha`` on the cosine) or "rrf"
    (reciprocal rank fusion with constant ``rrf_k`` and per-retriever ``weights`` (bm25, vector))."""

    method: str = "convex"
    alpha: float = CONVEX_ALPHA
    rrf_k: int = RRF_K
    weights: tuple[float, float] = FUSION_WEIGHTS

    def __post_init__(self) -> None:
        """Raises BadInputError for an unknown method, alpha outside [0, 1] or a negative RRF constant."""
        if self.method not in FUSIONS:
            raise BadInputError(f"unknown fusion {self.method!r}; use one of {', '.join(FUSIONS)}")
        if not 0.0 <= self.alpha <= 1.0:
            raise BadInputError(f"alpha must be between 0 and 1, not {self.alpha}")
        if self.rrf_k < 0:
            raise BadInputError(f"the RRF constant must be >= 0, not {self.rrf_k}")


def make_snippet(text: str, terms: Sequence[str], width: int = SNIPPET_CHARS) -> str:
    """About ``width`` characters of ``text`` around the densest group of query words (prefix match, so
    "index" finds "indexing"), with "…" where it was cut; the start of the text when no word occurs."""
    flat = " ".join(text.split())
    if len(flat) <= width:
        return flat
    lowered = flat.lower()
    positions: list[int] = []
    for term in terms:
        stem = term[: max(4, len(term) - 2)] if len(term) > 4 else term
        positions.extend(m.start() for m in re.finditer(r"\b" + re.escape(stem), lowered))
    start = 0
    if positions:
        positions.sort()
        best, best_count, j = positions[0], 0, 0
        for i, p in enumerate(positions):  # sliding window: the most matches within 2/3 of the width
            j = max(j, i)
            while j < len(positions) and positions[j] < p + width * 2 // 3:
                j += 1
            if j - i > best_count:
                best, best_count = p, j - i
        start = max(0, best - width // 4)
        space = flat.rfind(" ", 0, start)
        start = space + 1 if start > 0 and space >= 0 and start - space < 30 else start
    end = min(len(flat), start + width)
    if end < len(flat):
        space = flat.rfind(" ", start, end)
        end = space if space > start + width // 2 else end
    return ("…" if start > 0 else "") + flat[start:end].strip() + ("…" if end < len(flat) else "")


@dataclass(frozen=True)
class Ranked:
    """One fused candidate: chunk id, fused score, rank in each retriever (None: absent), cosine similarity."""

    chunk_id: int
    score: float
    bm25_rank: int | None
    vector_rank: int | None
    similarity: float | None


def _fuse(
    mode: str, bm25: list[tuple[int, float]], vec_ids: list[int], similarity: dict[int, float], fusion: Fusion
) -> dict[int, float]:
    """``{chunk id: score}`` of one mode: one retriever's list as 1 / (60 + rank), or both fused."""
    bm25_ids = [cid for cid, _ in bm25]
    if mode == "bm25" or not vec_ids:
        return {cid: 1.0 / (RRF_K + r) for r, cid in enumerate(bm25_ids, start=1)}
    if mode == "vector" or not bm25_ids:
        return {cid: 1.0 / (RRF_K + r) for r, cid in enumerate(vec_ids, start=1)}
    if fusion.method == "rrf":
        return rrf([bm25_ids, vec_ids], fusion.weights, fusion.rrf_k)
    return convex(bm25, similarity, fusion.alpha)


def rank(
    index: KnowledgeIndex,
    query: str,
    k: int = 5,
    kinds: Collection[str] | None = None,
    mode: str = "hybrid",
    candidates: int = CANDIDATES,
    fusion: Fusion | None = None,
) -> list[Ranked]:
    """The best ``k`` chunks for ``query`` (see the module doc); vectors are skipped when the index has no
    embedder (then "hybrid" is BM25 alone). ``fusion`` (default ``Fusion()``) is for the bench.

    Raises:
        BadInputError: an unknown mode, k < 1, or "vector" mode on an index without vectors.
    """
    if mode not in MODES:
        raise BadInputError(f"unknown search mode {mode!r}; use one of {', '.join(MODES)}")
    if k < 1:
        raise BadInputError("k must be at least 1")
    fusion = fusion or Fusion()
    if not query.strip():
        return []
    depth = max(candidates, k)
    bm25: list[tuple[int, float]] = []
    vec: list[tuple[int, float]] = []
    query_vector: np.ndarray | None = None
    if mode == "vector" or (mode == "hybrid" and index.embedder is not None):
        if index.embedder is None:
            raise BadInputError("vector search is not available: this index has no embedding model")
        # In the caller's thread: embedding in a pool thread beside the BM25 query was measured slower (44 vs 18
        # ms p50 at 10k chunks: torch's OpenMP threads and SQLite competed for the 2 cores).
        query_vector = index.embedder.embed_query(query)
    if mode in ("hybrid", "bm25"):
        terms = query_terms(query)
        try:
            frequencies = index.document_frequencies(terms)
        except JarvisError:  # e.g. a read-only (damaged) database cannot make the temp vocabulary table
            frequencies = dict.fromkeys(terms, 1)
        expression = fts_query(affordable_terms(terms, frequencies))
        bm25 = index.bm25_scored(expression, depth, kinds, BM25_WEIGHTS) if expression else []
    if query_vector is not None:
        vec = index.vector_ids(query_vector, depth, kinds)
    bm25_ids = [cid for cid, _ in bm25]
    vec_ids = [cid for cid, _ in vec]
    similarity = dict(vec)
    if query_vector is not None and bm25_ids:  # BM25 hits outside the vector top list get their cosine too
        similarity.update(index.similarities(query_vector, [cid for cid in bm25_ids if cid not in similarity]))
    fused = _fuse(mode, bm25, vec_ids, similarity, fusion)
    bm25_rank = {cid: r for r, cid in enumerate(bm25_ids, start=1)}
    vec_rank = {cid: r for r, cid in enumerate(vec_ids, start=1)}
    best = sorted(fused.items(), key=lambda item: (-item[1], item[0]))[:k]
    return [Ranked(cid, score, bm25_rank.get(cid), vec_rank.get(cid), similarity.get(cid)) for cid, score in best]


def search(
    index: KnowledgeIndex,
    query: str,
    k: int = 5,
    kinds: Collection[str] | None = None,
    mode: str = "hybrid",
) -> list[SearchHit]:
    """:func:`rank` turned into :class:`SearchHit` records with snippets, best first."""
    ranked = rank(index, query, k, kinds, mode)
    return index.hits(ranked, query_terms(query))
