"""Benchmark: the NLU engine's speed and accuracy figures.

Measures, on a labelled set (default: the template-held-out validation corpus
models/nlu/corpus.valid.jsonl; any JSONL with text, intent, date_keys[, now, when] via --data):

* fast path latency p50/p95 (ms): ``parse`` calls answered without the fallback model
  (``ParseResult.source`` "fasttext" or "rules");
* hybrid latency: the mean over all calls, with the measured fallback rate (share of calls whose
  ``source`` is "lora" or "fallback") and the fallback calls' own mean;
* accuracy: intent, date-key exact set, ``when`` (exact minute; gold = the row's ``when``, else the spec
  resolution of its gold keys against the row's ``now`` or ``EVAL_NOW``), invalid keys emitted;
* CLI throughput: ``jarvis-desktop parse --jsonl`` run as a real subprocess on N lines piped to stdin,
  wall time from spawn to exit (process start and model load included), as utterances/s; plus the
  same for 1 line (the fixed start-up cost).

The engine is built as the CLI builds it (``Assistant(record_history=False).nlu``, default settings in a
scratch ``JARVIS_DESKTOP_HOME``), so a fallback wired into it is measured too.

Run:
    nice .venv/bin/python bench/nlu.py                       # whole validation set
    nice .venv/bin/python bench/nlu.py --limit 500 --json
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("JARVIS_DESKTOP_HOME", tempfile.mkdtemp(prefix="jarvis-bench-"))

from jarvis_desktop.nlu import vocab  # noqa: E402
from jarvis_desktop.nlu.evaluate import EVAL_NOW, load_rows  # noqa: E402
from jarvis_desktop.nlu.resolve import when_text  # noqa: E402

FALLBACK_SOURCES = ("lora", "fallback")


def _q(lat: list[float], p: float) -> float:
    lat = sorted(lat)
    return round(lat[min(len(lat) - 1, int(p * len(lat)))], 3) if lat else 0.0


def _mean(xs: list[float]) -> float:
    return round(sum(xs) / len(xs), 3) if xs else 0.0


def measure_engine(rows: list[dict]) -> dict:
    from jarvis_desktop.assistant import Assistant

    engine = Assistant(record_history=False).nlu
    engine.parse("hello")  # load the models outside the timings
    fast, slow, sources = [], [], {}
    intent_ok = keys_ok = when_ok = invalid = 0
    for r in rows:
        now = datetime.fromisoformat(r["now"]) if r.get("now") else EVAL_NOW
        t0 = time.perf_counter()
        res = engine.parse(r["text"], now=now)
        ms = (time.perf_counter() - t0) * 1000.0
        (slow if res.source in FALLBACK_SOURCES else fast).append(ms)
        sources[res.source] = sources.get(res.source, 0) + 1
        gold_when = r["when"] if "when" in r else (when_text(r["date_keys"], now) if r["date_keys"] else None)
        intent_ok += res.intent == r["intent"]
        keys_ok += res.date_keys == list(r["date_keys"])
        when_ok += res.when == gold_when
        invalid += sum(not vocab.is_valid_key(k) for k in res.date_keys)
    n = len(rows)
    pct = lambda x: round(100.0 * x / n, 2) if n else 0.0  # noqa: E731
    return {
        "n": n,
        "fast_path_ms": {"p50": _q(fast, 0.5), "p95": _q(fast, 0.95), "mean": _mean(fast), "n": len(fast)},
        "hybrid_mean_ms": _mean(fast + slow),
        "fallback_rate": pct(len(slow)),
        "fallback_mean_ms": _mean(slow),
        "sources": sources,
        "intent_accuracy": pct(intent_ok),
        "date_keys_accuracy": pct(keys_ok),
        "when_accuracy": pct(when_ok),
        "invalid_keys": invalid,
    }


def measure_cli(rows: list[dict]) -> dict:
    exe = shutil.which("jarvis-desktop", path=str(Path(sys.executable).parent)) or shutil.which("jarvis-desktop")
    cmd = [exe, "parse", "--jsonl"] if exe else [sys.executable, "-m", "jarvis_desktop.cli", "parse", "--jsonl"]

    def run(lines: list[str]) -> tuple[float, int]:
        t0 = time.perf_counter()
        out = subprocess.run(cmd, input="".join(lines), capture_output=True, text=True, check=True, cwd=ROOT).stdout
        return time.perf_counter() - t0, sum(1 for line in out.splitlines() if line.strip())

    lines = [json.dumps({"text": r["text"], "now": r.get("now") or EVAL_NOW.isoformat()}) + "\n" for r in rows]
    start_s, _ = run(lines[:1])
    total_s, got = run(lines)
    return {
        "command": " ".join(Path(c).name if i == 0 else c for i, c in enumerate(cmd)),
        "lines": len(lines),
        "outputs": got,
        "wall_s": round(total_s, 3),
        "utterances_per_s": round(len(lines) / total_s, 1),
        "one_line_wall_s": round(start_s, 3),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", help="JSONL with text, intent, date_keys[, now, when] (default: validation corpus)")
    ap.add_argument("--limit", type=int, default=0, help="first N rows only (0 = all)")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args(argv)
    rows = load_rows(args.data)
    rows = rows[: args.limit] if args.limit else rows
    rep = {"data": args.data or "models/nlu/corpus.valid.jsonl", **measure_engine(rows), "cli": measure_cli(rows)}
    if args.json:
        print(json.dumps(rep, indent=1))
        return 0
    f, c = rep["fast_path_ms"], rep["cli"]
    print(f"data: {rep['data']} ({rep['n']} utterances), sources: {rep['sources']}")
    print(f"fast path latency:   p50 {f['p50']:.3f} ms, p95 {f['p95']:.3f} ms (n={f['n']})")
    print(
        f"hybrid latency:      mean {rep['hybrid_mean_ms']:.3f} ms, fallback rate {rep['fallback_rate']:.2f} % "
        f"(fallback calls mean {rep['fallback_mean_ms']:.3f} ms)"
    )
    print(f"intent accuracy:     {rep['intent_accuracy']:.2f} %")
    print(f"date-key exact set:  {rep['date_keys_accuracy']:.2f} %")
    print(f"when accuracy:       {rep['when_accuracy']:.2f} %")
    print(f"invalid keys:        {rep['invalid_keys']}")
    print(
        f"CLI throughput:      {c['utterances_per_s']:.1f} utterances/s ({c['lines']} lines in {c['wall_s']:.2f} s, "
        f"process start included; 1 line takes {c['one_line_wall_s']:.2f} s) [{c['command']}]"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
