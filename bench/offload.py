"""Benchmark of the resource monitor and cloud offload (issue 5), on real processes:

* "the cloud": ``python -m llama_cpp.server`` on the embedded SmolLM2 GGUF (127.0.0.1, one thread);
* the local model: the same GGUF in-process (llama.cpp, ``--threads`` threads).

Measures (medians over ``--runs``):
1. remote first-token latency vs local first-token latency (same model, same prompt);
2. switch-over local -> remote: the local model is loaded, memory becomes short, one request: time from the
   call to the first remote token, including the policy decision and unloading the local model;
   and back remote -> local (pressure eased: decision, reload, first local token);
3. fallback: the remote killed mid-answer -> seconds until the local model's first continued token;
4. monitor overhead: CPU time of the sampling thread over ``--monitor-seconds`` at 1 s and 0.1 s
   intervals, in % of one core, and the cost of one sample (ms);
5. cost (issue 16): a simulated 30-day month of the light/medium/heavy usage patterns
   (``jarvis_desktop.monitor.costs.PATTERNS``) through the cost model: the seed's VM ($0.0638/h) stopped after
   15 idle minutes vs an API per token (``--api-price`` USD per million tokens) vs the same VM always on; and the
   meter's own cost (ms to record one use and to sum today + this month in SQLite, 10 000 rows).

Run: .venv/bin/python bench/offload.py [--runs 5] [--threads 1] [--monitor-seconds 10] [--json]
     .venv/bin/python bench/offload.py --cost-only [--api-price 0.20]   (5. only: no model, seconds)
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

from jarvis_desktop.config import ChatSettings, MonitorSettings, RemoteSettings, Settings
from jarvis_desktop.llm.chat import LocalChatModel
from jarvis_desktop.llm.remote import RemoteChatModel
from jarvis_desktop.llm.router import ChatRouter
from jarvis_desktop.models import embedded_chat_gguf
from jarvis_desktop.monitor import ResourceMonitor
from tests.remote_helpers import API_KEY, LlamaServer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from monitor import monitor_overhead

PROMPT = [{"role": "user", "content": "What is the capital of France? Answer in one word."}]
STORY = [{"role": "user", "content": "Write a long story about a dragon who learns to cook."}]


def first_token_s(stream) -> float:
    t0 = time.perf_counter()
    next(stream)
    elapsed = time.perf_counter() - t0
    for _ in stream:
        pass
    return elapsed


def router_for(server: LlamaServer, local: LocalChatModel, short: bool) -> ChatRouter:
    monitor = MonitorSettings(buffer_gib=100_000.0) if short else MonitorSettings(buffer_gib=0.0, buffer_fraction=0.0)
    remote = RemoteSettings(base_url=server.base_url, model="smollm2")
    settings = Settings(chat=local.options, remote=remote, monitor=monitor)
    return ChatRouter(
        settings, monitor=ResourceMonitor(), local=local, remote=RemoteChatModel(remote, settings.chat, api_key=API_KEY)
    )


def timed_first(router: ChatRouter, messages=PROMPT) -> float:
    t0 = time.perf_counter()
    stream = router.stream(messages, max_tokens=16, temperature=0.0)
    next(stream)
    elapsed = time.perf_counter() - t0
    for _ in stream:
        pass
    return elapsed


def cost_month(api_price: float) -> dict:
    """Part 5: the month simulation per pattern, and the meter's SQLite cost."""
    from datetime import datetime, timedelta, timezone

    from jarvis_desktop.monitor.costs import PATTERNS, SEED_PRICE_PER_HOUR, Pricing, RemoteMeter, simulate_month
    from jarvis_desktop.store.db import Database
    from jarvis_desktop.store.remote_usage import RemoteUsageStore

    vm = Pricing(SEED_PRICE_PER_HOUR)
    rows = []
    for p in PATTERNS:
        m = simulate_month(p, vm, api_price)
        rows.append(
            {
                "pattern": p.name,
                "definition": (
                    f"{p.requests_per_day} req/day in {p.sessions_per_day} session(s), {p.input_tokens}+"
                    f"{p.output_tokens} tokens, {p.request_s:g} s each"
                    + (f", {p.long_jobs_per_day} x {p.long_job_minutes:g} min job/day" if p.long_jobs_per_day else "")
                    + f", {p.active_days} days"
                ),
                "requests": m.requests,
                "tokens": m.tokens,
                "vm_sessions": m.sessions,
                "vm_uptime_h": round(m.uptime_h, 1),
                "vm_idle_stop_usd": round(m.vm_idle_stop_usd, 2),
                "api_usd": round(m.api_usd, 2),
                "always_on_usd": round(m.always_on_usd, 2),
            }
        )
    with tempfile.TemporaryDirectory() as d:
        meter = RemoteMeter(RemoteUsageStore(Database(Path(d) / "usage.sqlite3", backups=None)))
        remote = RemoteSettings(price_per_hour=SEED_PRICE_PER_HOUR, monthly_budget_usd=20.0)
        base = datetime.now(timezone.utc) - timedelta(days=28)
        with meter.store.db.transaction() as conn:
            conn.executemany(
                "INSERT INTO remote_usage (at, kind, model, requests, input_tokens, output_tokens, seconds,"
                " uptime_s, cost_usd) VALUES (?, 'chat', 'm', 1, 500, 200, 5, 60, 0.001)",
                [((base + timedelta(minutes=4 * i)).isoformat(),) for i in range(10_000)],
            )
        t0 = time.perf_counter()
        for _ in range(50):
            meter.record(remote, "chat", started=time.time(), seconds=2.0, input_tokens=500, output_tokens=200)
        record_ms = (time.perf_counter() - t0) / 50 * 1000
        t0 = time.perf_counter()
        for _ in range(50):
            meter.summary(remote)
        summary_ms = (time.perf_counter() - t0) / 50 * 1000
    return {
        "vm_price_per_hour": SEED_PRICE_PER_HOUR,
        "idle_stop_minutes": vm.idle_stop_minutes,
        "start_minutes": vm.start_minutes,
        "api_price_per_million_tokens": api_price,
        "month_days": 30,
        "patterns": rows,
        "meter_ms": {"record": round(record_ms, 2), "summary_today_and_month": round(summary_ms, 2)},
    }


def print_cost(cost: dict) -> None:
    print(
        f"simulated 30-day month: VM ${cost['vm_price_per_hour']}/h stopped after {cost['idle_stop_minutes']:g} idle "
        f"min ({cost['start_minutes']:g} min start billed) vs API ${cost['api_price_per_million_tokens']:g}/M tokens"
        " vs the VM always on"
    )
    head = ("pattern", "definition", "requests", "tokens", "VM sessions", "VM uptime", "VM, idle stop")
    print("| " + " | ".join(head + ("API per token", "VM always on")) + " |")
    print("|---" * (len(head) + 2) + "|")
    for r in cost["patterns"]:
        cells = (
            r["pattern"],
            r["definition"],
            str(r["requests"]),
            f"{r['tokens'] / 1e6:.2f} M",
            str(r["vm_sessions"]),
            f"{r['vm_uptime_h']:.1f} h",
            f"${r['vm_idle_stop_usd']:.2f}",
            f"${r['api_usd']:.2f}",
            f"${r['always_on_usd']:.2f}",
        )
        print("| " + " | ".join(cells) + " |")
    m = cost["meter_ms"]
    print(f"meter: {m['record']:.2f} ms to record a use, {m['summary_today_and_month']:.2f} ms to sum today + month")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1, help="llama.cpp threads of the local model")
    ap.add_argument("--monitor-seconds", type=float, default=10.0)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--cost-only", action="store_true", help="only the simulated month of cost (no model)")
    ap.add_argument("--api-price", type=float, default=0.20, help="API USD per million tokens for the simulation")
    args = ap.parse_args()
    if args.cost_only:
        cost = cost_month(args.api_price)
        print(json.dumps({"cost": cost}, indent=2)) if args.json else print_cost(cost)
        return 0

    gguf = embedded_chat_gguf()
    server = LlamaServer(gguf)
    local = LocalChatModel(gguf, ChatSettings(n_threads=args.threads))
    out: dict = {
        "model": gguf.name,
        "runs": args.runs,
        "local_threads": args.threads,
        "cpu_count": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    try:
        local.warm_up()
        remote_router, local_router = router_for(server, local, True), router_for(server, local, False)
        timed_first(remote_router)  # warm the server's prompt cache path
        local.warm_up()
        ft_local = [timed_first(local_router) for _ in range(args.runs)]
        ft_remote = [timed_first(remote_router) for _ in range(args.runs)]
        out["first_token_ms"] = {
            "local_median": round(statistics.median(ft_local) * 1000, 1),
            "remote_median": round(statistics.median(ft_remote) * 1000, 1),
            "local_all": [round(x * 1000, 1) for x in ft_local],
            "remote_all": [round(x * 1000, 1) for x in ft_remote],
        }

        to_remote, to_local, unload, reload = [], [], [], []
        for _ in range(args.runs):
            local.warm_up()  # loaded and warm locally
            router = router_for(server, local, False)
            _ = router.local  # builds and registers the local backend
            router.settings.monitor.buffer_gib = 100_000.0  # pressure arrives
            to_remote.append(timed_first(router))
            unload.append(router.last.switch_s)
            assert router.last.backend == "remote" and not local.loaded
            router.settings.monitor.buffer_gib = 0.0  # pressure eases
            router.settings.monitor.buffer_fraction = 0.0
            router.settings.monitor.hysteresis_gib = 0.0
            to_local.append(timed_first(router))
            reload.append(router.last.switch_s)
            assert router.last.backend == "local" and local.loaded
        out["switch_ms"] = {
            "local_to_remote_first_token_median": round(statistics.median(to_remote) * 1000, 1),
            "of_which_unload_median": round(statistics.median(unload) * 1000, 1),
            "remote_to_local_first_token_median": round(statistics.median(to_local) * 1000, 1),
            "of_which_reload_median": round(statistics.median(reload) * 1000, 1),
        }

        doomed = LlamaServer(gguf)
        router = router_for(doomed, local, True)
        marks: list[float] = []
        stream = router.stream(STORY, max_tokens=80, on_notice=lambda _: marks.append(time.perf_counter()))
        next(stream)
        next(stream)
        killed = time.perf_counter()
        doomed.stop()
        for _ in stream:
            if marks and len(marks) == 1:
                marks.append(time.perf_counter())  # first continued token
        doomed.stop()
        out["fallback_ms"] = {
            "kill_to_notice": round((marks[0] - killed) * 1000, 1) if marks else None,
            "kill_to_first_local_token": round((marks[1] - killed) * 1000, 1) if len(marks) > 1 else None,
        }
    finally:
        server.stop()
    out["monitor_overhead"] = [
        monitor_overhead(1.0, args.monitor_seconds),
        monitor_overhead(0.1, min(args.monitor_seconds, 5.0)),
    ]
    out["cost"] = cost_month(args.api_price)
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        ft, sw, fb = out["first_token_ms"], out["switch_ms"], out["fallback_ms"]
        print(
            f"model {out['model']}, {out['cpu_count']} cores, load average {out['load_average']}, "
            f"local llama.cpp threads {args.threads}, {args.runs} runs"
        )
        print(
            f"first token: local {ft['local_median']:.0f} ms, remote (llama_cpp.server on localhost) "
            f"{ft['remote_median']:.0f} ms (medians)"
        )
        print(
            "switch local -> remote (decide + unload + remote first token): "
            f"{sw['local_to_remote_first_token_median']:.0f} ms (unload {sw['of_which_unload_median']:.0f} ms)"
        )
        print(
            "switch remote -> local (decide + reload + local first token): "
            f"{sw['remote_to_local_first_token_median']:.0f} ms (reload {sw['of_which_reload_median']:.0f} ms)"
        )
        print(
            f"remote killed mid-answer: notice after {fb['kill_to_notice']} ms, first local token after "
            f"{fb['kill_to_first_local_token']} ms"
        )
        for m in out["monitor_overhead"]:
            print(
                f"monitor at {m['interval_s']:g} s: {m['cpu_percent_of_one_core']:.3f} % of one core "
                f"({m['samples']} samples, {m['cpu_ms_per_sample']:.2f} ms CPU per sample)"
            )
        print_cost(out["cost"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
