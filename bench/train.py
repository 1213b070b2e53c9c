"""Background LoRA training on this machine: job start-up overhead, steps/s and tokens/s, the assistant's
NLU latency while a job trains, and the time to hot-swap the finished adapter into a running engine.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/train.py                 # 12 steps, batch 8, 96 tokens
    .venv/bin/python bench/train.py --steps 20 --batch-size 8 --json

What runs: a real job through :class:`~jarvis_desktop.jobs.runner.JobRunner` (a ``train-adapter`` process at
nice 10) on the first ``--rows`` rows of the built-in corpus, with the default LoRA (r 8, layers 14-29, all
projections), validation on 50 rows, GGUF export on. In a throw-away data dir (``JARVIS_DESKTOP_HOME``); the
base-model cache is ``JARVIS_BASE_CACHE`` or the user cache dir.

Figures: ``startup_s`` submit -> the job's ``start`` line (process, imports, data check);
``first_step_s`` submit -> first progress line (adds the base model load and the first step);
``steps_per_s`` / ``tokens_per_s`` over steps 2..N (the first step is warm-up); ``wall_s`` submit -> succeeded;
``peak_rss_mib`` the largest RSS of the job process (and its children), sampled every 0.2 s with psutil;
``nlu_ms`` FastText-path ``parse`` p50/p95 idle vs while training; ``swap_s`` load + swap of the new adapter
into a running :class:`~jarvis_desktop.nlu.engine.NluEngine` (llama.cpp backend), and ``swap_back_s``.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

UTTERANCES = [
    "remind me to call mom tomorrow at 3 pm",
    "set a timer for ten minutes",
    "what's the weather like",
    "pause the music",
    "add milk to my notes",
    "wake me up at seven",
    "open firefox",
    "what's on my calendar next friday",
]


def _pct(values: list[float]) -> dict:
    values = sorted(values)
    return {"p50": round(values[len(values) // 2], 2), "p95": round(values[int(0.95 * (len(values) - 1))], 2)}


def _nlu_latency(engine, seconds: float, stop: threading.Event | None = None) -> list[float]:
    out = []
    deadline = time.monotonic() + seconds
    for text in itertools.cycle(UTTERANCES):
        if time.monotonic() > deadline or (stop is not None and stop.is_set()):
            break
        t0 = time.perf_counter()
        engine.parse(text)
        out.append((time.perf_counter() - t0) * 1000)
        time.sleep(0.05)
    return out


def _sample_rss(peak: list[float], stop: threading.Event) -> None:
    """Keep ``peak[0]`` at the largest summed RSS (MiB) of this process's children until ``stop`` is set."""
    import psutil

    me = psutil.Process()
    while not stop.wait(0.2):
        total = 0
        for child in me.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                total += child.memory_info().rss
        peak[0] = max(peak[0], total / 2**20)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=12)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--max-len", type=int, default=96)
    p.add_argument("--rows", type=int, default=256)
    p.add_argument("--json", action="store_true")
    args = p.parse_args()

    import platformdirs

    os.environ.setdefault("JARVIS_BASE_CACHE", str(Path(platformdirs.user_cache_dir("jarvis-desktop")) / "base"))
    os.environ["HF_HUB_OFFLINE"] = "1"
    home = Path(tempfile.mkdtemp(prefix="jarvis-bench-training-"))
    os.environ["JARVIS_DESKTOP_HOME"] = str(home)

    from jarvis_desktop.config import Settings
    from jarvis_desktop.jobs.adapters import builtin_dir, swap_fallback
    from jarvis_desktop.jobs.events import JobEvent, ProgressEvent, StartEvent
    from jarvis_desktop.jobs.runner import JobRunner
    from jarvis_desktop.jobs.spec import JobSpec
    from jarvis_desktop.models import NLU_MODEL_DIR
    from jarvis_desktop.nlu.engine import NluEngine
    from jarvis_desktop.store.db import Database

    data = home / "data.jsonl"
    with open(NLU_MODEL_DIR / "corpus.train.jsonl", encoding="utf-8") as fh:
        data.write_text("".join(itertools.islice(fh, args.rows)), encoding="utf-8")
    fast = NluEngine().load()  # FastText path, as the assistant answers most commands
    idle = _nlu_latency(fast, 4.0)

    runner = JobRunner(Database(home / "jarvis.sqlite3"))
    marks: dict[str, float] = {}
    progress: list[dict] = []

    def on_event(job_id: int, ev: JobEvent) -> None:
        now = time.perf_counter()
        if isinstance(ev, StartEvent):
            marks.setdefault("start", now)
        elif isinstance(ev, ProgressEvent):
            marks.setdefault("first_step", now)
            progress.append(dict(ev.to_dict(), t=now))

    runner.add_listener(on_event)
    spec = JobSpec(
        data=str(data),
        max_steps=args.steps,
        batch_size=args.batch_size,
        max_len=args.max_len,
        eval_rows=50,
        checkpoint_every=max(1, args.steps // 2),
        gguf=True,
    )
    t0 = time.perf_counter()
    job = runner.submit(spec)
    stop = threading.Event()
    busy: list[float] = []
    waiter = threading.Thread(target=lambda: (runner.wait(job.id), stop.set()), daemon=True)
    waiter.start()
    peak = [0.0]
    sampler = threading.Thread(target=_sample_rss, args=(peak, stop), daemon=True)
    sampler.start()
    while "first_step" not in marks and not stop.is_set():
        time.sleep(0.1)
    busy = _nlu_latency(fast, 3600, stop)
    waiter.join()
    done = runner.get(job.id)
    wall = time.perf_counter() - t0
    runner.close()
    if done.status != "succeeded":
        print(f"job {done.status}: {done.error}", file=sys.stderr)
        return 1
    steady = progress[1:]
    span = steady[-1]["t"] - progress[0]["t"] if steady else float("nan")
    steps_per_s = len(steady) / span if steady else float("nan")
    tokens_per_s = statistics.fmean(e["tokens_per_s"] for e in steady) if steady else float("nan")

    settings = Settings()
    settings.nlu.fallback = "llama"
    engine = NluEngine.from_settings(settings)
    first = Path(done.output_path)
    swap_s = swap_fallback(engine, first, settings)
    back_s = swap_fallback(engine, builtin_dir(), settings) if (builtin_dir() / "adapter.gguf").is_file() else None
    result = {
        "cpu_threads": os.cpu_count(),
        "steps": args.steps,
        "batch_size": args.batch_size,
        "max_len": args.max_len,
        "startup_s": round(marks["start"] - t0, 2),
        "first_step_s": round(marks["first_step"] - t0, 2),
        "steps_per_s": round(steps_per_s, 3),
        "s_per_step": round(1 / steps_per_s, 2),
        "tokens_per_s": round(tokens_per_s, 1),
        "wall_s": round(wall, 1),
        "peak_rss_mib": round(peak[0]),
        "nlu_ms_idle": _pct(idle),
        "nlu_ms_while_training": _pct(busy) if busy else None,
        "swap_s": round(swap_s, 3),
        "swap_back_s": round(back_s, 3) if back_s is not None else None,
        "validation": done.result.get("validation", {}).get("new"),
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(f"job: {args.steps} steps, batch {args.batch_size}, {args.max_len} tokens, {os.cpu_count()} CPU threads")
        print(f"  start-up (submit -> start line)   {result['startup_s']:.2f} s")
        print(f"  submit -> first step              {result['first_step_s']:.2f} s")
        print(
            f"  training                          {result['steps_per_s']:.3f} steps/s "
            f"({result['s_per_step']:.2f} s/step), {result['tokens_per_s']:.0f} tokens/s"
        )
        print(f"  whole job (+validation, GGUF)     {result['wall_s']:.1f} s")
        print(f"  peak RSS of the job process       {result['peak_rss_mib']} MiB")
        idle_ms = result["nlu_ms_idle"]
        print(f"  NLU parse idle                    p50 {idle_ms['p50']} ms, p95 {idle_ms['p95']} ms")
        if busy:
            b = result["nlu_ms_while_training"]
            print(f"  NLU parse while training          p50 {b['p50']} ms, p95 {b['p95']} ms")
        print(
            f"  hot swap (load + swap, llama.cpp) {result['swap_s'] * 1000:.0f} ms"
            + (f"; back to the built-in {result['swap_back_s'] * 1000:.0f} ms" if back_s is not None else "")
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
