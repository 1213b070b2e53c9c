"""The embedding child process (knowledge/embedder.py WorkerEmbedder) never makes its caller wait forever: a child
that hangs while loading its model (here a model directory whose ``modules.json`` is a FIFO nobody writes, as a
hung network mount would behave) is stopped after the load time-out with a clear error, and ``close()`` from
another thread returns within its bound while a call is stuck."""

from __future__ import annotations

import os
import threading
import time

import pytest

from jarvis_desktop.errors import JarvisError
from jarvis_desktop.knowledge import embedder as embedder_module
from jarvis_desktop.knowledge.embedder import WorkerEmbedder

pytestmark = pytest.mark.slow


@pytest.fixture
def hanging_model(tmp_path):
    model = tmp_path / "hung-model"
    model.mkdir()
    (model / "config.json").write_text('{"model_type": "bert"}')
    os.mkfifo(model / "modules.json")  # opening it for reading blocks until a writer comes: never
    return model


def test_a_child_that_hangs_while_loading_is_stopped_with_a_clear_error(hanging_model, monkeypatch):
    monkeypatch.setattr(embedder_module, "LOAD_TIMEOUT_S", 10.0)
    worker = WorkerEmbedder(hanging_model, "hung-model")
    t0 = time.monotonic()
    with pytest.raises(JarvisError, match="did not answer within 10 s"):
        worker.embed(["where is the lease?"])
    assert time.monotonic() - t0 < 30
    assert not worker.loaded
    worker.close()  # nothing left to stop; returns at once


def test_close_from_another_thread_does_not_wait_for_a_stuck_load(hanging_model, monkeypatch):
    monkeypatch.setattr(embedder_module, "CLOSE_WAIT_S", 1.0)
    worker = WorkerEmbedder(hanging_model, "hung-model")
    errors: list[BaseException] = []

    def use() -> None:
        try:
            worker.embed(["hello"])
        except JarvisError as exc:
            errors.append(exc)

    user = threading.Thread(target=use, daemon=True)
    user.start()
    time.sleep(1.5)  # the call now holds the embedder, waiting on the child
    t0 = time.monotonic()
    worker.close()
    assert time.monotonic() - t0 < 5  # CLOSE_WAIT_S, then the child is killed and the call returns
    user.join(10)
    assert not user.is_alive()
    assert len(errors) == 1 and "stopped" in str(errors[0])
