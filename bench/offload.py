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
   intervals, in % of one core, and the cost of one sample (ms).

Run: .venv/bin/python bench/offload.py [--runs 5] [--threads 1] [--monitor-seconds 10] [--json]
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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1, help="llama.cpp threads of the local model")
    ap.add_argument("--monitor-seconds", type=float, default=10.0)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

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
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
