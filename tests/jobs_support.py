"""Shared set-up of the training-job tests (no tests here): a per-test data dir, the base-model cache,
a tiny dataset, tiny job parameters, and waiting helpers.

Real training, kept tiny: 16 rows, batch 1, 32 tokens, LoRA on the last two decoder layers, 2-4 steps.
One job process costs ~10 s of start-up (torch, transformers, the base model) plus ~2-5 s per step on 2
shared cores.
"""

from __future__ import annotations

import itertools
import json
import os
import time
from pathlib import Path

import platformdirs
import pytest

# The base model converted once to safetensors (~0.5 GB) and the llama.cpp converter, shared by all test
# sessions instead of being rebuilt in each test's data dir.
os.environ.setdefault("JARVIS_BASE_CACHE", str(Path(platformdirs.user_cache_dir("jarvis-desktop")) / "base"))

from jarvis_desktop.models import NLU_MODEL_DIR

TINY_ROWS = 16


def tiny_dataset(path: Path, rows: int = TINY_ROWS) -> Path:
    """The first ``rows`` rows of the shipped train split, written to ``path``."""
    with open(NLU_MODEL_DIR / "corpus.train.jsonl", encoding="utf-8") as fh:
        lines = list(itertools.islice(fh, rows))
    path.write_text("".join(lines), encoding="utf-8")
    return path


def tiny_spec(data: Path, **overrides):
    """A :class:`JobSpec` that trains in seconds (no GGUF unless asked)."""
    from jarvis_desktop.jobs.spec import JobSpec

    values = dict(
        data=str(data),
        valid=str(data),
        max_steps=2,
        batch_size=1,
        max_len=32,
        first_layer=28,
        eval_rows=2,
        checkpoint_every=1,
        gguf=False,
        threads=2,
    )
    values.update(overrides)
    return JobSpec(**values)


def tiny_args(data: Path) -> list[str]:
    """``train-adapter`` options for a tiny run."""
    return [
        "--data",
        str(data),
        "--valid",
        str(data),
        "--batch-size",
        "1",
        "--max-len",
        "32",
        "--first-layer",
        "28",
        "--eval-rows",
        "2",
        "--threads",
        "2",
    ]


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A fresh data/config dir for this test (the job processes inherit it)."""
    path = tmp_path / "home"
    path.mkdir()
    monkeypatch.setenv("JARVIS_DESKTOP_HOME", str(path))
    return path


def wait_for(predicate, timeout: float = 120.0, interval: float = 0.2, what: str = "condition"):
    """Poll ``predicate()`` until it returns a truthy value (returned) or fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def progress_steps(store, job_id: int) -> list[int]:
    """Steps of the job's stored progress events, in order."""
    return [e["step"] for e in store.events(job_id, "progress")]


def json_lines(text: str) -> list[dict]:
    """The JSON-object lines of ``text``."""
    out = []
    for line in text.splitlines():
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if isinstance(obj, dict):
            out.append(obj)
    return out


def shared_trained_adapter(tmp_path_factory) -> tuple[Path, str, int]:
    """One real foreground ``jarvis-desktop train-adapter`` run (2 steps, GGUF and zip), made once per test
    session and shared through the session's temp dir. Returns ``(adapter_dir, stdout, exit_code)``."""
    import subprocess
    import sys

    root = tmp_path_factory.getbasetemp() / "shared-trained-adapter"
    out = root / "tiny-adapter"
    record = root / "run.json"
    if record.is_file():
        saved = json.loads(record.read_text())
        return out, saved["stdout"], saved["code"]
    root.mkdir(parents=True, exist_ok=True)
    data = tiny_dataset(root / "tiny.jsonl")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "jarvis_desktop",
            "train-adapter",
            *tiny_args(data),
            "--max-steps",
            "2",
            "--checkpoint-every",
            "1",
            "--output",
            str(out),
            "--baseline",
            "none",
            "--zip",
            "--json-progress",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if proc.returncode != 0:
        raise AssertionError(f"train-adapter failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr[-3000:]}")
    record.write_text(json.dumps({"stdout": proc.stdout, "code": proc.returncode}))
    return out, proc.stdout, proc.returncode
