"""The mlx-lm backend on Linux (``mlx[cpu]``) with the embedded SmolLM2 converted once to HF safetensors
(:func:`jarvis_desktop.nlu.hf_base.hf_base_dir`, run in a subprocess so torch stays out of this
process; cached under the test home's ``cache/``, or ``JARVIS_BASE_CACHE`` to keep it across sessions)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from jarvis_desktop.config import ChatSettings, Settings
from jarvis_desktop.errors import BadInputError, ModelNotFoundError

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("mlx_lm") is None or importlib.util.find_spec("mlx") is None,
        reason='mlx-lm / mlx not installed (pip install "jarvis-desktop[mlx]")',
    ),
]

QUESTION = [{"role": "user", "content": "What is the capital of France? Answer in one word."}]
OPTIONS = ChatSettings(n_threads=1, max_tokens=24)


@pytest.fixture(scope="module")
def hf_dir() -> Path:
    if importlib.util.find_spec("transformers") is None or importlib.util.find_spec("torch") is None:
        pytest.skip("converting the GGUF to safetensors needs transformers + torch (jarvis-desktop[train])")
    code = "from jarvis_desktop.nlu.hf_base import hf_base_dir; print(hf_base_dir())"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=600, env=dict(os.environ)
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return Path(out.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def model(hf_dir):
    from jarvis_desktop.llm.mlx_chat import MlxChatModel

    chat = MlxChatModel(hf_dir, OPTIONS)
    chat.load()
    return chat


def test_mlx_streams_a_sensible_answer_with_stats(model):
    chunks = list(model.stream(QUESTION, temperature=0.0, max_tokens=12))
    assert len(chunks) >= 2 and "paris" in "".join(chunks).lower()
    stats = model.last_stats
    assert stats.prompt_tokens > 10 and stats.completion_tokens >= 2
    assert 0 < stats.first_token_s <= stats.total_s and not stats.cancelled
    assert model.kind == "mlx" and model.load_seconds > 0


def test_mlx_cancel_and_continuation(model):
    cancel = threading.Event()
    got = []
    for piece in model.stream([{"role": "user", "content": "Tell me a long story."}], max_tokens=64, cancel=cancel):
        got.append(piece)
        cancel.set()
    assert len(got) <= 2 and model.last_stats.cancelled
    rest = "".join(model.stream(QUESTION, temperature=0.0, max_tokens=6, assistant_prefix="The capital of France"))
    assert rest.startswith(" ") and "paris" in rest.lower()


def test_mlx_in_the_router_reports_its_footprint(hf_dir):
    from jarvis_desktop.config import MonitorSettings
    from jarvis_desktop.llm.mlx_chat import MlxChatModel
    from jarvis_desktop.llm.router import ChatRouter
    from jarvis_desktop.monitor import ResourceMonitor

    settings = Settings(chat=OPTIONS, monitor=MonitorSettings(buffer_gib=0.0, buffer_fraction=0.0))
    router = ChatRouter(settings, monitor=ResourceMonitor(), local=MlxChatModel(hf_dir, OPTIONS), remote=None)
    assert "".join(router.stream(QUESTION, max_tokens=4))
    rec = router.registry.get(router.model_name)
    assert rec.kind == "mlx" and rec.state == "loaded" and rec.size_mib > 400  # fp32 safetensors, ~513 MiB
    assert rec.footprint_mib is not None and rec.footprint_mib > 0
    assert router.last.backend == "local" and router.last.reason == "no remote endpoint configured"
    router.unload_local()
    assert not router.local.loaded and router.registry.get(router.model_name).state == "unloaded"


def test_backend_selection(hf_dir, tmp_path):
    from jarvis_desktop.llm.backends import is_apple_silicon, local_backend_kind, make_local_backend
    from jarvis_desktop.llm.mlx_chat import MlxChatModel

    mlx = Settings(chat=ChatSettings(backend="mlx", mlx_model_path=str(hf_dir)))
    assert local_backend_kind(mlx) == "mlx" and isinstance(make_local_backend(mlx), MlxChatModel)
    auto = Settings(chat=ChatSettings(mlx_model_path=str(hf_dir)))
    assert local_backend_kind(auto) == ("mlx" if is_apple_silicon() else "llama.cpp")
    with pytest.raises(BadInputError, match="mlx_model_path"):
        local_backend_kind(Settings(chat=ChatSettings(backend="mlx")))
    with pytest.raises(BadInputError, match="backend must be one of"):
        local_backend_kind(Settings(chat=ChatSettings(backend="onnx")))
    with pytest.raises(ModelNotFoundError, match="config.json"):
        MlxChatModel(tmp_path)
