"""``jarvis-desktop doctor``: what is installed and found, and the fix for what is missing.

Checks run without loading any model or importing Qt into this process (the Qt check finds PySide6 with
``importlib.util.find_spec``, reads the plugin files, asks ``ldd`` which shared libraries are missing, and
imports ``PySide6.QtWidgets`` in a short child process with ``QT_QPA_PLATFORM=offscreen``), so doctor works
even when the GUI cannot start.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import mmap
import os
import platform
import shutil
import struct
import subprocess
import sys
import zoneinfo
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from functools import partial
from pathlib import Path

from jarvis_desktop import config, models
from jarvis_desktop.config import Settings
from jarvis_desktop.errors import BadInputError, JarvisError
from jarvis_desktop.llm.keys import key_source
from jarvis_desktop.llm.remote import RemoteChatModel, RemoteError, remote_settings
from jarvis_desktop.model_licences import models_in_use
from jarvis_desktop.store.backup import backup_dir, file_problem, list_backups
from jarvis_desktop.store.db import corrupt_error


@dataclass
class Check:
    """One line of the doctor's report: ``status`` is "ok", "warn" or "missing" (missing or unusable: a bad
    settings file, a corrupt model, an unknown time zone; any "missing" makes ``doctor`` exit 1)."""

    name: str
    status: str
    detail: str
    fix: str = ""

    def to_dict(self) -> dict[str, str]:
        """``{"name", "status", "detail", "fix"}`` (``doctor --json``)."""
        return asdict(self)


#: Seconds the child process that imports Qt may take (a cold import is ~0.5 s; a hang means a broken install).
QT_PROBE_TIMEOUT_S = 20.0
_QT_PROBE = "import PySide6.QtWidgets as w, PySide6; print(PySide6.__version__)"


def _qt_import_probe() -> Check:
    """Import ``PySide6.QtWidgets`` in a child process (offscreen platform, :data:`QT_PROBE_TIMEOUT_S`)."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    try:
        res = subprocess.run(
            [sys.executable, "-c", _QT_PROBE], capture_output=True, text=True, timeout=QT_PROBE_TIMEOUT_S, env=env
        )
    except subprocess.TimeoutExpired:
        return Check("Qt import", "warn", f"importing PySide6.QtWidgets took over {QT_PROBE_TIMEOUT_S:g} s")
    if res.returncode != 0:
        last = (res.stderr.strip().splitlines() or ["no output"])[-1]
        return Check("Qt import", "missing", f"PySide6.QtWidgets cannot be imported: {last}", "run packaging/setup.sh")
    return Check("Qt import", "ok", f"PySide6 {res.stdout.strip()} imports (offscreen)")


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _packages() -> list[Check]:
    wanted = [
        ("faster-whisper", "faster_whisper", "speech-to-text"),
        ("llama-cpp-python", "llama_cpp", "chat model runtime"),
        ("fasttext-numpy2", "fasttext", "intent model runtime"),
        ("PySide6-Essentials", "PySide6", "GUI"),
        ("sounddevice", "sounddevice", "microphone"),
        ("psutil", "psutil", "system status"),
    ]
    out = []
    for dist, module, role in wanted:
        ver = _version(dist)
        if ver and importlib.util.find_spec(module):
            out.append(Check(f"package {dist}", "ok", f"{ver} ({role})"))
        else:
            out.append(
                Check(
                    f"package {dist}",
                    "missing",
                    f"not installed ({role})",
                    f"run packaging/setup.sh, or: pip install {dist}",
                )
            )
    return out


#: GGUF metadata value types (the GGUF spec): fixed sizes in bytes; 8 = string, 9 = array.
_GGUF_SCALAR = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
#: Counts above these are taken as a damaged header (real models have hundreds of tensors, dozens of keys).
_GGUF_MAX_COUNT = 1_000_000


def gguf_problem(path: Path) -> str:
    """Why ``path`` is not a loadable GGUF file, or "" when its header, metadata and tensor table read whole.

    Reads (memory-mapped, no model loaded) the magic ``GGUF``, the version (2 or 3), the tensor and metadata
    counts, every metadata entry and tensor record, and checks that the file is at least as long as its last
    tensor's data (a truncated download fails here). Sizes need ``gguf.constants``; without it only the header
    and tables are checked.
    """
    try:
        with path.open("rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if size < 24:
                return f"only {size} bytes: not a GGUF file"
            with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as buf:
                return _gguf_walk(buf, size)
    except OSError as exc:
        return f"cannot read it: {exc.strerror or exc}"


def _gguf_walk(buf: mmap.mmap, size: int) -> str:  # noqa: C901 - one pass over the GGUF layout
    pos = 0

    def take(fmt: str) -> int:
        nonlocal pos
        width = struct.calcsize(fmt)
        if pos + width > size:
            raise EOFError
        (value,) = struct.unpack_from(fmt, buf, pos)
        pos += width
        return int(value)

    def skip_string() -> str:
        nonlocal pos
        n = take("<Q")
        if pos + n > size:
            raise EOFError
        text = bytes(buf[pos : pos + n]).decode("utf-8", "replace")
        pos += n
        return text

    def skip_value(kind: int) -> int | None:
        nonlocal pos
        if kind in _GGUF_SCALAR:
            return take({1: "<B", 2: "<H", 4: "<I", 8: "<Q"}[_GGUF_SCALAR[kind]])
        if kind == 8:
            skip_string()
            return None
        if kind == 9:
            item, count = take("<I"), take("<Q")
            if item in _GGUF_SCALAR:
                pos += _GGUF_SCALAR[item] * count
                if pos > size:
                    raise EOFError
            elif item in (8, 9):
                if count > size:  # each item takes at least a byte
                    raise EOFError
                for _ in range(count):
                    skip_value(item)
            else:
                raise ValueError(f"bad metadata array type {item}")
            return None
        raise ValueError(f"bad metadata value type {kind}")

    if bytes(buf[:4]) != b"GGUF":
        return f"not a GGUF file (starts with {bytes(buf[:4])!r}, not b'GGUF')"
    pos = 4
    version = take("<I")
    if version not in (2, 3):
        return f"unsupported GGUF version {version} (2 or 3 expected): damaged or too old"
    n_tensors, n_kv = take("<Q"), take("<Q")
    if n_tensors > _GGUF_MAX_COUNT or n_kv > _GGUF_MAX_COUNT:
        return f"damaged header: {n_tensors} tensors, {n_kv} metadata entries"
    try:
        alignment = 32
        for _ in range(n_kv):
            key = skip_string()
            value = skip_value(take("<I"))
            if key == "general.alignment" and value:
                alignment = value
        tensors = []
        for _ in range(n_tensors):
            skip_string()
            dims = [take("<Q") for _ in range(take("<I"))]
            tensors.append((dims, take("<I"), take("<Q")))
    except EOFError:
        return f"truncated or damaged: its header runs past the end of the file ({size} bytes)"
    except (ValueError, OverflowError, KeyError) as exc:
        return f"damaged header: {exc}"
    return _gguf_size_problem(tensors, -(-pos // alignment) * alignment, size)


def _gguf_size_problem(tensors: list[tuple[list[int], int, int]], data_start: int, size: int) -> str:
    """ "" when the file holds all of its tensors' data (``(dims, type, offset)`` each), else why not."""
    try:
        from gguf.constants import GGML_QUANT_SIZES, GGMLQuantizationType
    except ImportError:  # pragma: no cover - gguf is a dependency
        return ""
    end = data_start
    for dims, kind, offset in tensors:
        try:
            block, type_size = GGML_QUANT_SIZES[GGMLQuantizationType(kind)]
        except (ValueError, KeyError):
            return f"damaged tensor table: unknown tensor type {kind}"
        count = 1
        for d in dims:
            count *= d
        end = max(end, data_start + offset + count // block * type_size)
    if end > size:
        return f"truncated: {size} bytes, its {len(tensors)} tensors need {end}"
    return ""


def _models(settings: Settings) -> list[Check]:
    out = []
    for name, locate in (
        ("speech-to-text model", models.whisper_model_path),
        ("chat model", models.chat_model_path),
        ("intent model", models.nlu_model_dir),
    ):
        try:
            path = locate(settings)
            size = (
                sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() else path.stat().st_size
            )
            problem = gguf_problem(path) if name == "chat model" else ""
            if problem:
                fix = "download it again, or set [chat] model_path to a good .gguf"
                out.append(Check(name, "missing", f"{path}: {problem}", fix))
                continue
            out.append(Check(name, "ok", f"{path} ({size / 1e6:.0f} MB)"))
        except JarvisError as exc:
            out.append(Check(name, "missing", str(exc), exc.hint or ""))
    return out


def _audio() -> list[Check]:
    try:
        import sounddevice as sd
    except OSError as exc:  # PortAudio library missing
        return [Check("audio input", "missing", f"PortAudio not loadable: {exc}", "sudo apt-get install libportaudio2")]
    except ImportError:
        return []
    try:
        inputs = [d for d in sd.query_devices() if d.get("max_input_channels", 0) > 0]
    except Exception as exc:  # PortAudio errors are plain Exceptions
        return [Check("audio input", "warn", f"could not list devices: {exc}")]
    if not inputs:
        return [
            Check(
                "audio input",
                "warn",
                "no microphone found (files and typed commands still work)",
                "plug in a microphone, or start PulseAudio/PipeWire",
            )
        ]
    names = ", ".join(d["name"] for d in inputs[:4])
    return [Check("audio input", "ok", f"{len(inputs)} input device(s): {names}")]


def _qt() -> list[Check]:
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return []
    plugin_dir = Path(list(spec.submodule_search_locations)[0]) / "Qt" / "plugins" / "platforms"
    plugins = sorted(p.stem.replace("libq", "") for p in plugin_dir.glob("libq*.so")) if plugin_dir.is_dir() else []
    platform_env = os.environ.get("QT_QPA_PLATFORM", "")
    display = os.environ.get("WAYLAND_DISPLAY") or os.environ.get("DISPLAY")
    where = f"QT_QPA_PLATFORM={platform_env or '(auto)'}, display={display or 'none'}"
    usable = bool(display or platform_env)
    out = [
        Check(
            "Qt platform",
            "ok" if usable else "warn",
            f"{where}, plugins: {', '.join(plugins) or '?'}",
            "" if usable else "no display: run under a desktop session, or set QT_QPA_PLATFORM=offscreen",
        )
    ]
    out.append(_qt_import_probe())
    xcb = plugin_dir / "libqxcb.so"
    if sys.platform.startswith("linux") and xcb.exists() and shutil.which("ldd"):
        res = subprocess.run(["ldd", str(xcb)], capture_output=True, text=True, timeout=10)
        missing = sorted({line.split()[0] for line in res.stdout.splitlines() if "not found" in line})
        if missing:
            out.append(
                Check(
                    "Qt xcb libraries",
                    "warn",
                    "missing: " + ", ".join(missing),
                    "run packaging/setup.sh (it installs the Qt runtime libraries)",
                )
            )
    return out


def _cpu() -> list[Check]:
    flags: set[str] = set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                break
    except OSError:
        pass
    feats = [f for f in ("avx", "avx2", "fma", "f16c", "avx512f") if f in flags]
    detail = f"{platform.machine()}, {os.cpu_count()} cores" + (f", {' '.join(feats)}" if feats else "")
    status = "ok" if not flags or "avx2" in flags else "warn"
    return [Check("CPU", status, detail, "" if status == "ok" else "no AVX2: llama.cpp and CTranslate2 run slower")]


def _tools() -> list[Check]:
    out = []
    for tool, why in (("espeak-ng", "speaks test commands (tests only)"), ("sox", "converts test audio (tests only)")):
        out.append(
            Check(
                f"tool {tool}",
                "ok" if shutil.which(tool) else "warn",
                why if shutil.which(tool) else f"not found: {why}",
                f"sudo apt-get install {tool}",
            )
        )
    return out


def _dirs() -> list[Check]:
    data = config.data_dir()
    ok = os.access(data, os.W_OK)
    free = shutil.disk_usage(data).free / 1e9
    return [
        Check(
            "data dir",
            "ok" if ok and free > 0.2 else "warn",
            f"{data} ({free:.1f} GB free){'' if ok else ', not writable'}",
            "" if ok else f"make {data} writable, or set JARVIS_DESKTOP_HOME",
        ),
    ]


def _database() -> list[Check]:
    """The app database: ``PRAGMA quick_check`` on the file opened read-only ("missing", with the restore and
    salvage commands, when damaged), and the newest automatic backup."""
    path = config.database_path()
    backups = list_backups(backup_dir(path))
    latest = f"latest backup {backups[0].describe()}" if backups else "no backup yet"
    if not path.exists():
        return [Check("database", "ok", f"{path} (not created yet)")]
    problem = file_problem(path)
    if problem:
        error = corrupt_error(path, problem)
        return [Check("database", "missing", f"{error}; {latest}", error.hint or "")]
    return [Check("database", "ok", f"{path} ({path.stat().st_size / 1e6:.1f} MB, quick_check ok; {latest})")]


def _settings() -> tuple[Settings, list[Check]]:
    """The settings (the defaults when the file is bad) and the check line saying which."""
    path = config.settings_path()
    try:
        settings = config.load_settings(path)
    except BadInputError as exc:
        fix = exc.hint or "fix or delete the file (the GUI starts with the defaults meanwhile)"
        return Settings(), [Check("settings", "missing", str(exc), fix)]
    note = "" if path.exists() else " (not created: defaults in use)"
    return settings, [Check("settings", "ok", f"{path}{note}")]


def _time_zone(settings: Settings) -> list[Check]:
    """``[nlu] timezone`` (empty = the system's zone) must be a zone ``zoneinfo`` knows."""
    name = settings.nlu.timezone.strip()
    if not name:
        local = datetime.now().astimezone().tzinfo
        return [Check("time zone", "ok", f"system zone ({local}); set [nlu] timezone to choose one")]
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return [Check("time zone", "missing", f"unknown time zone {name!r}", "use an IANA name, e.g. Europe/Lisbon")]
    return [Check("time zone", "ok", name)]


#: Seconds the doctor's remote probe (GET /models) may take at most.
REMOTE_PROBE_S = 5.0


def _remote(settings: Settings | None = None) -> list[Check]:
    """The remote chat endpoint ([remote] / JARVIS_REMOTE_*): reachable? which models? (connect at most 3 s,
    the whole probe abandoned after ``REMOTE_PROBE_S`` s whatever the server does)."""
    remote = remote_settings(settings if settings is not None else config.load_settings())
    if not remote.base_url:
        return [Check("remote endpoint", "ok", "none configured: every request runs locally")]
    probe = replace(remote, connect_timeout_s=min(remote.connect_timeout_s, 3.0), first_token_timeout_s=REMOTE_PROBE_S)
    client = RemoteChatModel(probe)
    where = f"{remote.shown_url} (model {remote.model or '?'}, key from {key_source()}, placement {remote.placement})"
    try:
        served = client.models(timeout_s=REMOTE_PROBE_S)
    except RemoteError as exc:
        return [
            Check(
                "remote endpoint",
                "warn",
                f"{where}: {exc}",
                exc.hint or "start the server, or clear [remote] base_url; requests fall back to local",
            )
        ]
    listed = ", ".join(served[:5]) or "none listed"
    missing = remote.model and served and remote.model not in served
    return [
        Check(
            "remote endpoint",
            "ok",
            f"{where}: reachable, serves {listed}"
            + (f" (note: {remote.model!r} not listed; single-model servers ignore the name)" if missing else ""),
        )
    ]


def _licences(settings: Settings) -> list[Check]:
    """One informational line per model in use: its name and licence (:mod:`jarvis_desktop.model_licences`)."""
    return [
        Check(f"licence: {m.role.lower()}", "ok", f"{m.model}: {m.licence}" + (f" ({m.note})" if m.note else ""))
        for m in models_in_use(settings)
    ]


def run_checks() -> list[Check]:
    """All checks, in report order. A bad settings file is reported and the other checks use the defaults."""
    checks = [Check("python", "ok", sys.version.split()[0])]
    settings = Settings()
    try:
        settings, lines = _settings()
        checks.extend(lines)
    except JarvisError as exc:  # the settings directory cannot be created
        checks.append(Check("settings", "missing", str(exc), exc.hint or ""))
    groups: tuple[Callable[[], list[Check]], ...] = (
        _packages,
        partial(_models, settings),
        partial(_time_zone, settings),
        _audio,
        _qt,
        _cpu,
        _tools,
        _dirs,
        _database,
        partial(_remote, settings),
        partial(_licences, settings),
    )
    for group in groups:
        try:
            checks.extend(group())
        except Exception as exc:  # a broken check must not hide the others
            name = getattr(group, "func", group).__name__.strip("_")
            checks.append(Check(name, "warn", f"check failed: {exc}"))
    return checks
