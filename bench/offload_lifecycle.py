"""Benchmark of the remote machine's lifecycle hooks (issue 16 item 3), on real processes:

* the start hook: a /bin/sh script that launches ``python -m llama_cpp.server`` (the embedded SmolLM2, one
  thread, 127.0.0.1) in the background and returns, as ``gcloud compute instances start`` returns before the
  VM's server answers; the stop hook: a script that kills it and waits for it to exit;
* a :class:`~jarvis_desktop.llm.router.ChatRouter` with ``placement = "remote"`` and those hooks.

Per run (``--runs``): a request with the server down: **start-to-first-token** (call -> first remote token),
split into the start command's own time, the wait until the endpoint answered (polled every 0.5 s) and the
first token after that; then nothing: **idle stop**: time from the end of that last use to the stop command
starting (vs ``--idle-min``) and to the machine being down. Also the cost of one probe (``GET /models``) of a
running server, paid before a request when the endpoint has not answered for ``FRESH_S`` (60 s).

Run: flock /tmp/jarvis-bench.lock .venv/bin/python bench/offload_lifecycle.py [--runs 3] [--idle-min 0.05] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import stat
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("JARVIS_DESKTOP_HOME", tempfile.mkdtemp(prefix="jarvis-bench-"))

import contextlib

from jarvis_desktop.config import ChatSettings, MonitorSettings, RemoteSettings, Settings
from jarvis_desktop.llm.chat import LocalChatModel
from jarvis_desktop.llm.remote import RemoteChatModel
from jarvis_desktop.llm.router import ChatRouter
from jarvis_desktop.models import embedded_chat_gguf
from jarvis_desktop.monitor import ResourceMonitor
from tests.remote_helpers import free_port

PROMPT = [{"role": "user", "content": "What is the capital of France? Answer in one word."}]


def write_script(path: Path, body: str) -> list[str]:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return [str(path)]


def make_hooks(work: Path, port: int) -> tuple[list[str], list[str], Path]:
    pidfile = work / "server.pid"
    server = [sys.executable, "-m", "llama_cpp.server", "--model", str(embedded_chat_gguf())]
    server += ["--host", "127.0.0.1", "--port", str(port), "--n_threads", "1", "--n_ctx", "2048"]
    start = write_script(work / "start.sh", f'{" ".join(server)} > /dev/null 2>&1 &\necho $! > "{pidfile}"\n')
    stop = write_script(
        work / "stop.sh",
        f'PID=$(cat "{pidfile}")\nkill "$PID" 2>/dev/null\nwhile kill -0 "$PID" 2>/dev/null; do sleep 0.1; done\n',
    )
    return start, stop, pidfile


def one_run(local: LocalChatModel, work: Path, idle_min: float) -> dict[str, float]:
    port = free_port()
    start, stop, pidfile = make_hooks(work, port)
    remote = RemoteSettings(
        base_url=f"http://127.0.0.1:{port}/v1",
        model="smollm2",
        placement="remote",
        retries=0,
        start_command=start,
        stop_command=stop,
        start_timeout_s=120.0,
        idle_stop_minutes=idle_min,
    )
    settings = Settings(chat=local.options, remote=remote, monitor=MonitorSettings())
    router = ChatRouter(
        settings, monitor=ResourceMonitor(), local=local, remote=RemoteChatModel(remote, settings.chat, "no-key")
    )
    life = router.lifecycle
    try:
        t_call = time.time()
        stream = router.stream(PROMPT, max_tokens=8, temperature=0.0)
        next(stream)
        t_first = time.time()
        for _ in stream:
            pass
        t_last_use = time.time()
        if router.last is None or router.last.backend != "remote":
            raise RuntimeError(f"not answered remotely: {router.last}")
        events = {e.state: e.at for e in life.history()}
        hook_s = life.last_hook.seconds if life.last_hook is not None else float("nan")
        probe = []
        for _ in range(5):
            t0 = time.perf_counter()
            router._probe_remote(2.0)
            probe.append(time.perf_counter() - t0)
        deadline = time.monotonic() + idle_min * 60 + 30
        while life.state != "down" and time.monotonic() < deadline:
            time.sleep(0.02)
        hist = life.history()
        stopping = next(e.at for e in hist if e.state == "stopping")
        down = next(e.at for e in hist if e.state == "down")
        return {
            "start_to_first_token_s": t_first - t_call,
            "start_command_s": hook_s,
            "wait_until_answering_s": events["up"] - events["starting"] - hook_s,
            "first_token_after_up_s": t_first - events["up"],
            "probe_ms": statistics.median(probe) * 1000,
            "idle_setting_s": idle_min * 60,
            "idle_to_stop_command_s": stopping - t_last_use,
            "idle_to_down_s": down - t_last_use,
        }
    finally:
        router.close()
        if pidfile.exists():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pidfile.read_text()), signal.SIGKILL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--idle-min", type=float, default=0.05, help="idle_stop_minutes for the runs")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    local = LocalChatModel(embedded_chat_gguf(), ChatSettings(n_threads=1))
    runs = []
    with tempfile.TemporaryDirectory(prefix="jarvis-lifecycle-") as tmp:
        for i in range(args.runs):
            work = Path(tmp) / str(i)
            work.mkdir()
            runs.append(one_run(local, work, args.idle_min))
    keys = list(runs[0])
    summary = {k: {"median": statistics.median(r[k] for r in runs), "max": max(r[k] for r in runs)} for k in keys}
    if args.json:
        print(json.dumps({"runs": runs, "summary": summary}, indent=1))
        return
    print(f"{args.runs} runs, idle_stop_minutes = {args.idle_min:g} ({args.idle_min * 60:g} s)")
    for k in keys:
        unit = "ms" if k.endswith("_ms") else "s"
        print(f"  {k:28s} median {summary[k]['median']:8.3f} {unit}   max {summary[k]['max']:8.3f} {unit}")


if __name__ == "__main__":
    main()
