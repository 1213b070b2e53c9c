"""``jarvis-desktop jobs`` from a terminal while another process (the app) runs the job."""

from __future__ import annotations

import json
import re

import pytest
from cli_helpers import run_cli
from jobs_support import progress_steps, tiny_dataset, tiny_spec, wait_for

from jarvis_desktop.jobs.runner import JobRunner
from jarvis_desktop.store.db import Database

pytestmark = pytest.mark.slow


def test_jobs_lists_shows_and_cancels_a_job_the_app_is_running(home, tmp_path):
    data = tiny_dataset(tmp_path / "tiny.jsonl")
    db = Database(home / "jarvis.sqlite3")
    app = JobRunner(db, cancel_timeout_s=15.0)  # this test process plays the app
    try:
        job = app.submit(tiny_spec(data, max_steps=500, name="evening-phrases"))
        wait_for(lambda: progress_steps(app.store, job.id), timeout=180, what="the first step")

        listed = run_cli("jobs", "--json")
        assert listed.returncode == 0, listed.stderr
        row = json.loads(listed.stdout)[0]
        assert (row["id"], row["status"], row["name"]) == (job.id, "running", "evening-phrases")
        assert row["progress"]["step"] >= 1 and row["data_sha256"]
        assert f"#{job.id}" in run_cli("jobs").stdout

        shown = run_cli("jobs", "show", str(job.id))
        assert shown.returncode == 0 and re.search(r"step \d+/500", shown.stdout), shown.stdout

        cancelled = run_cli("jobs", "cancel", str(job.id))
        assert cancelled.returncode == 0, cancelled.stderr
        assert app.wait(job.id, timeout=30).status == "cancelled"
        assert not app.backend.alive(job.pid, job.pid_started)
        assert run_cli("jobs", "cancel", "999").returncode == 2
        assert "cancelled" in run_cli("jobs").stdout
    finally:
        app.close(timeout_s=5.0)
        db.close()
