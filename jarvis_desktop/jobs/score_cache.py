"""Validation scores already computed, so a job does not score the same adapter on the same rows twice.

A job compares its new adapter with the active one on the same validation rows; scoring one adapter on the
default 200 rows takes ~20 s on 2 cores. Scores are a pure function of the adapter's weights and config, the
validation file, which rows are sampled (count and seed), the token limit and the scoring code, so they are
stored under a SHA-256 of all of these in ``<data dir>/cache/adapter-scores.json`` and read back when every
part matches; a changed byte anywhere is a different key. Bump :data:`SCORER_VERSION` when the scoring changes.

Stdlib only; a corrupt or unwritable cache file is ignored (the scores are then computed again).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from jarvis_desktop.config import data_dir

#: Part of every key: change it when :func:`jarvis_desktop.training.scoring.score_teacher_forced` changes.
SCORER_VERSION = 1
#: Adapter files whose bytes decide its scores.
KEY_FILES = ("adapter_config.json", "adapter_model.safetensors")
MAX_ENTRIES = 200


def cache_path() -> Path:
    """``<data dir>/cache/adapter-scores.json`` (see :func:`jarvis_desktop.config.data_dir`)."""
    return data_dir() / "cache" / "adapter-scores.json"


def score_key(adapter: Path, valid_path: Path, eval_rows: int, seed: int, max_len: int) -> str:
    """Hex SHA-256 naming the scores of ``adapter`` on ``eval_rows`` rows of ``valid_path`` sampled with
    ``seed``, sequences cut at ``max_len`` tokens. Raises OSError when a file cannot be read."""
    digest = hashlib.sha256()
    digest.update(
        json.dumps(
            {"scorer": SCORER_VERSION, "eval_rows": eval_rows, "seed": seed, "max_len": max_len}, sort_keys=True
        ).encode()
    )
    for path in [Path(adapter) / name for name in KEY_FILES] + [Path(valid_path)]:
        digest.update(path.name.encode() + b"\0")
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def get(key: str, path: Path | None = None) -> dict[str, Any] | None:
    """The scores stored under ``key`` (``{"n", "intent_accuracy", ...}``), or None."""
    entry = _read(path or cache_path()).get(key)
    return dict(entry["scores"]) if isinstance(entry, dict) and isinstance(entry.get("scores"), dict) else None


def put(key: str, scores: dict[str, Any], adapter: Path, path: Path | None = None) -> None:
    """Store ``scores`` under ``key`` (``adapter`` recorded for people reading the file); keeps the newest
    :data:`MAX_ENTRIES`. Written through a temporary file; an OSError (full disk) leaves the cache as it was."""
    path = path or cache_path()
    entries = _read(path)
    entries.pop(key, None)
    entries[key] = {"adapter": str(adapter), "scores": dict(scores)}
    entries = dict(list(entries.items())[-MAX_ENTRIES:])
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(entries, indent=1) + "\n", encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):  # best effort: a leftover temp file is harmless
            tmp.unlink()
