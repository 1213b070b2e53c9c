"""Overhead of the resource monitor (issue 5 target: under 1 % of one core at the 1 s interval).

Runs :class:`jarvis_desktop.monitor.ResourceMonitor` for ``--seconds`` at each interval and prints the CPU
time its sampling thread used, in % of one core (``ResourceMonitor.overhead_percent``: the thread's CPU
seconds / wall seconds x 100), and the CPU cost of one psutil sample (``take_sample``, mean of 200, ms).

Run: .venv/bin/python bench/monitor.py [--seconds 10] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("JARVIS_DESKTOP_HOME", tempfile.mkdtemp(prefix="jarvis-bench-"))

from jarvis_desktop.monitor import ResourceMonitor
from jarvis_desktop.monitor.sample import take_sample


def monitor_overhead(interval_s: float, seconds: float) -> dict:
    """Run the monitor ``seconds`` at ``interval_s``; its CPU use in % of one core and ms per sample."""
    monitor = ResourceMonitor(interval_s).start()
    time.sleep(seconds)
    monitor.stop()
    n = len(monitor.snapshot().history)
    t0 = time.thread_time()
    for _ in range(200):
        take_sample()
    per_sample_ms = (time.thread_time() - t0) / 200 * 1000
    return {
        "interval_s": interval_s,
        "samples": n,
        "cpu_percent_of_one_core": round(monitor.overhead_percent(), 3),
        "cpu_ms_per_sample": round(per_sample_ms, 3),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    rows = [monitor_overhead(interval, args.seconds) for interval in (1.0, 0.1)]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for r in rows:
        print(
            f"monitor at {r['interval_s']:g} s: {r['cpu_percent_of_one_core']:.3f} % of one core "
            f"({r['samples']} samples in {args.seconds:g} s; {r['cpu_ms_per_sample']:.2f} ms CPU per sample)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
