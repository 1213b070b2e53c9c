"""``jarvis-desktop monitor [--json] [--once] [--interval S] [--count N]``: print resource samples and the
model table (no Qt, no model loaded). Text mode prints one line per sample; ``--json`` one JSON object per
sample (the shape of :meth:`MonitorSnapshot.to_dict`, plus ``"cost"``: the remote's cost today and this month
against the budget, :meth:`jarvis_desktop.monitor.costs.CostSummary.to_dict`; ``null`` when the database cannot
be read)."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from typing import Any

from jarvis_desktop.config import Settings, load_settings
from jarvis_desktop.errors import BadInputError, JarvisError
from jarvis_desktop.llm.router import ChatRouter
from jarvis_desktop.monitor.costs import CostSummary, RemoteMeter, user_tz
from jarvis_desktop.monitor.resource_monitor import MonitorSnapshot, ResourceMonitor


def add_parser(sub: argparse._SubParsersAction[Any]) -> None:
    """Register the ``monitor`` sub-command on the CLI's sub-parsers."""
    s = sub.add_parser("monitor", help="live CPU, RAM, swap, GPU and model footprints")
    s.add_argument("--json", action="store_true", help="one JSON object per sample")
    s.add_argument("--once", action="store_true", help="print one sample and exit")
    s.add_argument("--interval", type=float, default=None, help="seconds between samples (default: [monitor])")
    s.add_argument("--count", type=int, default=0, help="stop after N samples (default: until Ctrl-C)")
    s.set_defaults(func=cmd_monitor)


def format_line(snap: MonitorSnapshot, cost: CostSummary | None = None) -> str:
    """One human line: CPU %, RAM available/total, swap, process RSS, GPU, remote idle, the remote's cost when
    it was used or is priced ("" before a sample)."""
    s = snap.latest
    if s is None:
        return ""
    parts = [
        f"cpu {s.cpu_percent:5.1f} %",
        f"ram {s.ram_available_mib / 1024:.1f}/{s.ram_total_mib / 1024:.1f} GiB free",
        f"swap {s.swap_used_mib / 1024:.1f}/{s.swap_total_mib / 1024:.1f} GiB",
        f"rss {s.process_rss_mib:.0f} MiB",
    ]
    if s.gpu_name and s.gpu_used_mib is not None and s.gpu_total_mib is not None:
        parts.append(f"gpu {s.gpu_name} {s.gpu_used_mib / 1024:.1f}/{s.gpu_total_mib / 1024:.1f} GiB")
    if snap.remote_idle_min is not None:
        parts.append(f"remote idle {snap.remote_idle_min:.0f} min")
    if cost is not None and (cost.month.requests or cost.pricing.priced or cost.budget.budget_usd > 0):
        parts.append(cost.line())
    return " | ".join(parts)


def cost_summary(settings: Settings, meter: RemoteMeter | None) -> CostSummary | None:
    """The remote's cost today / this month (``[nlu] timezone`` or the system's zone); None when unreadable."""
    if meter is None:
        return None
    try:
        return meter.summary(settings.remote, tz=user_tz(settings))
    except JarvisError:
        return None


def _add_chat_row(settings: Settings, monitor: ResourceMonitor) -> None:
    """The chat model's row: size, estimate and where the policy would run it now (nothing is loaded).
    A missing or unusable model must not stop the monitor: the row is then left out."""
    with contextlib.suppress(Exception):  # any failure: the monitor runs without the row
        router = ChatRouter(settings, monitor=monitor)
        decision = router.decide()
        monitor.registry.update(router.model_name, placement=decision.where, reason=decision.reason)


def _print_snapshot(snap: MonitorSnapshot, as_json: bool, with_models: bool, cost: CostSummary | None) -> None:
    if as_json:
        sys.stdout.write(json.dumps(snap.to_dict() | {"cost": cost.to_dict() if cost else None}) + "\n")
    else:
        print(format_line(snap, cost))
        if with_models:
            for m in snap.models:
                size = m.footprint_mib if m.footprint_mib is not None else m.estimate_mib
                print(f"  model {m.name} [{m.kind}] {m.state}, {size:.0f} MiB, runs {m.placement}: {m.reason}")
    sys.stdout.flush()


def cmd_monitor(args: argparse.Namespace) -> int:
    """``jarvis-desktop monitor``: sample until Ctrl-C (or ``--once`` / ``--count``); exit code 0.

    Raises:
        BadInputError: ``--interval`` not above 0.
    """
    settings = load_settings()
    interval = args.interval if args.interval is not None else settings.monitor.interval_s
    if interval <= 0:
        raise BadInputError(f"--interval must be > 0 s, got {interval}")
    monitor = ResourceMonitor(interval, settings.monitor.history_len)
    _add_chat_row(settings, monitor)
    meter: RemoteMeter | None = None
    with contextlib.suppress(JarvisError):  # a damaged or locked database: the monitor runs without the cost
        meter = RemoteMeter.open_default()
    monitor.sample_now()  # primes psutil's CPU counter (its first reading is 0.0)
    time.sleep(min(interval, 0.5))
    n = 0
    try:
        while True:
            monitor.sample_now()
            cost = cost_summary(settings, meter)
            _print_snapshot(monitor.snapshot(), args.json, with_models=n == 0 or args.once, cost=cost)
            n += 1
            if args.once or (args.count and n >= args.count):
                return 0
            time.sleep(interval)
    except KeyboardInterrupt:
        return 0
