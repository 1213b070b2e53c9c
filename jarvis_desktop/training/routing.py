"""Choosing the hybrid routing threshold on validation data: below it, the LoRA model decides the intent.

``collect`` runs FastText on every row and the LoRA fallback (intent only, FastText's guess as hint) on
the rows whose FastText probability is below ``max_threshold``, timing both; ``sweep`` replays every
threshold on those records (no model call): accuracy, share sent to the fallback, mean latency per
utterance. ``choose`` takes the most accurate threshold that meets both latency targets of the project
(mean <= 40 ms per utterance and >= 200 utterances/s for ``parse --jsonl``, i.e. mean <= 5 ms; on 2
cores); ties go to the lower threshold (fewer fallback calls).

CLI (writes the choice into the adapter's ``training_metadata.json`` under ``routing``)::

    python -m jarvis_desktop.training.routing --adapter adapters/date-intent --write

No torch import with the llama.cpp backend: this module runs in the app's environment.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from pathlib import Path

from jarvis_desktop.nlu.engine import NluEngine
from jarvis_desktop.nlu.evaluate import load_rows
from jarvis_desktop.nlu.lora_fallback import LoraFallback

#: Thresholds tried by :func:`sweep`.
GRID = (0.0, 0.3, 0.4, 0.5, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.93, 0.95, 0.97, 0.99)
#: Mean hybrid latency budget per utterance, ms (issue 3's target on 2 cores).
MAX_MEAN_MS = 40.0
#: Throughput target of ``jarvis-desktop parse --jsonl``, fallback included (issue 3): 200/s = 5 ms mean.
MIN_UTT_PER_S = 200.0


def collect(rows: list[dict], engine, fallback, max_threshold: float = 0.99, use_hint: bool = True) -> list[dict]:
    """Per row: ``{"gold", "fasttext", "confidence", "fast_ms", "lora" (intent or None), "lora_ms"}``.

    ``engine``: an :class:`~jarvis_desktop.nlu.engine.NluEngine` without fallback (its ``parse`` time is
    ``fast_ms``, the whole fast path: FastText, rules, resolution, payload); ``fallback``: a
    :class:`~jarvis_desktop.nlu.lora_fallback.LoraFallback`, asked only when the probability is below
    ``max_threshold`` (``lora``/``lora_ms`` None otherwise).
    """
    fallback.load()
    out = []
    for row in rows:
        t0 = time.perf_counter()
        res = engine.parse(row["text"])
        fast_ms = (time.perf_counter() - t0) * 1000
        rec = {
            "text": row["text"],
            "gold": row["intent"],
            "fasttext": res.intent,
            "confidence": res.confidence,
            "fast_ms": fast_ms,
            "lora": None,
            "lora_ms": None,
        }
        if res.confidence < max_threshold:
            t0 = time.perf_counter()
            ans = fallback.answer(row["text"], res.intent if use_hint else None, intent_only=True)
            rec["lora_ms"] = (time.perf_counter() - t0) * 1000
            rec["lora"] = ans.intent if ans is not None else None
        out.append(rec)
    return out


def sweep(records: list[dict], grid: tuple[float, ...] = GRID) -> list[dict]:
    """Replay each threshold: ``{"threshold", "accuracy" (%), "fallback_rate" (%), "mean_ms",
    "utterances_per_s"}``. A fallback answer of None keeps FastText's intent (as the engine does)."""
    n = len(records)
    lora_ms = [r["lora_ms"] for r in records if r["lora_ms"] is not None]
    lora_mean = statistics.fmean(lora_ms) if lora_ms else 0.0
    fast_mean = statistics.fmean(r["fast_ms"] for r in records)
    out = []
    for t in grid:
        ok = sent = 0
        extra_ms = 0.0
        for r in records:
            intent = r["fasttext"]
            if r["confidence"] < t:
                sent += 1
                extra_ms += r["lora_ms"] if r["lora_ms"] is not None else lora_mean
                if r["lora"] is not None:
                    intent = r["lora"]
            ok += intent == r["gold"]
        mean_ms = fast_mean + extra_ms / n
        out.append(
            {
                "threshold": t,
                "accuracy": round(100 * ok / n, 2),
                "fallback_rate": round(100 * sent / n, 2),
                "mean_ms": round(mean_ms, 2),
                "utterances_per_s": round(1000 / mean_ms, 1),
            }
        )
    return out


def choose(table: list[dict], max_mean_ms: float = MAX_MEAN_MS, min_utt_per_s: float = MIN_UTT_PER_S) -> dict:
    """The row of ``table`` with the best accuracy among those with ``mean_ms <= max_mean_ms`` and
    ``utterances_per_s >= min_utt_per_s`` (lowest threshold on ties); the threshold-0 row (FastText
    alone) when none fits."""
    fits = [r for r in table if r["mean_ms"] <= max_mean_ms and r["utterances_per_s"] >= min_utt_per_s]
    fits = fits or [min(table, key=lambda r: r["threshold"])]
    return max(fits, key=lambda r: (r["accuracy"], -r["threshold"]))


def compare_key_policies(rows: list[dict], engine, fallback, use_hint: bool = True) -> dict:
    """Date-key exact-set accuracy (%) on ``rows`` of: the rules alone (what the engine does), the
    LoRA model's keys alone, and the rules with the LoRA keys only where the rules found none. The LoRA
    model writes full answers here (~20 tokens each), so keep ``rows`` to a few hundred."""
    fallback.load()
    n = len(rows)
    ok = {"rules": 0, "lora": 0, "rules_then_lora": 0}
    for row in rows:
        gold = list(row["date_keys"])
        res = engine.parse(row["text"])
        ans = fallback.answer(row["text"], res.intent if use_hint else None)
        lora = ans.date_keys if ans is not None and ans.date_keys is not None else []
        ok["rules"] += res.date_keys == gold
        ok["lora"] += lora == gold
        ok["rules_then_lora"] += (res.date_keys or lora) == gold
    return {"n": n, **{k: round(100 * v / n, 2) for k, v in ok.items()}}


def main(argv: list[str] | None = None) -> int:
    """Collect on the validation split, print the sweep as JSON, optionally record the choice."""
    p = argparse.ArgumentParser(prog="python -m jarvis_desktop.training.routing")
    p.add_argument("--adapter", default=None, help="adapter directory (default: adapters/date-intent)")
    p.add_argument("--backend", default="auto", choices=["auto", "llama", "torch"])
    p.add_argument("--data", default=None, help="labelled JSONL (default: models/nlu/corpus.valid.jsonl)")
    p.add_argument("--limit", type=int, default=0, help="use the first N rows only (0 = all)")
    p.add_argument("--no-hint", action="store_true", help="do not give the FastText guess to the LoRA model")
    p.add_argument("--max-mean-ms", type=float, default=MAX_MEAN_MS)
    p.add_argument("--min-utt-per-s", type=float, default=MIN_UTT_PER_S)
    p.add_argument("--records", help="write the per-row records to this JSONL file")
    p.add_argument(
        "--keys",
        type=int,
        default=0,
        help="also compare key policies on N rows (seeded sample; the LoRA model writes full answers)",
    )
    p.add_argument("--write", action="store_true", help="record the choice in the adapter's training_metadata.json")
    args = p.parse_args(argv)
    rows = load_rows(Path(args.data) if args.data else None)
    if args.limit:
        rows = rows[: args.limit]
    fallback = LoraFallback(adapter_dir=Path(args.adapter) if args.adapter else None, backend=args.backend)
    engine = NluEngine().load()
    records = collect(rows, engine, fallback, use_hint=not args.no_hint)
    if args.records:
        Path(args.records).write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    table = sweep(records)
    best = choose(table, args.max_mean_ms, args.min_utt_per_s)
    lora_ms = sorted(r["lora_ms"] for r in records if r["lora_ms"] is not None)
    routing = {
        "threshold": best["threshold"],
        "chosen": best,
        "max_mean_ms": args.max_mean_ms,
        "min_utt_per_s": args.min_utt_per_s,
        "backend": fallback.backend_name,
        "hint": not args.no_hint,
        "rows": len(rows),
        "data": args.data or "models/nlu/corpus.valid.jsonl",
        "lora_ms": {
            "n": len(lora_ms),
            "p50": round(lora_ms[len(lora_ms) // 2], 1) if lora_ms else None,
            "mean": round(statistics.fmean(lora_ms), 1) if lora_ms else None,
        },
        "sweep": table,
    }
    if args.keys:
        sample = random.Random(5).sample(rows, min(args.keys, len(rows)))
        routing["key_policies"] = compare_key_policies(sample, engine, fallback, use_hint=not args.no_hint)
    print(json.dumps(routing, indent=2))
    if args.write:
        meta_path = fallback.adapter_dir / "training_metadata.json"
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        meta["routing"] = routing
        meta_path.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
