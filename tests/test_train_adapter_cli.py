"""``jarvis-desktop train-adapter`` in the foreground, as a user runs it from a terminal."""

from __future__ import annotations

import zipfile

import pytest
from cli_helpers import run_cli
from jobs_support import json_lines, shared_trained_adapter, tiny_args, tiny_dataset


@pytest.mark.slow
def test_a_foreground_run_prints_json_progress_and_writes_every_artifact(tmp_path_factory):
    out, stdout, code = shared_trained_adapter(tmp_path_factory)
    assert code == 0
    events = json_lines(stdout)
    kinds = [e["event"] for e in events]
    assert kinds[0] == "start" and kinds[-1] == "done"
    progress = [e for e in events if e["event"] == "progress"]
    assert [p["step"] for p in progress] == [1, 2]
    assert {"epoch", "loss", "lr", "tokens_per_s", "eta_s"} <= set(progress[0])
    assert events[0]["device"] in ("cpu", "cuda", "mps")
    assert "checkpoint" in kinds
    files = set(events[-1]["files"])
    assert {
        "adapter_config.json",
        "adapter_model.safetensors",
        "training_metadata.json",
        "adapter.gguf",
        "tokenizer.json",
        "adapter.zip",
    } <= files
    with zipfile.ZipFile(out / "adapter.zip") as zf:
        assert {"adapter.gguf", "adapter_model.safetensors"} <= set(zf.namelist())
    # no scratch left beside the output, and no temp directory
    assert sorted(p.name for p in out.parent.iterdir() if p.name.startswith(".")) == []


@pytest.mark.slow
def test_a_bad_line_is_reported_with_its_number_and_exit_code_2(tmp_path, home):
    data = tiny_dataset(tmp_path / "mine.jsonl", rows=5)
    lines = data.read_text().splitlines()
    lines[3] = '{"text": "set an alarm", "intent": "alarm_set", "date_keys": ["at_99pm"]}'
    data.write_text("\n".join(lines) + "\n")
    proc = run_cli(
        "train-adapter", *tiny_args(data), "--max-steps", "1", "--output", str(tmp_path / "a"), "--json-progress"
    )
    assert proc.returncode == 2
    error = json_lines(proc.stdout)[-1]
    assert error["event"] == "error" and "line 4" in error["message"] and "at_99pm" in error["message"]
    assert not (tmp_path / "a").exists()


@pytest.mark.slow
def test_an_existing_output_is_never_overwritten(tmp_path, home):
    data = tiny_dataset(tmp_path / "tiny.jsonl")
    (tmp_path / "taken").mkdir()
    proc = run_cli("train-adapter", *tiny_args(data), "--max-steps", "1", "--output", str(tmp_path / "taken"))
    assert proc.returncode == 2 and "already exists" in proc.stdout


@pytest.mark.slow
def test_resume_of_a_directory_that_is_not_a_job_is_refused(tmp_path, home):
    proc = run_cli("train-adapter", "--resume", str(tmp_path), "--json-progress")
    assert proc.returncode == 2
    assert "not a training work directory" in json_lines(proc.stdout)[-1]["message"]


@pytest.mark.slow
def test_a_new_adapter_inherits_the_routing_threshold_of_the_adapter_it_was_compared_with(tmp_path, home):
    from jarvis_desktop.jobs.adapters import read_metadata
    from jarvis_desktop.nlu.engine import NluEngine
    from jarvis_desktop.nlu.lora_fallback import DEFAULT_ADAPTER_DIR, LoraFallback

    data = tiny_dataset(tmp_path / "tiny.jsonl")
    out = tmp_path / "new"
    proc = run_cli(
        "train-adapter",
        *tiny_args(data),
        "--max-steps",
        "1",
        "--no-gguf",
        "--baseline",
        str(DEFAULT_ADAPTER_DIR),
        "--output",
        str(out),
        "--json-progress",
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr[-2000:]
    shipped = read_metadata(DEFAULT_ADAPTER_DIR)["routing"]["threshold"]
    routing = read_metadata(out)["routing"]
    assert routing["threshold"] == shipped and routing["inherited_from"] == str(DEFAULT_ADAPTER_DIR)
    engine = NluEngine(fallback=LoraFallback(adapter_dir=out, backend="torch"))
    assert engine.fallback_threshold == shipped
