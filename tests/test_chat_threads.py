"""The chat's thread count per request (jarvis_desktop/llm/threads.py) on real psutil readings: every core on an
idle machine, fewer with a real CPU-burning child process, a fixed ``[chat] n_threads`` respected, a drop to
fewer threads when load appears mid-reply, and correct replies throughout (the real embedded SmolLM2).

Other agents may share this machine: the checks that need an idle machine skip (saying what they saw) when
every reading finds other work."""

from __future__ import annotations

import subprocess
import sys
import time

import llama_cpp
import pytest

from jarvis_desktop.config import ChatSettings
from jarvis_desktop.llm.chat import LocalChatModel
from jarvis_desktop.llm.threads import TOLERANCE_CORES, ThreadPlanner, threads_for, usable_cores
from jarvis_desktop.models import embedded_chat_gguf

QUESTION = [{"role": "user", "content": "What is the capital of France? Answer in one word."}]
STORY = [{"role": "user", "content": "Write a long story about a dragon who learns to cook."}]
pytestmark = pytest.mark.slow

CORES = usable_cores()
needs_two_cores = pytest.mark.skipif(CORES < 2, reason="one core: there is no fewer to choose")


@pytest.fixture()
def burner():
    """One child process burning a whole core while the test runs."""
    proc = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    time.sleep(0.3)
    yield proc
    proc.kill()
    proc.wait(10)


@pytest.fixture(scope="module")
def model():
    chat = LocalChatModel(embedded_chat_gguf(), ChatSettings())
    chat.warm_up()
    return chat


def idle_choice(planner: ThreadPlanner, tries: int = 6):
    """A reading with no other work on the machine, or skip (other agents keep it busy)."""
    seen = []
    for _ in range(tries):
        choice = planner.at_start()
        if choice.other_cores is not None and choice.other_cores <= TOLERANCE_CORES:
            return choice
        seen.append(choice.other_cores)
        time.sleep(1.0)
    pytest.skip(f"the machine is busy with other work (other cores seen: {seen})")


def test_the_rule():
    assert threads_for(0.0, 2) == 2
    assert threads_for(TOLERANCE_CORES, 2) == 2  # a little background work is not worth a core
    assert threads_for(0.3, 2) == 1
    assert threads_for(1.0, 2) == 1
    assert threads_for(5.0, 2) == 1  # never fewer than one
    assert threads_for(1.0, 8) == 7
    assert threads_for(2.6, 8) == 5
    assert threads_for(0.0, 1) == 1
    with pytest.raises(ValueError):
        threads_for(-0.5, 2)
    with pytest.raises(ValueError):
        threads_for(float("nan"), 2)
    with pytest.raises(ValueError):
        threads_for(0.0, 0)


def test_an_idle_machine_gets_every_core():
    choice = idle_choice(ThreadPlanner(window_s=0.3))
    assert choice.threads == CORES and not choice.forced
    assert choice.window_s >= 0.3
    assert "threads" in choice.describe()


@needs_two_cores
def test_a_cpu_burning_process_takes_a_core_away(burner):
    choice = ThreadPlanner(window_s=0.3).at_start()
    assert choice.other_cores is not None and choice.other_cores >= 0.6  # the burner's core (and maybe more)
    assert choice.threads <= CORES - 1


@needs_two_cores
def test_the_model_answers_correctly_on_fewer_threads_when_busy(model, burner):
    answer = model.complete(QUESTION, max_tokens=16, temperature=0.0)
    assert "paris" in answer.lower()
    assert model.last_threads is not None and model.last_threads.threads <= CORES - 1
    assert model.last_stats.threads <= CORES - 1
    assert llama_cpp.llama_n_threads(model.load().ctx) == model.last_stats.threads


def test_the_model_answers_correctly_on_every_core_when_idle(model):
    idle_choice(ThreadPlanner(window_s=0.3))  # skips on a busy machine
    answer = model.complete(QUESTION, max_tokens=16, temperature=0.0)
    assert "paris" in answer.lower()
    assert model.last_threads is not None and model.last_threads.other_cores is not None
    if model.last_threads.other_cores <= TOLERANCE_CORES:  # still idle when the request started
        assert model.last_stats.threads == CORES


def test_a_fixed_thread_count_in_the_settings_is_respected(burner):
    fixed = LocalChatModel(embedded_chat_gguf(), ChatSettings(n_threads=1))
    answer = fixed.complete(QUESTION, max_tokens=16, temperature=0.0)
    assert "paris" in answer.lower()
    assert fixed.last_threads is not None and fixed.last_threads.forced and fixed.last_threads.threads == 1
    assert fixed.last_threads.other_cores is None  # nothing was measured
    assert fixed.last_stats.threads == 1
    assert llama_cpp.llama_n_threads(fixed.load().ctx) == 1
    fixed.unload()


@needs_two_cores
def test_load_appearing_mid_reply_drops_to_fewer_threads(model):
    idle_choice(ThreadPlanner(window_s=0.3))
    stream = model.stream(STORY, max_tokens=400, temperature=0.0)
    assert next(stream).strip()
    start = model.last_threads
    if start is None or start.threads < CORES:
        stream.close()
        pytest.skip(f"the reply did not start on every core ({start})")
    proc = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        deadline = time.monotonic() + 20
        for _ in stream:
            if model.thread_changes or time.monotonic() > deadline:
                break
        stream.close()
    finally:
        proc.kill()
        proc.wait(10)
    assert model.thread_changes, "the reply kept every thread although a core was taken"
    assert model.thread_changes[0].threads <= CORES - 1
    assert model.thread_changes[0].other_cores > TOLERANCE_CORES  # the burner (its window may start mid-way)
