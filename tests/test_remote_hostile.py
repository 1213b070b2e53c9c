"""Hostile remote endpoints (real servers on 127.0.0.1, tests/remote_helpers.py) against the real router with
the real local model (embedded SmolLM2) as fallback: every request ends within a documented bound, the user
gets a notice, a reply ignoring max_tokens is cut, and doctor's probe returns.

Test settings (short, so the suite stays fast): connect 1 s, first token 1 s, chunk gap 1 s, total 3 s,
retries 1 with a 0.05 s back-off. The bounds asserted (time until the notice) follow from them:

* no first text (keep-alives, empty chunks, dripped headers): 2 attempts x 1 s + 0.05 s -> < 3.5 s;
* one token then keep-alives: 1 s gap -> < 2.5 s, the local model finishes the answer;
* endless tokens: the total deadline -> < 4 s, the reply ends there with a notice;
* a 200 MB reply: cut at 32 x max_tokens characters;
* HTTP 500 / closed port: < 1.5 s; doctor's probe: < REMOTE_PROBE_S + 1 s.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from jarvis_desktop import doctor
from jarvis_desktop.config import ChatSettings, MonitorSettings, RemoteSettings, Settings
from jarvis_desktop.llm.chat import LocalChatModel
from jarvis_desktop.llm.remote import CHARS_PER_TOKEN_CAP, RemoteChatModel, RemoteTruncated
from jarvis_desktop.llm.router import ChatRouter
from jarvis_desktop.models import embedded_chat_gguf
from jarvis_desktop.monitor import ResourceMonitor
from tests.remote_helpers import FailingServer, HostileServer

pytestmark = pytest.mark.slow

QUESTION = [{"role": "user", "content": "What is the capital of France? Answer in one word."}]
LOCAL_OPTIONS = ChatSettings(n_threads=1)
FAST = {
    "connect_timeout_s": 1.0,
    "first_token_timeout_s": 1.0,
    "chunk_timeout_s": 1.0,
    "total_timeout_s": 3.0,
    "retries": 1,
    "backoff_s": 0.05,
}


@pytest.fixture(scope="module")
def local():
    chat = LocalChatModel(embedded_chat_gguf(), LOCAL_OPTIONS)
    chat.warm_up()
    return chat


def make_router(base_url: str, local, **overrides) -> ChatRouter:
    remote = RemoteSettings(base_url=base_url, model="hostile", placement="remote", **{**FAST, **overrides})
    settings = Settings(chat=LOCAL_OPTIONS, remote=remote, monitor=MonitorSettings())
    backend = RemoteChatModel(remote, settings.chat, api_key="k")
    return ChatRouter(settings, monitor=ResourceMonitor(), local=local, remote=backend)


def ask(router: ChatRouter, max_tokens: int = 16) -> tuple[str, float]:
    """(the whole answer, seconds until the first notice, or until the end when there was none)."""
    noticed: list[float] = []
    t0 = time.perf_counter()
    answer = "".join(
        router.stream(
            QUESTION, placement="remote", max_tokens=max_tokens, on_notice=lambda _: noticed.append(time.perf_counter())
        )
    )
    return answer, (noticed[0] if noticed else time.perf_counter()) - t0


@pytest.mark.parametrize("mode", ["keepalive", "empty_chunks", "slow_headers"])
def test_no_first_text_falls_back_to_local_within_the_first_token_deadlines(local, mode):
    server = HostileServer(mode, pace_s=0.2 if mode != "slow_headers" else 1.0)
    try:
        router = make_router(server.base_url, local)
        answer, waited = ask(router)
        assert answer.strip() and router.last.backend == "local" and router.last.fallback
        assert "timed out" in router.last.notice and "answered locally" in router.last.notice
        assert server.requests == 2
        assert 1.9 <= waited < 3.5
    finally:
        server.stop()


def test_one_token_then_keepalives_the_local_model_finishes_the_answer(local):
    server = HostileServer("one_then_keepalive", pace_s=0.2)
    try:
        router = make_router(server.base_url, local)
        answer, waited = ask(router)
        assert answer.startswith("Paris")
        assert router.last.backend == "local" and router.last.fallback
        assert "sent no text for 1 s" in router.last.notice and "local model finished" in router.last.notice
        assert 0.9 <= waited < 2.5
    finally:
        server.stop()


def test_endless_tokens_end_at_the_total_deadline_with_a_notice(local):
    server = HostileServer("endless", pace_s=0.02)
    try:
        router = make_router(server.base_url, local)
        answer, waited = ask(router, max_tokens=2000)  # cap 64 000 chars: the deadline comes first
        assert answer.startswith("word word")
        assert router.last.backend == "remote" and not router.last.fallback
        assert "total deadline" in router.last.notice
        assert 2.9 <= waited < 4.0
    finally:
        server.stop()


def test_a_huge_reply_ignoring_max_tokens_is_cut_at_the_size_cap(local):
    server = HostileServer("huge")
    try:
        router = make_router(server.base_url, local)
        answer, waited = ask(router, max_tokens=16)
        assert len(answer) == 16 * CHARS_PER_TOKEN_CAP and set(answer) == {"x"}
        assert "size cap" in router.last.notice and router.last.backend == "remote"
        assert waited < 3.0
        # the setting caps it too, below 32 x max_tokens; the direct model raises RemoteTruncated with the text
        model = RemoteChatModel(RemoteSettings(base_url=server.base_url, max_reply_chars=5000, **FAST), api_key="k")
        received: list[str] = []
        with pytest.raises(RemoteTruncated) as caught:
            for delta in model.stream(QUESTION, max_tokens=100_000):
                received.append(delta)
        assert len("".join(received)) == 5000 == len(caught.value.partial)
        time.sleep(0.5)
        assert server.sent_bytes < 50_000_000  # the client hung up: the server stopped far short of 200 MB
    finally:
        server.stop()


def test_http_500_and_a_closed_port_fall_back_quickly(local):
    for mode in ("500", "closed"):
        server = FailingServer("500")
        url = server.base_url
        if mode == "closed":
            server.stop()
        try:
            router = make_router(url, local)
            answer, waited = ask(router)
            assert answer.strip() and router.last.backend == "local"
            assert "answered locally" in router.last.notice
            assert waited < 1.5
        finally:
            if mode == "500":
                server.stop()


@pytest.mark.parametrize("mode", ["keepalive", "slow_headers"])
def test_doctor_probe_returns_within_its_bound(mode, monkeypatch, tmp_path):
    server = HostileServer(mode, pace_s=1.0)
    try:
        monkeypatch.setenv("JARVIS_DESKTOP_HOME", str(tmp_path))
        monkeypatch.setenv("JARVIS_REMOTE_BASE_URL", server.base_url)
        t0 = time.perf_counter()
        (check,) = doctor._remote()
        assert time.perf_counter() - t0 < doctor.REMOTE_PROBE_S + 1.0
        assert check.status == "warn" and "timed out" in check.detail
    finally:
        server.stop()


def test_cli_chat_against_a_keepalive_server_answers_locally_with_a_note(tmp_path):
    server = HostileServer("keepalive")
    try:
        (tmp_path / "settings.toml").write_text(
            "[chat]\nn_threads = 1\n[remote]\nfirst_token_timeout_s = 1.0\nretries = 1\nbackoff_s = 0.05\n"
        )
        env = dict(
            os.environ,
            JARVIS_DESKTOP_HOME=str(tmp_path),
            JARVIS_REMOTE_BASE_URL=server.base_url,
            PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
        )
        t0 = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-m", "jarvis_desktop", "chat", "--json", "--placement", "remote", "Say hi."],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
        )
        elapsed = time.perf_counter() - t0
        assert out.returncode == 0, out.stderr
        row = json.loads(out.stdout)
        assert row["backend"] == "local" and row["fallback"] and row["reply"].strip()
        assert "timed out" in row["notice"]
        assert elapsed < 60  # process start + model load + 2 x 1 s + a short local answer
    finally:
        server.stop()


def test_a_password_in_the_remote_url_is_never_shown(tmp_path):
    """A URL with ``user:password@`` and an ``api_key=`` query against a keep-alive server: the CLI's notice, its
    output, doctor's report and the activity file name the endpoint without the secrets."""
    server = HostileServer("keepalive")
    try:
        host = server.base_url.removeprefix("http://")
        url = f"http://alice:hunter2pw@{host}?api_key=tok3n-secret&region=eu"
        (tmp_path / "settings.toml").write_text(
            "[chat]\nn_threads = 1\n[remote]\nfirst_token_timeout_s = 1.0\nretries = 0\n"
        )
        env = dict(
            os.environ,
            JARVIS_DESKTOP_HOME=str(tmp_path),
            JARVIS_REMOTE_BASE_URL=url,
            PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
        )
        runs = [
            subprocess.run(
                [sys.executable, "-m", "jarvis_desktop", *args],
                capture_output=True,
                text=True,
                timeout=120,
                env=env,
            )
            for args in (["chat", "--json", "--placement", "remote", "Say hi."], ["doctor"])
        ]
        chat = json.loads(runs[0].stdout)
        assert chat["backend"] == "local" and "alice:***@" in chat["notice"]  # the user can tell which endpoint
        shown = "".join(r.stdout + r.stderr for r in runs)
        shown += "".join(p.read_text(errors="replace") for p in tmp_path.rglob("*.json"))
        assert "hunter2pw" not in shown and "tok3n-secret" not in shown
    finally:
        server.stop()
