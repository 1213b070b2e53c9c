"""Follow-up questions in grounded answers: is "and when does it end?" grounded on the source of the answer before?

The set: ``bench/data/followup_questions.jsonl`` (36 pairs written for this, on the corpus of
``bench/data/grounding_corpus.jsonl``): a grounded question, then a follow-up that is either a dependent question
about the same source (20: "and when does it start?"), an unrelated everyday question (12, some with "it"/"that"/
"there": "is it going to rain tomorrow?") or a self-contained question about another source (4). Every previous
question here is one the app grounds (so :meth:`Assistant.grounding` may prepend it).

Three strategies, all with the app's relevance rule (:func:`select_citations`, k=5, hybrid search):

* ``alone``: the follow-up searched as is;
* ``always``: when that finds nothing, searched again with the previous question before it;
* ``gated``: the same, only for a short follow-up that opens like one ("and ...", "what about ...") or refers
  back ("it", "that", "there" ...) (:func:`jarvis_desktop.assistant.is_follow_up`);
* ``same``: ``gated``, and what the joined search finds is kept only when its first passage comes from a source
  the previous answer cited (what the app does, :meth:`Assistant.grounding`).

A pair is right when a dependent or other-source follow-up cites its expected source first and an unrelated one
cites nothing.

    flock /tmp/jarvis-bench.lock .venv/bin/python bench/followup_grounding.py [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.grounding_threshold import DATA, build_index, load_jsonl  # noqa: E402
from jarvis_desktop.assistant import is_follow_up  # noqa: E402
from jarvis_desktop.knowledge.answer import select_citations  # noqa: E402


def cited(index: Any, ids: dict[str, str], question: str) -> str | None:
    """The corpus id of the first citation ``question`` gets, or None."""
    return next(iter(all_cited(index, ids, question)), None)


def all_cited(index: Any, ids: dict[str, str], question: str) -> list[str]:
    """The corpus ids of every citation ``question`` gets, in order."""
    citations = select_citations(index.search(question, k=5), question=question)
    return [ids.get(c.hit.source_id, c.hit.source_id) for c in citations]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the per-pair results as JSON")
    args = parser.parse_args()
    corpus = load_jsonl(DATA / "grounding_corpus.jsonl")
    pairs = load_jsonl(DATA / "followup_questions.jsonl")
    with tempfile.TemporaryDirectory() as tmp:
        index, ids = build_index(corpus, Path(tmp))
        rows = []
        for pair in pairs:
            prev, follow, expected = pair["previous"], pair["follow_up"], pair["source"]
            previous_sources = all_cited(index, ids, prev)
            alone = cited(index, ids, follow)
            joined = cited(index, ids, f"{prev} {follow}") if alone is None else alone
            gated = joined if is_follow_up(follow) else alone
            same = gated if gated == alone or gated in previous_sources else None
            rows.append(
                {
                    "previous": prev,
                    "follow_up": follow,
                    "expected": expected,
                    "previous_grounded": bool(previous_sources),
                    "follow_up_gate": is_follow_up(follow),
                    "alone": alone,
                    "always": joined,
                    "gated": gated,
                    "same": same,
                }
            )
        index.db.close()
    groups = {
        "dependent": [r for r in rows if r["expected"] is not None and r["expected"] == cited_prev(r, pairs)],
        "unrelated": [r for r in rows if r["expected"] is None],
        "other source": [r for r in rows if r["expected"] is not None and r["expected"] != cited_prev(r, pairs)],
    }
    if args.json:
        print(json.dumps(rows, indent=2))
    assert all(r["previous_grounded"] for r in rows), [r["previous"] for r in rows if not r["previous_grounded"]]
    names = ("alone", "always", "gated", "same")
    print(f"{'group':<14}{'n':>4}" + "".join(f"{k:>8}" for k in names))
    for name, group in groups.items():
        right = [sum(r[k] == r["expected"] for r in group) for k in names]
        print(f"{name:<14}{len(group):>4}" + "".join(f"{n:>8}" for n in right))
    for r in rows:
        if r["same"] != r["expected"]:
            print(f"  same wrong: {r['previous']!r} -> {r['follow_up']!r}: {r['same']} (expected {r['expected']})")
    return 0


def cited_prev(row: dict[str, Any], pairs: list[dict[str, Any]]) -> str | None:
    """The source the pair's previous question is about (the expected source of a dependent follow-up)."""
    for pair in pairs:
        if pair["previous"] == row["previous"] and pair["follow_up"] == row["follow_up"]:
            return str(pair.get("previous_source") or _source_of(pair["previous"]))
    return None


def _source_of(question: str) -> str | None:
    for q in load_jsonl(DATA / "grounding_questions.jsonl"):
        if q["question"] == question:
            return str(q["source"]) if q.get("source") else None
    return None


if __name__ == "__main__":
    raise SystemExit(main())
