"""Stop on the real embedded SmolLM2 (and a real remote endpoint): the stream ends soon after ``cancel.set()``,
during decoding and during a long prompt's evaluation, the stats say cancelled, and the next reply is normal.

The bound here is a generous 1 s so the tests do not flake on a busy machine; the figure itself (p50/max, ~tens
of ms) is measured by bench/chat_speed.py."""

from __future__ import annotations

import queue
import random
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from jarvis_desktop.config import ChatSettings, MonitorSettings, RemoteSettings, Settings
from jarvis_desktop.llm.chat import LocalChatModel
from jarvis_desktop.llm.remote import RemoteChatModel
from jarvis_desktop.llm.router import ChatRouter
from jarvis_desktop.models import embedded_chat_gguf
from jarvis_desktop.monitor import ResourceMonitor
from tests.remote_helpers import API_KEY, FailingServer, LlamaServer

pytestmark = pytest.mark.slow

BOUND_S = 1.0
QUESTION = [{"role": "user", "content": "What is the capital of France? Answer in one word."}]
STORY = [{"role": "user", "content": "Write a long story about a dragon who learns to cook."}]
WORDS = ["apples", "rivers", "weather", "town", "market", "bridge", "lantern", "harbor", "orchard", "meadow"]


def long_message(seed: int) -> list[dict[str, str]]:
    """A ~1,500-token user message, different per seed (so no part of it is in llama.cpp's cache)."""
    rng = random.Random(seed)
    text = " ".join([f"Note {seed}:"] + [rng.choice(WORDS) for _ in range(1430)])
    return [{"role": "user", "content": text + "\nSummarise these notes in one sentence."}]


class Run:
    """A stream consumed on a worker thread: ``texts`` arrive on a queue, ``ended_at`` is set when the
    generator returns (perf_counter seconds)."""

    def __init__(self, start: Callable[[threading.Event], Iterator[str]]) -> None:
        self.cancel = threading.Event()
        self.texts: queue.Queue[str] = queue.Queue()
        self.ended_at: float | None = None
        self.error: BaseException | None = None
        self.started_at = time.perf_counter()
        self.thread = threading.Thread(target=self._work, args=(start,), daemon=True)
        self.thread.start()

    def _work(self, start: Callable[[threading.Event], Iterator[str]]) -> None:
        try:
            for text in start(self.cancel):
                self.texts.put(text)
        except BaseException as exc:  # handed to the test
            self.error = exc
        self.ended_at = time.perf_counter()

    def stop(self) -> float:
        """Set cancel; seconds until the generator returned (waits at most 30 s)."""
        set_at = time.perf_counter()
        self.cancel.set()
        self.thread.join(30)
        assert not self.thread.is_alive(), "the stream did not end within 30 s of cancel"
        assert self.error is None, f"the stream raised {self.error!r}"
        assert self.ended_at is not None
        return self.ended_at - set_at


@pytest.fixture(scope="module")
def model():
    chat = LocalChatModel(embedded_chat_gguf(), ChatSettings())
    chat.warm_up()
    return chat


def test_stop_after_the_first_token_ends_the_stream_at_once_and_the_next_reply_is_normal(model):
    run = Run(lambda cancel: model.stream(STORY, max_tokens=256, cancel=cancel))
    first = run.texts.get(timeout=60)
    assert first.strip()
    latency = run.stop()
    assert latency < BOUND_S
    stats = model.last_stats
    assert stats is not None and stats.cancelled
    assert stats.completion_tokens < 200  # it did not run on to max_tokens
    answer = model.complete(QUESTION, max_tokens=16, temperature=0.0)
    assert "paris" in answer.lower()
    assert not model.last_stats.cancelled


def test_stop_during_a_long_prompts_evaluation_ends_it_at_once_and_the_model_still_answers(model):
    message = long_message(7)
    assert model.count_tokens(message) > 1300
    run = Run(lambda cancel: model.stream(message, max_tokens=32, cancel=cancel))
    time.sleep(0.3)  # evaluating ~1,500 tokens takes ~6 s on 2 cores: this is mid-prompt
    if not run.texts.empty() or run.ended_at is not None:
        run.stop()
        pytest.skip("this machine evaluated the prompt within 0.3 s: no time to press Stop inside it")
    latency = run.stop()
    assert latency < BOUND_S
    assert run.texts.empty()
    stats = model.last_stats
    assert stats is not None and stats.cancelled and stats.completion_tokens == 0
    assert stats.prompt_tokens > 1300
    # llama.cpp's context is usable again: a normal reply, then the same long message answered in full
    assert "paris" in model.complete(QUESTION, max_tokens=16, temperature=0.0).lower()
    summary = model.complete(message, max_tokens=24, temperature=0.0)
    assert len(summary.split()) >= 3 and not model.last_stats.cancelled


def test_a_cancel_set_before_the_call_yields_nothing(model):
    cancel = threading.Event()
    cancel.set()
    assert list(model.stream(QUESTION, cancel=cancel)) == []
    assert model.last_stats.cancelled and model.last_stats.completion_tokens == 0


def test_stop_while_a_remote_endpoint_has_not_answered_returns_at_once():
    server = FailingServer("hang")  # accepts the request and never answers
    try:
        remote = RemoteChatModel(
            RemoteSettings(base_url=server.base_url, model="smollm2", first_token_timeout_s=20.0, retries=0),
            api_key=API_KEY,
        )
        run = Run(lambda cancel: remote.stream(QUESTION, max_tokens=16, cancel=cancel))
        deadline = time.monotonic() + 15
        while server.requests == 0 and time.monotonic() < deadline:  # the first call imports openai
            time.sleep(0.05)
        time.sleep(0.2)
        assert run.ended_at is None and server.requests == 1
        assert run.stop() < BOUND_S
        assert run.texts.empty()
        assert remote.last_stats is not None and remote.last_stats.cancelled
    finally:
        server.stop()


def test_stop_mid_answer_closes_the_remote_stream_and_the_router_does_not_answer_locally(model):
    server = LlamaServer(embedded_chat_gguf())
    try:
        remote_settings = RemoteSettings(base_url=server.base_url, model="smollm2", first_token_timeout_s=30.0)
        settings = Settings(chat=ChatSettings(), remote=remote_settings, monitor=MonitorSettings())
        remote = RemoteChatModel(remote_settings, settings.chat, api_key=API_KEY)
        router = ChatRouter(settings, monitor=ResourceMonitor(), local=model, remote=remote)
        run = Run(lambda cancel: router.stream(STORY, placement="remote", max_tokens=256, cancel=cancel))
        assert run.texts.get(timeout=60).strip()
        assert run.stop() < BOUND_S
        assert router.last is not None and router.last.backend == "remote" and not router.last.fallback
        assert router.last.stats is not None and router.last.stats.cancelled
        # the server is free again: the next request is answered in full
        answer = remote.complete(QUESTION, max_tokens=16, temperature=0.0)
        assert "paris" in answer.lower()
    finally:
        server.stop()


def test_stop_before_a_routed_request_starts_does_not_load_the_local_model():
    local = LocalChatModel(embedded_chat_gguf(), ChatSettings())
    settings = Settings(chat=ChatSettings(), remote=RemoteSettings(), monitor=MonitorSettings())
    router = ChatRouter(settings, monitor=ResourceMonitor(), local=local, remote=None)
    cancel = threading.Event()
    cancel.set()
    assert list(router.stream(QUESTION, cancel=cancel)) == []
    assert not local.loaded
    assert router.last is not None and router.last.stats is not None and router.last.stats.cancelled
