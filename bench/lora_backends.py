"""Latency and accuracy of the LoRA fallback's two backends (llama.cpp and PyTorch+PEFT) on validation lines.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/lora_backends.py                 # 100 lines, both backends
    .venv/bin/python bench/lora_backends.py --n 200 --backends llama --json

Rows: a seeded sample of ``models/nlu/corpus.valid.jsonl`` (template-held-out). For each backend: load
time (s), then per line the full answer (intent + date keys) and the intent-only answer the engine
uses (stops after the intent name), each with latency p50/mean (ms) and accuracy (%) against the gold
labels; the FastText guess is given as hint, as in the engine. Both backends run with 2 CPU threads.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _stats(ms: list[float]) -> dict:
    ms = sorted(ms)
    return {
        "p50": round(ms[len(ms) // 2], 1),
        "mean": round(statistics.fmean(ms), 1),
        "p95": round(ms[min(len(ms) - 1, int(0.95 * len(ms)))], 1),
    }


def bench_backend(name: str, rows: list[dict], hints: list[str], adapter_dir: Path | None) -> dict:
    """One backend's figures on ``rows`` (see the module docstring)."""
    from jarvis_desktop.nlu.lora_fallback import LoraFallback

    fb = LoraFallback(adapter_dir=adapter_dir, backend=name)
    t0 = time.perf_counter()
    fb.load()
    load_s = time.perf_counter() - t0
    fb.answer(rows[0]["text"], hints[0])  # warm-up
    full_ms, int_ms = [], []
    ok_int = ok_keys = ok_fast_int = unparsed = 0
    for row, hint in zip(rows, hints, strict=False):
        t0 = time.perf_counter()
        ans = fb.answer(row["text"], hint)
        full_ms.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        fast = fb.answer(row["text"], hint, intent_only=True)
        int_ms.append((time.perf_counter() - t0) * 1000)
        unparsed += ans is None
        ok_int += ans is not None and ans.intent == row["intent"]
        ok_keys += ans is not None and ans.date_keys == list(row["date_keys"])
        ok_fast_int += fast is not None and fast.intent == row["intent"]
    n = len(rows)
    return {
        "backend": name,
        "n": n,
        "load_s": round(load_s, 2),
        "full_answer": {
            "latency_ms": _stats(full_ms),
            "intent_accuracy": round(100 * ok_int / n, 2),
            "date_keys_accuracy": round(100 * ok_keys / n, 2),
            "unparseable": unparsed,
        },
        "intent_only": {"latency_ms": _stats(int_ms), "intent_accuracy": round(100 * ok_fast_int / n, 2)},
    }


def main(argv: list[str] | None = None) -> int:
    import os

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from jarvis_desktop.nlu.engine import NluEngine
    from jarvis_desktop.nlu.evaluate import load_rows

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=100, help="validation lines (seeded sample)")
    p.add_argument("--seed", type=int, default=3)
    p.add_argument("--backends", default="llama,torch")
    p.add_argument("--adapter", default=None, help="adapter directory (default: adapters/date-intent)")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    rows = load_rows(None)
    rows = random.Random(args.seed).sample(rows, min(args.n, len(rows)))
    engine = NluEngine().load()
    hints = [engine.classifier.predict(r["text"])[0] for r in rows]
    results = [
        bench_backend(b.strip(), rows, hints, Path(args.adapter) if args.adapter else None)
        for b in args.backends.split(",")
        if b.strip()
    ]
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print(
        f"{'backend':<8} {'load s':>7} {'answer':<12} {'p50 ms':>7} {'mean ms':>8} {'p95 ms':>7} "
        f"{'intent %':>9} {'keys %':>7}"
    )
    for r in results:
        for kind in ("full_answer", "intent_only"):
            d = r[kind]
            keys = f"{d['date_keys_accuracy']:7.2f}" if "date_keys_accuracy" in d else f"{'-':>7}"
            print(
                f"{r['backend']:<8} {r['load_s']:7.2f} {kind:<12} {d['latency_ms']['p50']:7.1f} "
                f"{d['latency_ms']['mean']:8.1f} {d['latency_ms']['p95']:7.1f} {d['intent_accuracy']:9.2f} {keys}"
            )
    print(f"({results[0]['n'] if results else 0} validation lines, FastText guess as hint, 2 threads)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
