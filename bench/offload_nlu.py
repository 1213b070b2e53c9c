"""Benchmark of the NLU LoRA fallback offloaded to a remote server (issue 16 item 4), on real processes:

* "the remote": ``python -m llama_cpp.server`` on the embedded SmolLM2 GGUF with ``--lora_path
  adapters/date-intent/adapter.gguf`` (127.0.0.1, one thread);
* the local fallback: :class:`~jarvis_desktop.nlu.lora_fallback.LoraFallback` in-process (llama.cpp, ``--threads``).

Measures, on the utterances of tests/test_nlu_remote.py (FastText unsure, so the fallback decides), ``--runs`` each:
1. latency of one fallback decision: local vs remote (p50 / p90, ms), and whether the intents agree;
   the first remote call (the base vocabulary loads, ~0.1 s) is reported apart;
2. failover per fault (down, hung, HTTP 500, garbage answer): seconds from the call to the local decision
   through :class:`~jarvis_desktop.nlu.remote_fallback.PlacedLoraFallback` (placement "remote"), with
   ``[remote] nlu_timeout_s`` = ``--timeout`` (default 5 s, the setting's default).

Run: flock /tmp/jarvis-bench.lock .venv/bin/python bench/offload_nlu.py [--runs 3] [--threads 1] [--timeout 5] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("JARVIS_DESKTOP_HOME", tempfile.mkdtemp(prefix="jarvis-bench-"))

from jarvis_desktop.config import RemoteSettings, Settings
from jarvis_desktop.models import NLU_MODEL_DIR
from jarvis_desktop.nlu.intent_model import IntentClassifier
from jarvis_desktop.nlu.lora_fallback import LoraFallback
from jarvis_desktop.nlu.remote_fallback import PlacedLoraFallback, RemoteLoraFallback
from tests.remote_helpers import API_KEY, FailingServer, free_port
from tests.test_nlu_remote import UTTERANCES, GarbageServer, LoraServer


def pct(values: list[float], q: float) -> float:
    """The q-quantile (0..1) of ``values``, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3, help="passes over the utterances (latency) and per fault")
    ap.add_argument("--threads", type=int, default=1, help="threads of the local fallback (the server has 1)")
    ap.add_argument("--timeout", type=float, default=5.0, help="[remote] nlu_timeout_s for the fault runs (s)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    classifier = IntentClassifier.load(NLU_MODEL_DIR)
    hints = {t: classifier.predict(t)[0] for t in UTTERANCES}
    local = LoraFallback(backend="llama", n_threads=args.threads).load()
    server = LoraServer()
    out: dict = {"utterances": len(UTTERANCES), "runs": args.runs, "local_threads": args.threads}
    try:
        remote = RemoteLoraFallback(server.base_url, timeout_s=30.0, api_key=API_KEY)
        t0 = time.perf_counter()
        remote.intent(UTTERANCES[0], hints[UTTERANCES[0]])
        out["remote_first_call_ms"] = round((time.perf_counter() - t0) * 1000, 1)
        lat: dict[str, list[float]] = {"local": [], "remote": []}
        agree = 0
        for _ in range(args.runs):
            for text in UTTERANCES:
                t0 = time.perf_counter()
                decision = local.decide(text, hints[text])
                lat["local"].append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                intent = remote.intent(text, hints[text])
                lat["remote"].append(time.perf_counter() - t0)
                agree += decision is not None and decision.intent == intent
        for where, values in lat.items():
            out[f"{where}_p50_ms"] = round(pct(values, 0.5) * 1000, 1)
            out[f"{where}_p90_ms"] = round(pct(values, 0.9) * 1000, 1)
        out["agree"] = f"{agree}/{len(lat['local'])}"
    finally:
        server.stop()

    failover: dict[str, dict[str, float]] = {}
    for fault in ("down", "hung", "500", "garbage"):
        srv: FailingServer | GarbageServer | None = None
        if fault == "down":
            url = f"http://127.0.0.1:{free_port()}/v1"
        else:
            srv = GarbageServer() if fault == "garbage" else FailingServer("hang" if fault == "hung" else "500")
            url = srv.base_url
        try:
            remote_settings = RemoteSettings(placement="remote", nlu_base_url=url, nlu_timeout_s=args.timeout)
            remote_settings.track_idle = False
            remote = RemoteLoraFallback(url, timeout_s=args.timeout, api_key=API_KEY)
            placed = PlacedLoraFallback(local, remote, Settings(remote=remote_settings))
            times = []
            for i in range(args.runs):
                text = UTTERANCES[i % len(UTTERANCES)]
                t0 = time.perf_counter()
                placed.decide(text, hints[text])
                times.append(time.perf_counter() - t0)
                assert placed.last is not None and placed.last.fallback, fault
            failover[fault] = {"median_s": round(statistics.median(times), 3), "max_s": round(max(times), 3)}
            failover[fault]["notice"] = placed.last.notice  # type: ignore[assignment]
        finally:
            if srv is not None:
                srv.stop()
    out["failover"] = failover
    out["timeout_s"] = args.timeout

    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    print(f"{len(UTTERANCES)} utterances x {args.runs} runs; local fallback {args.threads} thread(s), server 1 thread")
    print(
        f"fallback decision: local p50 {out['local_p50_ms']} ms (p90 {out['local_p90_ms']}), "
        f"remote p50 {out['remote_p50_ms']} ms (p90 {out['remote_p90_ms']}); intents agree {out['agree']}; "
        f"first remote call {out['remote_first_call_ms']} ms"
    )
    for fault, row in failover.items():
        print(f"failover {fault:8s} (nlu_timeout_s {args.timeout:g}): median {row['median_s']} s, max {row['max_s']} s")
        print(f"    notice: {row['notice']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
