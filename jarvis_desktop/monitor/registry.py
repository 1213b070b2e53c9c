"""The models Jarvis knows about: size, estimated and measured memory footprint, where each runs.

A backend registers its model before loading (with an estimate: file size x a per-backend factor), wraps
its load in :meth:`ModelRegistry.measure_load` (footprint = process RSS after - before, MiB), and reports
unloads and each use. The registry is thread-safe; :meth:`records` returns copies for the GUI/CLI.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from jarvis_desktop.monitor.sample import MIB, process_rss_mib

#: Resident memory per byte of model file, by backend (estimate before load).
#: llama.cpp: mmapped weights + KV cache + compute buffers; measured here on SmolLM2-135M Q4_1 (98 MiB file,
#: n_ctx 2048): RSS +150-200 MiB, i.e. ~1.5-2x for a tiny model; the KV share shrinks for large models,
#: so 1.5 is used. mlx: safetensors loaded as-is (lazy) + buffers, 1.2. transformers: a GGUF dequantized to
#: fp32 (Q4_1 -> 32 bit: ~6-8x, 98 MiB -> ~1.2 GiB measured). remote: nothing local.
FOOTPRINT_FACTORS: dict[str, float] = {"llama.cpp": 1.5, "mlx": 1.2, "transformers": 12.0, "remote": 0.0}


def path_size_mib(path: str | Path | None) -> float:
    """Size of a file, or the sum of the files in a directory, in MiB (0.0 if missing)."""
    if not path:
        return 0.0
    p = Path(path)
    try:
        if p.is_dir():
            return sum(f.stat().st_size for f in p.rglob("*") if f.is_file()) / MIB
        return p.stat().st_size / MIB
    except OSError:
        return 0.0


def estimate_footprint(path: str | Path | None, backend: str) -> float:
    """Estimated resident memory (MiB) of ``path`` once loaded by ``backend``: size x ``FOOTPRINT_FACTORS``.

    Raises:
        ValueError: unknown backend.
    """
    if backend not in FOOTPRINT_FACTORS:
        raise ValueError(f"unknown backend {backend!r}; known: {', '.join(FOOTPRINT_FACTORS)}")
    return path_size_mib(path) * FOOTPRINT_FACTORS[backend]


@dataclass
class ModelRecord:
    """One model as the monitor shows it.

    ``kind``: the local runtime ("llama.cpp", "mlx", ...); ``size_mib``: file size; ``estimate_mib``: expected
    RSS once loaded; ``footprint_mib``: measured RSS delta of the last load (None until loaded);
    ``state``: "unloaded", "loading", "loaded"; ``placement``: "local" or "remote" (where requests go now)
    with the policy's ``reason``; ``last_used``: epoch seconds of the last request (None = never);
    ``last_backend``: where the last request actually ran ("local", "remote").
    """

    name: str
    kind: str
    size_mib: float
    estimate_mib: float
    path: str = ""
    footprint_mib: float | None = None
    state: str = "unloaded"
    placement: str = "local"
    reason: str = ""
    last_used: float | None = None
    last_backend: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("size_mib", "estimate_mib", "footprint_mib"):
            if out[key] is not None:
                out[key] = round(out[key], 1)
        return out


class ModelRegistry:
    """Thread-safe table of :class:`ModelRecord` by name."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._models: dict[str, ModelRecord] = {}

    def register(
        self,
        name: str,
        kind: str,
        path: str | Path | None = None,
        size_mib: float | None = None,
        estimate_mib: float | None = None,
    ) -> ModelRecord:
        """Add (or update) a model; size and estimate default to the file's size and ``estimate_footprint``."""
        size = path_size_mib(path) if size_mib is None else size_mib
        est = (
            estimate_footprint(path, kind)
            if estimate_mib is None and kind in FOOTPRINT_FACTORS
            else (estimate_mib if estimate_mib is not None else size)
        )
        with self._lock:
            old = self._models.get(name)
            record = ModelRecord(name, kind, size, est, str(path or ""))
            if old is not None:  # keep what was measured and decided
                record = replace(old, kind=kind, size_mib=size, estimate_mib=est, path=str(path or ""))
            self._models[name] = record
            return replace(record)

    def update(self, name: str, **fields: Any) -> None:
        """Set fields of a registered model (unknown names are ignored)."""
        with self._lock:
            record = self._models.get(name)
            if record is not None:
                for key, value in fields.items():
                    setattr(record, key, value)

    def get(self, name: str) -> ModelRecord | None:
        with self._lock:
            record = self._models.get(name)
            return replace(record) if record else None

    def records(self) -> list[ModelRecord]:
        """Copies of every record, in registration order."""
        with self._lock:
            return [replace(r) for r in self._models.values()]

    def used(self, name: str, backend: str) -> None:
        """A request to ``name`` ran on ``backend`` ("local"/"remote") now."""
        self.update(name, last_used=time.time(), last_backend=backend)

    @contextmanager
    def measure_load(self, name: str) -> Iterator[None]:
        """Wrap a model load: state "loading", then "loaded" with ``footprint_mib`` = RSS delta (MiB, >= 0).
        On an exception the state goes back to "unloaded" and the exception propagates."""
        self.update(name, state="loading")
        before = process_rss_mib()
        try:
            yield
        except BaseException:
            self.update(name, state="unloaded")
            raise
        self.update(name, state="loaded", footprint_mib=max(0.0, process_rss_mib() - before))

    def unloaded(self, name: str) -> None:
        self.update(name, state="unloaded")
