"""A default training job started from the Training tab, as a user would: how long it takes, what it
scores against the shipped adapter, and whether the GUI stays responsive meanwhile (issue 6 targets:
<= 20 minutes on 2 cores, validation within 1 point of ``adapters/date-intent``, longest event-loop stall
under 100 ms).

Offscreen Qt (``QT_QPA_PLATFORM=offscreen`` unless a display is set), a throw-away ``JARVIS_DESKTOP_HOME``.
The tab's default form (built-in corpus, 400 steps of batch 8, LoRA r 8 on layers 14-29) is submitted with
``TrainingTab.start()``; the job runs as its own ``train-adapter`` process. A 10 ms ``QTimer`` probe records
the gap between its ticks: a stall is ``gap - 10 ms``. The job process's peak RSS (this process's children) is
sampled with psutil every second on a Python thread. Scores are the job's own validation
(``result["validation"]``: exact intent+keys match, greedy answers, the same rows for the new and the current
adapter).

Run: .venv/bin/python bench/training_gui.py [--steps N] [--json]     (default N = the tab's default)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("JARVIS_DESKTOP_HOME", tempfile.mkdtemp(prefix="jarvis-bench-"))
if not os.environ.get("DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import contextlib

import psutil
from PySide6.QtCore import QElapsedTimer, QTimer
from PySide6.QtWidgets import QApplication

from jarvis_desktop.ui.training_tab import JobsController, TrainingTab

PROBE_MS = 10


def children_rss_mib() -> float:
    """RSS of this process's children (the job process and anything it started), MiB."""
    total = 0
    for child in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            total += child.memory_info().rss
    return total / 2**20


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, help="optimiser steps (default: the tab's default)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    app = QApplication(sys.argv[:1])
    tab = TrainingTab(JobsController(), auto_activate=False)
    tab.resize(1000, 700)
    tab.show()
    if args.steps:
        tab.max_steps.setValue(args.steps)
    stalls: list[float] = []
    clock = QElapsedTimer()
    clock.start()
    last = [clock.elapsed()]

    def tick() -> None:
        now = clock.elapsed()
        stalls.append(max(0, now - last[0] - PROBE_MS))
        last[0] = now

    probe = QTimer()
    probe.timeout.connect(tick)
    probe.start(PROBE_MS)
    state = {"t0": None, "peak_rss": 0.0, "done": threading.Event()}

    def sample_rss() -> None:  # off the GUI thread
        while not state["done"].wait(1.0):
            state["peak_rss"] = max(state["peak_rss"], children_rss_mib())

    def finished(title: str, body: str) -> None:
        state["wall_s"] = time.perf_counter() - state["t0"]
        app.quit()

    tab.job_finished.connect(finished)

    def start() -> None:
        state["t0"] = time.perf_counter()
        if not tab.start():
            print("error: the tab refused to start a job", file=sys.stderr)
            app.exit(2)

    threading.Thread(target=sample_rss, daemon=True).start()
    QTimer.singleShot(1000, start)
    if app.exec() == 2:
        return 2
    state["done"].set()
    job = tab.controller.runner().get(tab.current_job_id)
    tab.controller.close()

    progress, result = job.progress, job.result
    steps = int(progress.get("step") or 0)
    train_s = float(progress.get("elapsed_s") or 0)
    out = {
        "status": job.status,
        "steps": steps,
        "wall_s": round(state["wall_s"], 1),
        "train_s": round(train_s, 1),
        "s_per_step": round(train_s / steps, 2) if steps else None,
        "peak_rss_mib": round(state["peak_rss"]),
        "validation": result.get("validation"),
        "max_stall_ms": max(stalls) if stalls else None,
        "p99_stall_ms": sorted(stalls)[int(len(stalls) * 0.99)] if stalls else None,
        "probe_ticks": len(stalls),
        "error": job.error,
    }
    if args.json:
        print(json.dumps(out, indent=2, default=str))
    else:
        print(
            f"job {job.status}: {steps} steps in {out['train_s']} s of training "
            f"({out['s_per_step']} s/step), {out['wall_s']} s from Train to done"
        )
        print(f"peak RSS of the job process: {out['peak_rss_mib']} MiB")
        print(f"validation: {json.dumps(out['validation'], default=str)}")
        print(
            f"GUI event loop: longest stall {out['max_stall_ms']} ms, p99 {out['p99_stall_ms']} ms "
            f"over {out['probe_ticks']} probe ticks of {PROBE_MS} ms"
        )
        if job.error:
            print(f"error: {job.error}")
    return 0 if job.status == "succeeded" else 1


if __name__ == "__main__":
    sys.exit(main())
