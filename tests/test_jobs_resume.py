"""Restart and resume with real processes: the app (a ``jobs start`` CLI process running the job through its
runner) is SIGKILLed mid-training; the job notices, checkpoints and stops; a new runner on the same database
shows it interrupted; resuming continues from the checkpoint to the end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from jobs_support import progress_steps, tiny_dataset, wait_for

from jarvis_desktop.jobs.backends import LocalProcessBackend
from jarvis_desktop.jobs.runner import JobRunner
from jarvis_desktop.jobs.store import JobStore
from jarvis_desktop.store.db import Database

pytestmark = pytest.mark.slow
STEPS = 8


def _start_app(data: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jarvis_desktop",
            "jobs",
            "start",
            "--data",
            str(data),
            "--valid",
            str(data),
            "--max-steps",
            str(STEPS),
            "--batch-size",
            "1",
            "--max-len",
            "32",
            "--first-layer",
            "28",
            "--eval-rows",
            "2",
            "--checkpoint-every",
            "1",
            "--no-gguf",
            "--json",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_job_of_a_crashed_app_shows_interrupted_and_resumes_from_its_checkpoint(home, tmp_path):
    data = tiny_dataset(tmp_path / "tiny.jsonl")
    app = _start_app(data)
    db = Database(home / "jarvis.sqlite3")
    store = JobStore(db)
    try:
        job = wait_for(lambda: (store.list_jobs() or [None])[0], timeout=60, what="the job row")
        wait_for(lambda: store.events(job.id, "checkpoint"), timeout=240, what="the first checkpoint")
        job = store.get(job.id)
        assert job.status == "running" and job.owner_pid == app.pid
    finally:
        app.kill()  # the app dies without a chance to clean up
        app.communicate(timeout=30)
    # the job notices that its parent died, checkpoints and exits: no orphan keeps training
    backend = LocalProcessBackend()
    wait_for(lambda: not backend.alive(job.pid, job.pid_started), timeout=90, what="the orphaned job to stop")

    runner = JobRunner(db, cancel_timeout_s=15.0)  # the app starts again
    try:
        record = runner.get(job.id)
        assert record.status == "interrupted"
        assert f"jarvis-desktop jobs resume {job.id}" in record.error
        assert not runner.backend.alive(job.pid, job.pid_started)  # no orphan training left behind
        lines = [json.loads(x) for x in (Path(record.work_dir) / "progress.jsonl").read_text().splitlines()]
        stopped = [e for e in lines if e["event"] == "interrupted"]
        assert stopped and stopped[-1]["checkpoint"]  # it checkpointed when its parent died
        before = max(progress_steps(store, job.id))
        assert before < STEPS

        runner.resume(job.id)
        done = runner.wait(job.id, timeout=300)
        assert done.status == "succeeded", done.error
        assert done.attempts == 2
        start = store.events(job.id, "start")[-1]
        resumed_at = start["resumed_from_step"]
        assert resumed_at >= 1
        after = [e["step"] for e in store.events(job.id, "progress", after_id=start["_id"])]
        assert after == list(range(resumed_at + 1, STEPS + 1))  # continued, not restarted
        meta = json.loads((Path(done.output_path) / "training_metadata.json").read_text())
        assert meta["steps"] == STEPS
        assert not (Path(done.work_dir) / "checkpoints").exists()  # pruned once the adapter is installed
    finally:
        runner.close(timeout_s=5.0)
        db.close()


def test_only_the_last_two_checkpoints_are_kept(home, tmp_path):
    data = tiny_dataset(tmp_path / "tiny.jsonl")
    db = Database(home / "jarvis.sqlite3")
    runner = JobRunner(db, cancel_timeout_s=15.0)
    try:
        from jobs_support import tiny_spec

        job = runner.submit(tiny_spec(data, max_steps=50))
        wait_for(lambda: len(runner.store.events(job.id, "checkpoint")) >= 4, timeout=240, what="4 checkpoints")
        runner.cancel(job.id)
        done = runner.wait(job.id, timeout=60)
        assert done.status == "cancelled"
        kept = sorted(p.name for p in (Path(done.work_dir) / "checkpoints").iterdir())
        assert len(kept) == 2 and all(k.startswith("step-") for k in kept)
        last = runner.store.events(job.id, "cancelled")[-1]
        assert Path(last["checkpoint"]).name == kept[-1]  # the cancel saved the step it stopped at
    finally:
        runner.close(timeout_s=5.0)
        db.close()
