"""Start and idle-stop hooks of the remote machine (issue 16 item 3), against real scripts and a real server.

The start hook is a real shell script that records its call and launches ``python -m llama_cpp.server`` (the
embedded SmolLM2) on 127.0.0.1 in the background; the stop hook is a script that records its call and kills
it. Bounds: a failing start command is reported at once (< 5 s to the notice); a started endpoint that never
answers is given up after ``start_timeout_s`` = 2 s (notice < 2 + 2 s probe + 1.5 s); the idle stop runs
within 1.5 s of ``idle_stop_minutes`` (0.08 min = 4.8 s here) after the last use, and only once.
"""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import sys
import time
from pathlib import Path

import pytest

from jarvis_desktop.config import ChatSettings, MonitorSettings, RemoteSettings, Settings
from jarvis_desktop.llm.chat import LocalChatModel
from jarvis_desktop.llm.remote import RemoteChatModel
from jarvis_desktop.llm.router import ChatRouter
from jarvis_desktop.models import embedded_chat_gguf
from jarvis_desktop.monitor import ResourceMonitor
from tests.remote_helpers import free_port

pytestmark = pytest.mark.slow

QUESTION = [{"role": "user", "content": "What is the capital of France? Answer in one word."}]
STORY = [{"role": "user", "content": "Write a long story about a dragon who learns to cook."}]
LOCAL_OPTIONS = ChatSettings(n_threads=1)
IDLE_MIN = 0.08  # 4.8 s


@pytest.fixture(scope="module")
def local():
    chat = LocalChatModel(embedded_chat_gguf(), LOCAL_OPTIONS)
    chat.warm_up()
    return chat


def script(path: Path, body: str) -> list[str]:
    """Write an executable /bin/sh script; returns its argument list."""
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return [str(path)]


def hooks(tmp_path: Path, port: int) -> tuple[list[str], list[str], Path, Path]:
    """(start command, stop command, calls file, pid file): the start script launches llama_cpp.server in the
    background and returns; the stop script kills it and waits for it to exit."""
    calls, pidfile = tmp_path / "calls.txt", tmp_path / "server.pid"
    server = [sys.executable, "-m", "llama_cpp.server", "--model", str(embedded_chat_gguf())]
    server += ["--host", "127.0.0.1", "--port", str(port), "--n_threads", "1", "--n_ctx", "2048"]
    start = script(
        tmp_path / "start.sh",
        f'echo "start $*" >> "{calls}"\n'
        f"{' '.join(server)} > /dev/null 2>&1 &\n"
        f'echo $! > "{pidfile}"\necho "launched server pid $!"\n',
    )
    stop = script(
        tmp_path / "stop.sh",
        f'echo "stop" >> "{calls}"\nPID=$(cat "{pidfile}")\nkill "$PID" 2>/dev/null\n'
        'while kill -0 "$PID" 2>/dev/null; do sleep 0.1; done\nexit 0\n',
    )
    return start, stop, calls, pidfile


def make_router(local, port: int, **fields) -> ChatRouter:
    remote = RemoteSettings(
        base_url=f"http://127.0.0.1:{port}/v1",
        model="smollm2",
        placement="remote",
        retries=0,
        first_token_timeout_s=20.0,
        chunk_timeout_s=5.0,
        **fields,
    )
    settings = Settings(chat=LOCAL_OPTIONS, remote=remote, monitor=MonitorSettings())
    backend = RemoteChatModel(remote, settings.chat, api_key="no-key")
    return ChatRouter(settings, monitor=ResourceMonitor(), local=local, remote=backend)


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def test_start_on_first_use_preemption_restarts_and_idle_stop_runs_once(local, tmp_path):
    port = free_port()
    start, stop, calls, pidfile = hooks(tmp_path, port)
    router = make_router(
        local, port, start_command=start, stop_command=stop, start_timeout_s=60.0, idle_stop_minutes=IDLE_MIN
    )
    life = router.lifecycle
    try:
        assert life.state == "down" and life.started_at is None
        # 1. the first request runs the start script, waits for the server, and is answered remotely
        answer = "".join(router.stream(QUESTION, temperature=0.0, max_tokens=8))
        assert router.last.backend == "remote" and not router.last.fallback, router.last.notice
        assert answer.strip() and lines(calls) == ["start "]
        assert life.state == "up" and life.started_at is not None
        assert [e.state for e in life.history()] == ["starting", "up"]
        # a second request right away does not start it again
        "".join(router.stream(QUESTION, max_tokens=4))
        assert router.last.backend == "remote" and lines(calls) == ["start "]

        # 2. preemption: the server dies mid-answer -> the local model finishes it, the remote is marked down
        pid = int(pidfile.read_text())
        chunks = []
        for chunk in router.stream(STORY, max_tokens=128):
            chunks.append(chunk)
            if len(chunks) == 3:
                os.kill(pid, signal.SIGKILL)
        info = router.last
        assert info.backend == "local" and info.fallback and "finished the answer" in info.notice
        assert len(chunks) > 3 and life.state == "down" and life.stopped_at is not None
        # ... and the next request runs the start script again and is answered remotely
        "".join(router.stream(QUESTION, max_tokens=4))
        last_use = time.time()
        assert router.last.backend == "remote" and not router.last.fallback, router.last.notice
        assert lines(calls) == ["start ", "start "] and life.state == "up"

        # 3. idle: the stop script runs once, idle_stop_minutes after the last use
        deadline = time.monotonic() + IDLE_MIN * 60 + 10
        while "stop" not in lines(calls) and time.monotonic() < deadline:
            time.sleep(0.05)
        stopping = [e for e in life.history() if e.state == "stopping"]
        assert len(stopping) == 1
        waited = stopping[0].at - last_use
        assert IDLE_MIN * 60 - 0.2 <= waited <= IDLE_MIN * 60 + 1.5, waited
        time.sleep(IDLE_MIN * 60 + 0.5)  # another idle period: no second stop
        assert lines(calls) == ["start ", "start ", "stop"]
        assert life.state == "down" and life.stopped_at >= stopping[0].at
        states = [e.state for e in life.history()]
        assert states == ["starting", "up", "down", "starting", "up", "stopping", "down"]
        assert 0 < life.uptime_s() < time.time() - life.history()[0].at
    finally:
        router.close()
        if pidfile.exists():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pidfile.read_text()), signal.SIGKILL)


@pytest.mark.parametrize(
    ("body", "fields", "expected", "bound_s"),
    [
        ('echo "quota exceeded for my-vm" >&2\nexit 3\n', {}, "failed (exit 3): quota exceeded for my-vm", 5.0),
        ("exit 0\n", {"start_timeout_s": 2.0}, "did not answer within 2 s", 2.0 + 2.0 + 1.5),
        ("sleep 30\n", {"hook_timeout_s": 1.0}, "did not finish within 1 s", 3.0),
    ],
    ids=["start-fails", "never-answers", "start-hangs"],
)
def test_a_failed_start_is_answered_locally_with_the_reason(local, tmp_path, body, fields, expected, bound_s):
    start = script(tmp_path / "start.sh", body)
    router = make_router(local, free_port(), start_command=start, **fields)
    try:
        notices: list[tuple[float, str]] = []
        t0 = time.monotonic()
        answer = "".join(
            router.stream(QUESTION, max_tokens=8, on_notice=lambda n: notices.append((time.monotonic(), n)))
        )
        assert answer.strip() and router.last.backend == "local" and router.last.fallback
        assert expected in router.last.notice and router.last.notice.endswith("answered locally")
        assert notices and notices[0][0] - t0 < bound_s, notices
        assert router.lifecycle.state == "failed"
    finally:
        router.close()
