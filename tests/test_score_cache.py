"""Validation scores are reused only for the very same adapter, rows and scorer, and a job uses them."""

from __future__ import annotations

import pytest
from cli_helpers import run_cli
from jobs_support import json_lines, shared_trained_adapter, tiny_args, tiny_dataset

from jarvis_desktop.jobs import score_cache

SCORES = {"n": 2, "intent_accuracy": 50.0, "date_keys_accuracy": 100.0, "exact_accuracy": 50.0, "loss": 0.3}


def _adapter(path, weights=b"weights"):
    path.mkdir()
    (path / "adapter_config.json").write_text('{"r": 8}')
    (path / "adapter_model.safetensors").write_bytes(weights)
    return path


def test_scores_come_back_only_for_the_same_weights_rows_and_settings(tmp_path):
    adapter = _adapter(tmp_path / "a")
    valid = tmp_path / "valid.jsonl"
    valid.write_text('{"text": "hi"}\n')
    cache = tmp_path / "scores.json"
    key = score_cache.score_key(adapter, valid, 200, 1234, 96)
    score_cache.put(key, SCORES, adapter, cache)
    assert score_cache.get(key, cache) == SCORES
    assert score_cache.score_key(adapter, valid, 100, 1234, 96) != key
    assert score_cache.score_key(adapter, valid, 200, 1, 96) != key
    assert score_cache.score_key(adapter, valid, 200, 1234, 64) != key
    valid.write_text('{"text": "hello"}\n')
    assert score_cache.score_key(adapter, valid, 200, 1234, 96) != key
    (adapter / "adapter_model.safetensors").write_bytes(b"retrained")
    changed = score_cache.score_key(adapter, valid, 200, 1234, 96)
    assert score_cache.get(changed, cache) is None


def test_a_corrupt_cache_file_is_ignored_and_rewritten(tmp_path):
    adapter = _adapter(tmp_path / "a")
    cache = tmp_path / "scores.json"
    cache.write_text("{not json")
    assert score_cache.get("k", cache) is None
    score_cache.put("k", SCORES, adapter, cache)
    assert score_cache.get("k", cache) == SCORES


def test_a_missing_adapter_file_raises_oserror(tmp_path):
    with pytest.raises(OSError):
        score_cache.score_key(tmp_path / "nowhere", tmp_path / "v.jsonl", 2, 1, 32)


@pytest.mark.slow
def test_a_job_scores_the_baseline_once_and_reuses_those_scores_and_its_own(tmp_path, home, tmp_path_factory):
    baseline, _, code = shared_trained_adapter(tmp_path_factory)
    assert code == 0
    score_cache.cache_path().unlink(missing_ok=True)
    data = tiny_dataset(tmp_path / "tiny.jsonl")

    def job(name: str, against) -> dict:
        proc = run_cli(
            "train-adapter",
            *tiny_args(data),
            "--max-steps",
            "1",
            "--no-gguf",
            "--baseline",
            str(against),
            "--output",
            str(tmp_path / name),
            "--json-progress",
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr[-2000:]
        return next(e for e in json_lines(proc.stdout) if e["event"] == "validation")

    first, second = job("first", baseline), job("second", baseline)
    assert (first["baseline_cached"], second["baseline_cached"]) == (False, True)
    assert first["baseline"] == second["baseline"] and first["baseline"]["n"] == 2
    # a job's own scores are kept too: the adapter it wrote is not scored again when it becomes the baseline
    third = job("third", tmp_path / "first")
    assert third["baseline_cached"] is True and third["baseline"] == first["new"]
