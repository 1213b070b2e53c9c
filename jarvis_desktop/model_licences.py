"""The licence of every model Jarvis uses, in one typed table (no Qt; reads only settings and the disk).

The catalogue (:mod:`jarvis_desktop.catalog`) is the single source for the chat, speech-to-text and embedding
models (whichever one the settings make active); the voice's licence comes from
:data:`jarvis_desktop.tts.hibari_voice.LICENCE` and the wake word's full terms from
:data:`jarvis_desktop.voice.wake.LICENCE`. The rows that no module held yet (voice activity, intent model, intent
fallback, the wake word's short licence id) are written here, from README.md's "Embedded default models" table
and docs/models.md. The About box (``ui/about_dialog.py``) and the first-run tour show these rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from jarvis_desktop import catalog
from jarvis_desktop.catalog import CatalogEntry, Kind
from jarvis_desktop.config import Settings
from jarvis_desktop.tts import hibari_voice
from jarvis_desktop.voice import wake

__all__ = ["WAKE_WORD_LICENCE", "ModelLicence", "models_in_use"]

WAKE_WORD_LICENCE = "CC BY-NC-SA 4.0"
"""Short licence id of openWakeWord's ``hey_jarvis`` and feature models (full terms: ``voice.wake.LICENCE``)."""

PROJECT_LICENCE = "MIT (this project)"
"""Licence of the models Jarvis trains and ships itself (pyproject.toml ``license``)."""


@dataclass(frozen=True)
class ModelLicence:
    """One model in use and its licence.

    Attributes:
        role: what the model does ("Chat", "Speech-to-text", "Wake word", ...).
        model: the model's name as a user reads it.
        licence: the licence (SPDX id where one exists; "unknown ..." for a file the user chose by hand).
        source: where its weights come from (a pip package, a hub repository, a path).
        note: a caveat in plain words ("non-commercial use only", "off in settings"); "" when none.
        details: longer text (full licence terms, origin of the weights) for a tooltip; "" when none.
    """

    role: str
    model: str
    licence: str
    source: str
    note: str = ""
    details: str = ""


def _active(kind: Kind, settings: Settings) -> CatalogEntry | None:
    """The catalogue entry ``settings`` make Jarvis load for ``kind`` (None: a path the user set by hand)."""
    for entry in catalog.entries(kind):
        if catalog.is_active(entry, settings):
            return entry
    return None


def _from_catalog(role: str, kind: Kind, settings: Settings, own_path: str, note: str = "") -> ModelLicence:
    entry = _active(kind, settings)
    if entry is None:
        return ModelLicence(
            role,
            Path(own_path).name or own_path,
            "unknown (a model you chose: see its model card)",
            own_path,
            note,
        )
    package = entry.embedded_module.replace("_", "-")
    source = f"pip package {package}" if entry.embedded else f"{entry.repo_id} (downloaded)"
    return ModelLicence(role, entry.name, entry.licence, source, note)


def models_in_use(settings: Settings) -> list[ModelLicence]:
    """One row per model Jarvis loads with ``settings``: chat, speech-to-text, wake word, voice activity, voice,
    intent model, intent fallback, embeddings; in that order.

    Reads the disk (a downloaded model's marker) but loads no model and imports no heavy library.
    """
    nlu_dir = settings.nlu.model_dir or "models/nlu (shipped)"
    fallback_off = settings.nlu.fallback.strip().lower() == "off"
    return [
        _from_catalog("Chat", "chat", settings, settings.chat.model_path),
        _from_catalog("Speech-to-text", "stt", settings, settings.stt.model_path),
        ModelLicence(
            "Wake word",
            'openWakeWord "hey_jarvis" (TFLite)',
            WAKE_WORD_LICENCE,
            "pip package pyopen-wakeword",
            "non-commercial use only",
            wake.LICENCE,
        ),
        ModelLicence("Voice activity", "Silero VAD v6 (ONNX)", "MIT", "inside pip package faster-whisper"),
        ModelLicence(
            "Voice",
            'hibari "heart" (int8 ONNX)',
            hibari_voice.LICENCE,
            "pip package hibari-tts",
            details=hibari_voice.ORIGIN,
        ),
        ModelLicence("Intent model", "FastText intent + date-key grammar", PROJECT_LICENCE, nlu_dir),
        ModelLicence(
            "Intent fallback",
            "LoRA adapter on SmolLM2-135M (GGUF)",
            "MIT (this project; base Apache-2.0)",
            settings.nlu.adapter_dir or "adapters/date-intent (shipped)",
            "off in settings" if fallback_off else "",
        ),
        _from_catalog(
            "Embeddings",
            "embedding",
            settings,
            settings.embeddings.model_path,
            "not loaded yet",
        ),
    ]
