"""Shared test set-up: an isolated JARVIS_DESKTOP_HOME per test session, Qt offscreen, no hub access."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["JARVIS_DESKTOP_NO_WELCOME"] = "1"  # no first-run tour over GUI tests (tests/test_welcome.py unsets it)

# Fixture modules shared by several test files: ``home`` (a fresh JARVIS_DESKTOP_HOME for the jobs tests),
# ``shared_trained_adapter``, ``virtual_mic`` (PulseAudio null sink + remapped source), ``speaker_sink`` (a null
# sink for speech output, recorded from its monitor).
pytest_plugins = ["jobs_support", "helpers_pulse", "helpers_speaker"]


@pytest.fixture(autouse=True, scope="session")
def _isolated_home(tmp_path_factory):
    """Every test runs with its own data/config dir, never the user's."""
    home = tmp_path_factory.mktemp("jarvis-home")
    old = os.environ.get("JARVIS_DESKTOP_HOME")
    os.environ["JARVIS_DESKTOP_HOME"] = str(home)
    yield home
    if old is None:
        os.environ.pop("JARVIS_DESKTOP_HOME", None)
    else:
        os.environ["JARVIS_DESKTOP_HOME"] = old


@pytest.fixture(scope="session")
def stt():
    """The embedded Whisper tiny.en (faster-whisper, int8 CPU), loaded once for the whole session."""
    from jarvis_desktop.stt.whisper import SpeechToText

    model = SpeechToText()
    model.warm_up()
    return model
