"""The NLU LoRA fallback offloaded to a real ``python -m llama_cpp.server`` on 127.0.0.1 serving the shipped adapter
(``--lora_path adapters/date-intent/adapter.gguf`` on the embedded SmolLM2 GGUF): remote parses equal local ones,
``placement = "local"`` never contacts the server, and a down / hung / HTTP 500 / garbage server gives the local
parse with a notice within the documented bound (``nlu_timeout_s`` + one local parse)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread

import pytest

from jarvis_desktop.config import NluSettings, RemoteSettings, Settings
from jarvis_desktop.models import embedded_chat_gguf
from jarvis_desktop.monitor.costs import RemoteMeter
from jarvis_desktop.nlu.engine import NluEngine
from jarvis_desktop.nlu.lora_fallback import DEFAULT_ADAPTER_DIR, LoraFallback
from jarvis_desktop.nlu.remote_fallback import PlacedLoraFallback, RemoteLoraFallback
from jarvis_desktop.store.db import Database
from jarvis_desktop.store.remote_usage import RemoteUsageStore
from tests.remote_helpers import API_KEY, FailingServer, LlamaServer, free_port

NOW = datetime(2026, 11, 22, 19, 30)
#: Utterances FastText is unsure about (below the 0.65 routing threshold), so the LoRA fallback decides them; two
#: ("busy tomorrow?", "anything happening") need a second remote request (schedule_query/_remove share "schedule_").
UTTERANCES = [
    "why does my alarm clock app drain so much battery",
    "what's eating all my ram",
    "what was on yesterday evening",
    "I feel really tired this morning",
    "remember that I parked in bay 12",
    "what's the plan for tomorrow",
    "busy tomorrow?",
    "anything happening",
    "what's next",
    "launch it",
    "can you play chess",
]
TIMEOUT_S = 1.0
#: Failover bound asserted: nlu_timeout_s + one local parse (warm, ~0.15 s; up to ~1 s when other work shares the
#: two cores) with room to spare.
BOUND_S = TIMEOUT_S + 2.0


class LoraServer(LlamaServer):
    """:class:`remote_helpers.LlamaServer` with the NLU adapter loaded (``--lora_path``)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.api_key = API_KEY
        cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(embedded_chat_gguf())]
        cmd += ["--lora_path", str(DEFAULT_ADAPTER_DIR / "adapter.gguf"), "--host", "127.0.0.1"]
        cmd += ["--port", str(self.port), "--n_threads", "1", "--n_ctx", "512", "--api_key", API_KEY]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self._wait_ready()


class GarbageServer:
    """Answers every POST with HTTP 200 and a completion whose text is not an intent token."""

    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                body = json.dumps(
                    {
                        "id": "x",
                        "object": "text_completion",
                        "created": 0,
                        "model": "x",
                        "choices": [{"index": 0, "text": "lorem ipsum", "finish_reason": "stop"}],
                    }
                )
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body.encode())

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def server():
    srv = LoraServer()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def local():
    return LoraFallback(backend="llama", n_threads=1).load()  # 2 threads stall when another process holds a core


@pytest.fixture(scope="module")
def local_parses(local):
    engine = NluEngine(fallback=local)
    return [engine.parse(t, now=NOW) for t in UTTERANCES]


def settings_for(base_url: str, placement: str = "remote", timeout_s: float = 10.0) -> Settings:
    remote = RemoteSettings(placement=placement, nlu_base_url=base_url, nlu_timeout_s=timeout_s, track_idle=False)
    return Settings(remote=remote, nlu=NluSettings(fallback="llama"))


def test_remote_parses_equal_local_parses(server, local_parses, monkeypatch):
    monkeypatch.setenv("JARVIS_REMOTE_API_KEY", API_KEY)
    engine = NluEngine.from_settings(settings_for(server.base_url))  # the wiring: [remote] nlu_base_url set
    placed = engine.fallback
    assert isinstance(placed, PlacedLoraFallback)
    assert engine.fallback_threshold == 0.65  # the adapter's own threshold, as locally
    for text, want in zip(UTTERANCES, local_parses, strict=True):
        got = engine.parse(text, now=NOW)
        assert want.source == "lora", text  # the fallback decided it locally ...
        assert (got.intent, got.date_keys, got.when, got.source) == (want.intent, want.date_keys, want.when, "lora")
        assert placed.last is not None and placed.last.backend == "remote", text  # ... and remotely
        assert placed.last.reason == "always remote (setting)" and placed.last.notice == ""
    assert placed.local.backend_name is None  # the local model was never loaded


def test_full_remote_answers_equal_local_ones(server, local):
    """The whole JSON answer (intent and the model's own date keys), same prompt, stop and token budget."""
    remote = RemoteLoraFallback(server.base_url, timeout_s=10.0, api_key=API_KEY)
    for text in UTTERANCES[:4]:
        assert remote.answer(text, "general_chat") == local.answer(text, "general_chat")


def test_placement_local_never_contacts_the_server(local):
    srv = FailingServer("500")
    try:
        remote = RemoteLoraFallback(srv.base_url, timeout_s=TIMEOUT_S, api_key=API_KEY)
        placed = PlacedLoraFallback(local, remote, settings_for(srv.base_url, placement="local"))
        engine = NluEngine(fallback=placed)
        for text in UTTERANCES[:3]:
            assert engine.parse(text, now=NOW).source == "lora"
            assert placed.last is not None
            assert (placed.last.backend, placed.last.reason, placed.last.notice) == (
                "local",
                "always local (setting)",
                "",
            )
        assert srv.requests == 0
    finally:
        srv.stop()


@pytest.mark.parametrize("fault", ["down", "hung", "500", "garbage"])
def test_a_failing_remote_gives_the_local_parse_with_a_notice_in_bounded_time(fault, local, local_parses):
    srv: FailingServer | GarbageServer | None = None
    if fault == "down":
        url = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    else:
        srv = GarbageServer() if fault == "garbage" else FailingServer("hang" if fault == "hung" else "500")
        url = srv.base_url
    try:
        remote = RemoteLoraFallback(url, timeout_s=TIMEOUT_S, api_key=API_KEY)
        placed = PlacedLoraFallback(local, remote, settings_for(url, timeout_s=TIMEOUT_S))
        engine = NluEngine(fallback=placed)
        for text, want in list(zip(UTTERANCES, local_parses, strict=True))[:2]:
            t0 = time.perf_counter()
            got = engine.parse(text, now=NOW)
            spent = time.perf_counter() - t0
            assert (got.intent, got.date_keys, got.source) == (want.intent, want.date_keys, "lora")
            info = placed.last
            assert info is not None and info.backend == "local" and info.fallback
            expected = {"down": "unreachable", "hung": "timed out after 1 s", "500": "HTTP 500", "garbage": "answered"}
            assert expected[fault] in info.notice and info.notice.endswith("parsed locally")
            assert spent < BOUND_S, f"{fault}: {spent:.2f} s"
        if isinstance(srv, FailingServer):
            assert srv.requests == 2  # asked once per parse: no retries
    finally:
        if srv is not None:
            srv.stop()


def test_a_remote_parse_is_metered_and_a_reached_budget_keeps_it_local(server, local, tmp_path):
    meter = RemoteMeter(RemoteUsageStore(Database(tmp_path / "usage.sqlite3", backups=None)))
    settings = settings_for(server.base_url)
    settings.remote.price_per_million_tokens = 0.2
    settings.remote.monthly_budget_usd = 20.0
    remote = RemoteLoraFallback(server.base_url, timeout_s=10.0, api_key=API_KEY)
    placed = PlacedLoraFallback(local, remote, settings, meter=meter)
    assert placed.decide(UTTERANCES[0], "general_chat") is not None
    assert placed.last is not None and placed.last.backend == "remote"
    assert placed.last.reason == "always remote (setting); $0.2 per million tokens; this month $0.00 of $20.00"
    [row] = meter.store.rows(datetime(2000, 1, 1, tzinfo=timezone.utc))
    assert (row.kind, row.endpoint, row.ok, row.output_tokens) == ("nlu", server.base_url, True, 1)
    assert row.input_tokens > 0
    meter.store.add("chat", cost_usd=20.0)  # the month's budget is spent
    srv = FailingServer("500")
    try:
        settings.remote.nlu_base_url = srv.base_url
        placed.remote = RemoteLoraFallback(srv.base_url, timeout_s=TIMEOUT_S, api_key=API_KEY)
        decision = placed.decide(UTTERANCES[0], "general_chat")
        assert decision is not None and decision.intent == local.decide(UTTERANCES[0], "general_chat").intent
        want = "remote budget reached: $20.00 of $20.00 this month; answering locally"
        assert placed.last is not None and placed.last.backend == "local" and not placed.last.fallback
        assert placed.last.notice.startswith(want) and placed.last.reason.startswith(want)
        assert srv.requests == 0
    finally:
        srv.stop()
