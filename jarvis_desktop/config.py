"""Where Jarvis keeps its files, and the user's settings (TOML).

* Data dir (SQLite database, logs, trained adapters): ``platformdirs.user_data_dir("jarvis-desktop")``.
* Settings file: ``platformdirs.user_config_dir("jarvis-desktop")/settings.toml``.
* ``JARVIS_DESKTOP_HOME=/some/dir`` puts both in that one directory (tests and portable installs use it).

Every model path left empty means "use the embedded default" (see :mod:`jarvis_desktop.models`).
"""

from __future__ import annotations

import dataclasses
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

import platformdirs
import tomli_w

from jarvis_desktop.errors import BadInputError

APP_NAME = "jarvis-desktop"
HOME_ENV = "JARVIS_DESKTOP_HOME"


def data_dir() -> Path:
    """Directory for the database, logs and adapters; created if missing."""
    home = os.environ.get(HOME_ENV)
    path = Path(home) if home else Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def config_dir() -> Path:
    """Directory holding ``settings.toml``; created if missing."""
    home = os.environ.get(HOME_ENV)
    path = Path(home) if home else Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def settings_path() -> Path:
    """Path of the settings file (it need not exist)."""
    return config_dir() / "settings.toml"


def database_path() -> Path:
    """Path of the app's SQLite database."""
    return data_dir() / "jarvis.sqlite3"


@dataclass
class SttSettings:
    """Speech-to-text (faster-whisper / CTranslate2).

    ``model_path``: a CTranslate2 Whisper model directory; empty = embedded tiny.en.
    ``compute_type``: CTranslate2 quantization ("int8", "int8_float32", "float32", ...).
    ``beam_size``: 5 is Whisper's reference setting (librivox WER 5.6 % vs 9.9 % greedy with tiny.en,
    for about 25 ms more per short command; measured by tests/test_stt_wer.py); 1 is greedy decoding.
    ``no_speech_threshold``: a segment whose ``no_speech_prob`` exceeds it is dropped when it also has a
    low ``avg_logprob`` or quiet audio (see :mod:`jarvis_desktop.stt.whisper`).
    """

    model_path: str = ""
    compute_type: str = "int8"
    cpu_threads: int = 2
    language: str = "en"
    beam_size: int = 5
    vad_filter: bool = True
    no_speech_threshold: float = 0.6


@dataclass
class ChatSettings:
    """Chat model (llama-cpp-python on a GGUF file).

    ``model_path``: a ``.gguf`` file; empty = embedded SmolLM2-135M-Instruct Q4_1.
    ``n_ctx``: context window in tokens. ``max_tokens``: reply length cap in tokens.
    """

    model_path: str = ""
    n_ctx: int = 2048
    n_threads: int = 2
    max_tokens: int = 256
    temperature: float = 0.3
    system_prompt: str = (
        "You are Jarvis, a helpful desktop assistant. Answer in one to three short sentences."
    )
    history_turns: int = 6


@dataclass
class EmbeddingSettings:
    """Sentence embeddings (sentence-transformers); empty = embedded all-MiniLM-L6-v2."""

    model_path: str = ""


@dataclass
class NluSettings:
    """Intent and date-key understanding.

    ``model_dir``: directory with ``intent.ftz`` (FastText); empty = the models shipped in ``models/nlu``.
    ``timezone``: IANA zone name used to resolve ``when``; empty = the system's local zone.
    """

    model_dir: str = ""
    timezone: str = ""


@dataclass
class AudioSettings:
    """Microphone capture.

    ``device``: sounddevice input device name or index as text; empty = system default.
    ``sample_rate``: Hz of the captured stream handed to STT (Whisper wants 16000).
    ``vad_threshold_db``: speech starts when the frame level exceeds the noise floor by this many dB.
    ``endpoint_silence_ms``: trailing silence that ends an utterance in hands-free mode.
    ``max_utterance_s``: an utterance is cut after this many seconds.
    """

    device: str = ""
    sample_rate: int = 16000
    vad_threshold_db: float = 12.0
    endpoint_silence_ms: int = 800
    max_utterance_s: float = 15.0


@dataclass
class Settings:
    """All user settings; ``load_settings()`` fills it from ``settings.toml``."""

    stt: SttSettings = field(default_factory=SttSettings)
    chat: ChatSettings = field(default_factory=ChatSettings)
    embeddings: EmbeddingSettings = field(default_factory=EmbeddingSettings)
    nlu: NluSettings = field(default_factory=NluSettings)
    audio: AudioSettings = field(default_factory=AudioSettings)

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict, as written to TOML."""
        return dataclasses.asdict(self)


def _merge(section: Any, values: dict[str, Any], where: str) -> None:
    known = {f.name: f for f in dataclasses.fields(section)}
    for key, value in values.items():
        if key not in known:
            raise BadInputError(f"{where}: unknown setting '{key}'")
        current = getattr(section, key)
        if isinstance(current, bool) != isinstance(value, bool) or (
            not isinstance(value, type(current)) and not (isinstance(current, float) and isinstance(value, int))
        ):
            raise BadInputError(
                f"{where}: setting '{key}' must be {type(current).__name__}, got {value!r}"
            )
        setattr(section, key, type(current)(value))


def load_settings(path: Path | None = None) -> Settings:
    """Read the settings file; a missing file gives the defaults.

    Raises:
        BadInputError: the file is not valid TOML, or has an unknown key or a wrongly typed value.
    """
    path = path or settings_path()
    settings = Settings()
    if not path.exists():
        return settings
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise BadInputError(f"{path}: not a valid settings file: {exc}") from exc
    for name, values in data.items():
        section = getattr(settings, name, None)
        if section is None or not isinstance(values, dict):
            raise BadInputError(f"{path}: unknown section [{name}]")
        _merge(section, values, f"{path} [{name}]")
    return settings


def save_settings(settings: Settings, path: Path | None = None) -> Path:
    """Write the settings atomically (temp file + rename), so a full disk never leaves half a file."""
    path = path or settings_path()
    tmp = path.with_suffix(".toml.tmp")
    tmp.write_text(tomli_w.dumps(settings.to_dict()), encoding="utf-8")
    os.replace(tmp, path)
    return path
