"""The job runner with real ``train-adapter`` processes and real (tiny) training: success with progress
stored, cancel, a SIGKILLed job, a bad data line, a full disk. Restart and resume: test_jobs_resume.py."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
from jobs_support import progress_steps, tiny_dataset, tiny_spec, wait_for

from jarvis_desktop.errors import BadInputError
from jarvis_desktop.jobs.adapters import AdapterRegistry
from jarvis_desktop.jobs.runner import JobRunner
from jarvis_desktop.store.db import Database

pytestmark = pytest.mark.slow


@pytest.fixture
def runner(home):
    db = Database(home / "jarvis.sqlite3")
    r = JobRunner(db, cancel_timeout_s=8.0)
    yield r
    r.close(timeout_s=5.0)
    db.close()


def _digest(path: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(path.iterdir()) if p.is_file()}


def _fake_previous_adapter(home: Path) -> Path:
    """An adapter directory that plays the user's current adapter (its files only need to stay untouched)."""
    prev = home / "adapters" / "previous"
    prev.mkdir(parents=True)
    (prev / "adapter.gguf").write_bytes(b"GGUF placeholder")
    (prev / "training_metadata.json").write_text('{"validation_teacher_forced": {"exact_accuracy": 50.0}}')
    return prev


def test_a_job_runs_as_its_own_process_and_succeeds_with_progress_stored(runner, tmp_path):
    data = tiny_dataset(tmp_path / "tiny.jsonl")
    seen = []
    runner.add_listener(lambda job_id, ev: seen.append(ev.kind))
    job = runner.submit(tiny_spec(data, name="my-phrasings"))
    assert job.status == "running" and job.pid and job.pid != os.getpid()

    done = runner.wait(job.id, timeout=240)
    assert done.status == "succeeded", done.error
    assert progress_steps(runner.store, job.id) == [1, 2]
    assert done.progress["step"] == 2 and done.progress["eta_s"] == 0.0
    assert {"lr", "tokens_per_s", "loss", "epoch"} <= set(done.progress)
    assert done.data_sha256 == hashlib.sha256(data.read_bytes()).hexdigest()
    assert done.started_at and done.finished_at and done.finished_at >= done.started_at
    assert Path(done.log_path).is_file() and "step 2/2" in Path(done.log_path).read_text()
    # the artifact, installed under the data dir with the name asked for
    out = Path(done.output_path)
    assert out == Path(os.environ["JARVIS_DESKTOP_HOME"]) / "adapters" / "my-phrasings"
    for name in ("adapter_config.json", "adapter_model.safetensors", "training_metadata.json", "tokenizer.json"):
        assert (out / name).is_file(), name
    assert done.result["validation"]["new"]["n"] == 2
    names = [a.name for a in AdapterRegistry().list_adapters()]
    assert "my-phrasings" in names
    assert {"start", "progress", "validation", "done", "status"} <= set(seen)


def test_cancel_stops_the_process_cleanly_and_marks_the_job_cancelled(runner, tmp_path):
    data = tiny_dataset(tmp_path / "tiny.jsonl")
    job = runner.submit(tiny_spec(data, max_steps=500))
    wait_for(lambda: progress_steps(runner.store, job.id), timeout=180, what="the first step")
    t0 = time.monotonic()
    runner.cancel(job.id)
    done = runner.wait(job.id, timeout=30)
    assert done.status == "cancelled"
    assert time.monotonic() - t0 < 20
    assert not runner.backend.alive(job.pid, job.pid_started)
    assert not Path(done.output_path).exists()  # nothing half-written where adapters live
    assert "cancelled" in [e["event"] for e in runner.store.events(job.id)]  # it stopped on SIGTERM, not SIGKILL


def test_a_job_killed_with_sigkill_is_failed_with_its_log_tail_and_the_active_adapter_is_untouched(
    runner, tmp_path, home
):
    prev = _fake_previous_adapter(home)
    registry = AdapterRegistry()
    registry.activate("previous")
    before = _digest(prev)
    data = tiny_dataset(tmp_path / "tiny.jsonl")
    job = runner.submit(tiny_spec(data, max_steps=500))
    wait_for(lambda: progress_steps(runner.store, job.id), timeout=180, what="the first step")
    os.kill(job.pid, signal.SIGKILL)  # as the OOM killer would
    done = runner.wait(job.id, timeout=30)
    assert done.status == "failed"
    assert "killed (SIGKILL)" in done.error
    assert "last lines of the log" in done.error and "step 1/500" in done.error
    assert registry.active().name == "previous" and _digest(prev) == before
    assert not Path(done.output_path).exists()
    # the runner keeps working: the next job runs
    nxt = runner.submit(tiny_spec(data, max_steps=1, eval_rows=0))
    assert runner.wait(nxt.id, timeout=240).status == "succeeded"


def test_a_data_file_with_a_bad_line_is_rejected_with_its_line_number_before_any_job(runner, tmp_path):
    data = tiny_dataset(tmp_path / "mine.jsonl", rows=4)
    lines = data.read_text().splitlines()
    lines[2] = '{"text": "wake me at 7", "intent": "alarm_sett", "date_keys": []}'
    data.write_text("\n".join(lines) + "\n")
    with pytest.raises(BadInputError) as err:
        runner.submit(tiny_spec(data))
    assert "line 3" in str(err.value) and "intent" in str(err.value)
    (tmp_path / "broken.jsonl").write_text('{"text": "hi", "intent": "greeting", "date_keys": []}\n{"text": \n')
    with pytest.raises(BadInputError, match="line 2: not valid JSON"):
        runner.submit(tiny_spec(tmp_path / "broken.jsonl"))
    assert runner.list_jobs() == []


def _mount_tiny_tmpfs(path: Path, size: str) -> bool:
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or not shutil.which("mount"):
        return False
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True)
    return proc.returncode == 0


def test_a_full_disk_fails_the_job_clearly_and_leaves_the_active_adapter_alone(runner, tmp_path, home):
    adapters = home / "adapters"
    if not _mount_tiny_tmpfs(adapters, "256k"):
        pytest.skip("needs root to mount a tiny tmpfs as the adapters directory")
    try:
        prev = _fake_previous_adapter(home)
        registry = AdapterRegistry()
        registry.activate("previous")
        before = _digest(prev)
        data = tiny_dataset(tmp_path / "tiny.jsonl")
        job = runner.submit(tiny_spec(data, max_steps=1, eval_rows=0))
        done = runner.wait(job.id, timeout=240)
        assert done.status == "failed"
        assert "disk is full" in done.error and "current adapter is unchanged" in done.error
        assert registry.active().name == "previous" and _digest(prev) == before
        assert sorted(p.name for p in adapters.iterdir()) == ["previous"]  # no half-written adapter left
    finally:
        subprocess.run(["umount", str(adapters)], check=False)


def test_the_queue_runs_one_job_at_a_time_and_a_queued_job_cancels_at_once(runner, tmp_path):
    data = tiny_dataset(tmp_path / "tiny.jsonl")
    first = runner.submit(tiny_spec(data, max_steps=500))
    second = runner.submit(tiny_spec(data, max_steps=1, eval_rows=0))
    third = runner.submit(tiny_spec(data, max_steps=1, eval_rows=0))
    assert [runner.get(j.id).status for j in (first, second, third)] == ["running", "queued", "queued"]
    assert runner.cancel(third.id).status == "cancelled"  # never started: no process to stop
    wait_for(lambda: progress_steps(runner.store, first.id), timeout=180, what="the first job's first step")
    assert runner.get(second.id).status == "queued"
    runner.cancel(first.id)
    assert runner.wait(second.id, timeout=240).status == "succeeded"  # started once the slot was free
    assert runner.get(first.id).status == "cancelled" and runner.get(third.id).pid is None
