"""LoRA adapters on disk: the built-in one, the ones training jobs wrote, which one is active, the hot swap.

* Built-in: the repo's ``adapters/date-intent/`` (:data:`~jarvis_desktop.nlu.lora_fallback.DEFAULT_ADAPTER_DIR`);
  never modified by anything here.
* Trained: ``<data dir>/adapters/<name>/`` (``$JARVIS_DESKTOP_HOME/adapters/<name>/``), each with the PEFT files
  (``adapter_config.json``, ``adapter_model.safetensors``), tokenizer files, ``training_metadata.json``,
  ``adapter.gguf`` (llama.cpp) and optionally ``adapter.zip``. Kept after another one is activated.
* Active: ``[nlu] adapter_dir`` in ``settings.toml`` (empty = built-in), which the NLU engine reads at start.
  :func:`activate_adapter` is the one way to activate one (the CLI and the Training tab both call it): with a
  running engine it first loads and swaps it in (:func:`swap_fallback`), then
  :meth:`AdapterRegistry.activate` persists the choice.

Scores: ``training_metadata.json`` ``job_validation`` (written by the job: the new adapter and the one it was
compared with, on the same validation rows), else ``validation_teacher_forced``. All in %, higher is better.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jarvis_desktop.config import Settings, data_dir, load_settings, save_settings
from jarvis_desktop.errors import BadInputError
from jarvis_desktop.nlu.engine import NluEngine
from jarvis_desktop.nlu.lora_fallback import DEFAULT_ADAPTER_DIR, LoraFallback

#: Name of the built-in adapter (the repo's ``adapters/date-intent``).
BUILTIN_NAME = "date-intent"
#: Score compared first when deciding whether a new adapter is "not worse" (then the next ones on ties).
SCORE_ORDER = ("exact_accuracy", "intent_accuracy", "date_keys_accuracy")


def builtin_dir() -> Path:
    """The shipped adapter's directory (it may be missing in a development checkout)."""
    return DEFAULT_ADAPTER_DIR


def adapters_root() -> Path:
    """``<data dir>/adapters`` (created on first use)."""
    root = data_dir() / "adapters"
    root.mkdir(parents=True, exist_ok=True)
    return root


def read_metadata(path: Path) -> dict[str, Any]:
    """``training_metadata.json`` of an adapter directory ({} when missing or unreadable)."""
    try:
        meta = json.loads((Path(path) / "training_metadata.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return meta if isinstance(meta, dict) else {}


def scores_of(meta: dict[str, Any]) -> dict[str, Any]:
    """The adapter's own validation scores from its metadata ({} when it was never scored)."""
    job = meta.get("job_validation") or {}
    return dict(job.get("new") or meta.get("validation_teacher_forced") or {})


def not_worse(new: dict[str, Any] | None, current: dict[str, Any] | None) -> bool:
    """True when scores ``new`` are at least as good as ``current`` (:data:`SCORE_ORDER`, compared in turn;
    equal on all counts is "not worse"). No current scores: True; no new scores: False."""
    if not new:
        return False
    if not current:
        return True
    for key in SCORE_ORDER:
        a, b = float(new.get(key, 0.0)), float(current.get(key, 0.0))
        if abs(a - b) > 1e-9:
            return a > b
    return True


@dataclass
class AdapterInfo:
    """One adapter: ``name``, ``path``, ``builtin``, ``active``, ``scores`` (see :func:`scores_of`),
    ``has_gguf`` (llama.cpp file present), ``present`` (directory exists), ``created_at`` (epoch s of the
    metadata file), ``steps`` trained, ``job_id`` of the job that made it (None for the built-in)."""

    name: str
    path: Path
    builtin: bool = False
    active: bool = False
    scores: dict[str, Any] = field(default_factory=dict)
    has_gguf: bool = False
    present: bool = True
    created_at: float | None = None
    steps: int | None = None
    job_id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON shape of ``jarvis-desktop adapters --json``."""
        return {
            "name": self.name,
            "path": str(self.path),
            "builtin": self.builtin,
            "active": self.active,
            "scores": self.scores,
            "has_gguf": self.has_gguf,
            "present": self.present,
            "created_at": self.created_at,
            "steps": self.steps,
            "job_id": self.job_id,
        }


def _info(name: str, path: Path, builtin: bool) -> AdapterInfo:
    meta = read_metadata(path)
    meta_file = path / "training_metadata.json"
    return AdapterInfo(
        name=name,
        path=path,
        builtin=builtin,
        scores=scores_of(meta),
        has_gguf=(path / "adapter.gguf").is_file(),
        present=path.is_dir(),
        created_at=meta_file.stat().st_mtime if meta_file.is_file() else None,
        steps=meta.get("steps"),
        job_id=(meta.get("job") or {}).get("id"),
    )


class AdapterRegistry:
    """The adapters under ``root`` (default :func:`adapters_root`) plus the built-in one.

    ``settings_file``: the settings TOML holding the active choice (default: the app's ``settings.toml``).
    """

    def __init__(self, root: Path | None = None, settings_file: Path | None = None) -> None:
        self.root = Path(root) if root else adapters_root()
        self.settings_file = settings_file

    def _settings(self) -> Settings:
        return load_settings(self.settings_file)

    def list_adapters(self) -> list[AdapterInfo]:
        """The built-in adapter first, then trained ones, newest first; ``active`` set on the active one."""
        items = [_info(BUILTIN_NAME, builtin_dir(), True)]
        trained = [
            _info(p.name, p, False)
            for p in self.root.iterdir()
            if p.is_dir()
            and not p.name.startswith(".")
            and p.name != BUILTIN_NAME
            and ((p / "adapter_config.json").is_file() or (p / "adapter.gguf").is_file())
        ]
        items += sorted(trained, key=lambda a: a.created_at or 0.0, reverse=True)
        active = self.active_path()
        for item in items:
            item.active = _same(item.path, active)
        return items

    def get(self, name: str) -> AdapterInfo:
        """The adapter called ``name``. Raises BadInputError when there is none."""
        for item in self.list_adapters():
            if item.name == name:
                return item
        raise BadInputError(f"no adapter called {name!r}", hint="see: jarvis-desktop adapters")

    def active_path(self) -> Path:
        """Directory of the active adapter (``[nlu] adapter_dir``, empty = built-in)."""
        configured = self._settings().nlu.adapter_dir
        return Path(configured).expanduser() if configured else builtin_dir()

    def active(self) -> AdapterInfo:
        """The active adapter (one made up from the path when it is not in :meth:`list_adapters`)."""
        for item in self.list_adapters():
            if item.active:
                return item
        path = self.active_path()
        return _info(path.name, path, False)

    def activate(self, name: str, settings: Settings | None = None) -> AdapterInfo:
        """Make ``name`` the active adapter: written to ``settings.toml`` (atomically) and, when given, into
        the in-memory ``settings`` of a running app. Returns it with ``active`` True.

        Raises:
            BadInputError: unknown name, or its directory is missing.
            JarvisError: the settings file cannot be written.
        """
        info = self.get(name)
        if not info.present:
            raise BadInputError(f"adapter {name!r} is missing on disk: {info.path}")
        value = "" if info.builtin else str(info.path)
        stored = self._settings()
        stored.nlu.adapter_dir = value
        save_settings(stored, self.settings_file)
        if settings is not None:
            settings.nlu.adapter_dir = value
        info.active = True
        return info

    def unique_name(self, base: str) -> str:
        """``base``, or ``base-2``, ``base-3`` ... : a name no adapter (or temp directory) uses yet."""
        taken = {p.name for p in self.root.iterdir()} | {BUILTIN_NAME}
        name, n = base, 1
        while name in taken or any(t.startswith(f".{name}.tmp") for t in taken):
            n += 1
            name = f"{base}-{n}"
        return name


def _same(a: Path, b: Path) -> bool:
    try:
        return Path(a).resolve() == Path(b).resolve()
    except OSError:
        return False


def swap_fallback(engine: NluEngine, adapter_dir: Path, settings: Settings | None = None) -> float:
    """Load the adapter in ``adapter_dir`` and make it the running ``engine``'s LoRA fallback (no restart).

    The new :class:`~jarvis_desktop.nlu.lora_fallback.LoraFallback` is loaded first (the engine keeps
    answering with the old one meanwhile), then swapped in with one attribute assignment; a ``parse`` in
    flight finishes with the adapter it started with. The routing threshold becomes the adapter's
    (``training_metadata.json`` ``routing.threshold``) unless ``[nlu] fallback_threshold`` fixes one; an
    adapter without one keeps the current threshold. ``[nlu] fallback = "off"`` swaps nothing.

    Returns:
        Seconds the load and swap took.

    Raises:
        ModelNotFoundError: the adapter cannot be loaded; the engine keeps its current fallback.
    """
    t0 = time.perf_counter()
    nlu = settings.nlu if settings is not None else None
    mode = ((nlu.fallback if nlu else "auto") or "auto").strip().lower()
    if mode == "off":
        return 0.0
    fallback = LoraFallback(adapter_dir=Path(adapter_dir), backend=mode).load()
    fixed = nlu.fallback_threshold if nlu is not None else -1.0
    routing = fallback.metadata().get("routing") or {}
    if fixed is not None and fixed >= 0:
        engine.fallback_threshold = float(fixed)
    elif "threshold" in routing:
        engine.fallback_threshold = float(routing["threshold"])
    engine.fallback = fallback
    engine.fallback_error = None
    return time.perf_counter() - t0


@dataclass(frozen=True)
class Activation:
    """An adapter made active: its ``info`` (``active`` True), and ``swap_s`` seconds the load + swap into the
    running engine took (None when there was no running engine: it is used from the next start)."""

    info: AdapterInfo
    swap_s: float | None


def activate_adapter(
    name: str,
    engine: NluEngine | None = None,
    settings: Settings | None = None,
    registry: AdapterRegistry | None = None,
) -> Activation:
    """Make adapter ``name`` the NLU fallback's: with a running ``engine``, load it and swap it in first
    (:func:`swap_fallback`; a failed load leaves everything as it was), then persist the choice in
    ``settings.toml`` (and in the running app's ``settings``). The one activation of both the CLI
    (``adapters activate``) and the Training tab.

    Raises:
        BadInputError: unknown adapter, or its directory is missing.
        ModelNotFoundError: it cannot be loaded into ``engine`` (the current one stays active).
        JarvisError: the settings file cannot be written.
    """
    registry = registry or AdapterRegistry()
    info = registry.get(name)
    swap_s = swap_fallback(engine, info.path, settings) if engine is not None else None
    return Activation(registry.activate(name, settings=settings), swap_s)
