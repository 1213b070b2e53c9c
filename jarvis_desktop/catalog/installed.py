"""Which catalogue models are on this machine, where, how big on disk; removing one.

A downloaded model lives in ``<models dir>/<entry id>/`` (``[downloads] models_dir``, default ``<data dir>/models``).
It counts as installed only when the download finished and verified every file: the downloader then writes the
marker :data:`MARKER` (JSON: id, repo, revision, commit, and each file's size and checksum). Files still being
fetched are ``<name>.part`` beside them. Embedded models are installed when their pip package is.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jarvis_desktop.catalog.entries import CatalogEntry
from jarvis_desktop.config import Settings, data_dir
from jarvis_desktop.errors import BadInputError, ModelNotFoundError
from jarvis_desktop.models import WHISPER_BASE_DIR, embedded_chat_gguf, embedded_whisper_path, whisper_base_sources

MARKER = ".jarvis-model.json"
PART_SUFFIX = ".part"
MIB = 1024 * 1024


def models_root(settings: Settings) -> Path:
    """The directory holding downloaded models: ``[downloads] models_dir``, else ``<data dir>/models`` (not created)."""
    if settings.downloads.models_dir:
        return Path(settings.downloads.models_dir).expanduser()
    return data_dir() / "models"


def entry_dir(entry: CatalogEntry, settings: Settings) -> Path:
    """``<models dir>/<entry id>``: where ``entry``'s files go (not created)."""
    return models_root(settings) / entry.id


def read_marker(directory: Path) -> dict[str, Any] | None:
    """The completion marker's JSON in ``directory``, or None when missing or unreadable."""
    try:
        data = json.loads((directory / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _files_complete(entry: CatalogEntry, directory: Path, marker: dict[str, Any]) -> bool:
    sizes = {f.get("name"): f.get("size") for f in marker.get("files", []) if isinstance(f, dict)}
    for name in entry.all_files:
        path = directory / name
        if name not in sizes or not path.is_file() or path.stat().st_size != sizes[name]:
            return False
    return marker.get("id") == entry.id


def _embedded_path(entry: CatalogEntry) -> Path | None:
    """Where an embedded model is (None when its package is not installed)."""
    try:
        if entry.kind == "chat":
            return embedded_chat_gguf()
        if entry.id == "whisper-tiny.en":
            return embedded_whisper_path()
        if entry.id == "whisper-base":  # two pip halves, joined into the data dir at first use (models.py)
            sources = whisper_base_sources()  # checks both halves are installed; writes nothing
            joined = data_dir() / "models" / WHISPER_BASE_DIR
            return joined if (joined / "model.bin").is_file() else sources[0]
    except ModelNotFoundError:
        return None
    spec = importlib.util.find_spec(entry.embedded_module)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def installed_path(entry: CatalogEntry, settings: Settings) -> Path | None:
    """What to load for ``entry`` when it is installed: the GGUF file of a single-file model, else the directory
    (for an embedded model, its location inside the pip package); None when not installed (or only partly)."""
    if entry.embedded:
        return _embedded_path(entry)
    directory = entry_dir(entry, settings)
    marker = read_marker(directory)
    if marker is None or not _files_complete(entry, directory, marker):
        return None
    return directory / entry.filename if entry.single_file else directory


def is_installed(entry: CatalogEntry, settings: Settings) -> bool:
    """True when ``entry`` can be used now (downloaded and verified, or embedded and its package present)."""
    return installed_path(entry, settings) is not None


def model_footprint_mib(path: str | Path) -> float:
    """Size on disk of a model file or directory in MiB (1 MiB = 2^20 bytes), as the placement policy counts it:
    the bytes of its files, leaving out unfinished ``.part`` files and the marker; 0.0 when ``path`` is missing."""
    p = Path(path)
    if p.is_file():
        return p.stat().st_size / MIB
    if not p.is_dir():
        return 0.0
    total = sum(
        f.stat().st_size for f in p.rglob("*") if f.is_file() and f.name != MARKER and not f.name.endswith(PART_SUFFIX)
    )
    return total / MIB


def partial_bytes(entry: CatalogEntry, settings: Settings) -> int:
    """Bytes already on disk for an unfinished download of ``entry`` (finished files and ``.part`` files); 0 if none."""
    directory = entry_dir(entry, settings)
    if entry.embedded or not directory.is_dir() or is_installed(entry, settings):
        return 0
    total = 0
    for name in entry.all_files:
        for candidate in (directory / name, directory / (name + PART_SUFFIX)):
            if candidate.is_file():
                total += candidate.stat().st_size
    return total


@dataclass(frozen=True)
class InstalledState:
    """One catalogue entry on this machine.

    ``installed``: usable now; ``path``: what to load (None when not installed); ``footprint_mib``: its size on disk
    (MiB; 0 when not installed); ``partial_bytes``: bytes of an unfinished download kept for resuming.
    """

    entry: CatalogEntry
    installed: bool
    path: Path | None
    footprint_mib: float
    partial_bytes: int


def state(entry: CatalogEntry, settings: Settings) -> InstalledState:
    """The :class:`InstalledState` of ``entry`` (reads the disk; no network)."""
    path = installed_path(entry, settings)
    footprint = model_footprint_mib(path) if path is not None else 0.0
    return InstalledState(entry, path is not None, path, footprint, partial_bytes(entry, settings))


def remove(entry: CatalogEntry, settings: Settings) -> int:
    """Delete ``entry``'s directory (a finished model or an unfinished download); returns the bytes freed.

    Raises:
        BadInputError: ``entry`` is embedded (it belongs to a pip package), is the model in use (choose another with
            :func:`use` first), or has nothing on disk.
    """
    if entry.embedded:
        raise BadInputError(f"{entry.id} ships with Jarvis and cannot be removed")
    if is_active(entry, settings):
        raise BadInputError(
            f"{entry.id} is the {entry.kind} model in use",
            hint="choose another first, e.g.: jarvis-desktop models use " + _default_id(entry),
        )
    directory = entry_dir(entry, settings)
    if not directory.is_dir():
        raise BadInputError(f"{entry.id} is not installed (nothing in {directory})")
    freed = sum(f.stat().st_size for f in directory.rglob("*") if f.is_file())
    shutil.rmtree(directory)
    return freed


def _default_id(entry: CatalogEntry) -> str:
    return {"chat": "smollm2-135m", "stt": "whisper-tiny.en", "embedding": "all-minilm-l6-v2"}[entry.kind]


# ---- the model in use ---------------------------------------------------------------------------------------------
def _same_path(a: str, b: Path | None) -> bool:
    return b is not None and Path(a).expanduser().resolve() == b.resolve()


def _stt_name(entry: CatalogEntry) -> str:
    """``[stt] model`` for an embedded Whisper entry ("tiny.en", "base")."""
    return entry.id.removeprefix("whisper-")


def is_active(entry: CatalogEntry, settings: Settings) -> bool:
    """True when ``settings`` make Jarvis load ``entry`` for its kind (chat: ``[chat] model_path``; stt:
    ``[stt] model_path``, else ``[stt] model`` for the embedded ones; embedding: ``[embeddings] model_path``)."""
    if entry.kind == "chat":
        configured = settings.chat.model_path
    elif entry.kind == "stt":
        configured = settings.stt.model_path
        if not configured:
            return entry.embedded and settings.stt.model == _stt_name(entry)
    else:
        configured = settings.embeddings.model_path
    if not configured:
        return entry.embedded
    return not entry.embedded and _same_path(configured, installed_path(entry, settings))


def use(entry: CatalogEntry, settings: Settings) -> Path:
    """Make ``entry`` the model of its kind in ``settings`` (in memory: save with ``config.save_settings``).

    chat: ``[chat] model_path`` = the GGUF ("" for the embedded one) and ``[chat] model_id`` = the id; stt:
    ``[stt] model_path`` = the directory, or "" and ``[stt] model`` = "tiny.en" / "base" for the embedded ones (an
    English-only ``.en`` model also sets ``[stt] language`` = "en"); embedding: ``[embeddings] model_path``.
    Returns the path that will be loaded.

    Raises:
        BadInputError: ``entry`` is not installed (the hint says how to download it).
    """
    path = installed_path(entry, settings)
    if path is None:
        raise BadInputError(
            f"{entry.id} is not installed", hint=f"download it first: jarvis-desktop models download {entry.id}"
        )
    configured = "" if entry.embedded else str(path)
    if entry.kind == "chat":
        settings.chat.model_path = configured
        settings.chat.model_id = entry.id
    elif entry.kind == "stt":
        settings.stt.model_path = configured
        if entry.embedded:
            settings.stt.model = _stt_name(entry)
        if entry.id.endswith(".en"):
            settings.stt.language = "en"
    else:
        settings.embeddings.model_path = configured
    return path
