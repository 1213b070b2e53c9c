"""The Settings window as a new user reaches it: time zone, weather location, chat model downloaded from a hub
(a real loopback server shaped like Hugging Face, serving the embedded GGUF), cancelled, resumed, chosen, and the
running window answering on it without a restart; speech model, language, microphone. Offscreen Qt."""

from __future__ import annotations

import os

os.environ["QT_QPA_PLATFORM"] = "offscreen"  # before any QApplication exists

from pathlib import Path

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from helpers_hub import FakeHub

from jarvis_desktop import catalog
from jarvis_desktop.config import Settings, load_settings, save_settings
from jarvis_desktop.models import embedded_chat_gguf
from jarvis_desktop.ui.main_window import MainWindow
from jarvis_desktop.ui.settings_dialog import SettingsDialog
from jarvis_desktop.ui.settings_speech_page import describe_level
from jarvis_desktop.voice.hotkey_types import HotkeyBackend, HotkeyStatus, HotkeySupport

CHAT = catalog.get_entry("qwen2.5-0.5b")  # served with the embedded SmolLM2 GGUF's bytes


@pytest.fixture
def hub(monkeypatch):
    import huggingface_hub.constants

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)  # the test session sets both for every other test
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    with FakeHub() as server:
        server.add_file(CHAT.repo_id, CHAT.filename, embedded_chat_gguf())
        yield server


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    monkeypatch.setenv("JARVIS_DESKTOP_HOME", str(path))
    return path


def _no_hotkey() -> HotkeySupport:
    return HotkeySupport(HotkeyStatus.UNSUPPORTED, HotkeyBackend.NONE, "not probed in this test", "")


def _select(combo, data) -> None:
    combo.setCurrentIndex(combo.findData(data))


def test_general_page_saves_time_zone_and_weather_location(qtbot, home):
    dialog = SettingsDialog(settings=Settings(), probe_hotkey=_no_hotkey)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.general_page.timezone.count() > 100, timeout=10_000)
    dialog.general_page.timezone.setCurrentText("Mars/Olympus_Mons")
    dialog.general_page.location.setText("  Lisbon ")
    dialog.save()
    assert "unknown time zone" in dialog.error.text() and not load_settings().nlu.timezone
    dialog.general_page.timezone.setCurrentText("Europe/Lisbon")
    with qtbot.waitSignal(dialog.saved, timeout=5_000):
        dialog.save()
    saved = load_settings()
    assert (saved.nlu.timezone, saved.weather.location) == ("Europe/Lisbon", "Lisbon")


def test_speech_page_sets_model_language_and_microphone(qtbot, home):
    dialog = SettingsDialog(settings=Settings(), probe_hotkey=_no_hotkey)
    qtbot.addWidget(dialog)
    page = dialog.speech_page
    _select(page.language, "fr")
    assert not page.language_note.isHidden()  # tiny.en is English only: the page says so
    _select(page.stt_model, "base")
    assert page.language_note.isHidden()
    page.microphone.addItem("vmic", "vmic")
    _select(page.microphone, "vmic")
    with qtbot.waitSignal(dialog.saved, timeout=5_000):
        dialog.save()
    saved = load_settings()
    assert (saved.stt.model, saved.stt.language, saved.audio.device) == ("base", "fr", "vmic")
    assert describe_level(-80).startswith("Loudest -80 dBFS: nothing heard")
    assert describe_level(-20).endswith("good.")


@pytest.mark.slow
def test_a_chat_model_downloaded_in_settings_is_resumed_chosen_and_answers_without_a_restart(qtbot, home, hub):
    settings = Settings()
    settings.downloads.hub_url = hub.url
    settings.chat.max_tokens = 24
    save_settings(settings)
    window = MainWindow(settings=load_settings(), use_tray=False)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.engine_ready, timeout=90_000)
    try:
        dialog = SettingsDialog(window, settings=load_settings(), probe_hotkey=_no_hotkey)
        dialog.saved.connect(window.apply_settings)
        page = dialog.chat_page
        qtbot.waitUntil(lambda: bool(page.states), timeout=10_000)
        assert page.states["smollm2-135m"].installed  # the embedded model needs no download
        _select(page.model, CHAT.id)
        assert not page.download.isHidden() and "Apache-2.0" in page.details.text()
        dialog.save()
        assert "not downloaded yet" in dialog.error.text()  # nothing saved for a model that is not there

        hub.chunk_delay_s = 0.02  # slow enough to cancel half-way
        page.start_download()
        qtbot.waitUntil(lambda: page.progress.value() > 50 or not page.runner.running, timeout=20_000)
        assert page.runner.running, page.progress.format()
        with qtbot.waitSignal(page.download_failed, timeout=5_000):
            page.cancel_download()
        qtbot.waitUntil(lambda: page.states[CHAT.id].partial_bytes > 0, timeout=5_000)
        assert "resumes" in page.details.text()

        hub.chunk_delay_s = 0.0
        with qtbot.waitSignal(page.download_finished, timeout=60_000):
            page.start_download()
        assert any(r[0] == "GET" and r[2] and r[2].startswith("bytes=") and r[2] != "bytes=0-" for r in hub.requests)
        qtbot.waitUntil(lambda: page.states[CHAT.id].installed, timeout=5_000)

        with qtbot.waitSignal(dialog.saved, timeout=5_000):
            dialog.save()
        assert load_settings().chat.model_id == CHAT.id
        qtbot.waitUntil(lambda: "switched" in window.status_message(), timeout=30_000)
        assert window.submit_text("what is the capital of france")
        qtbot.waitUntil(lambda: not window.busy, timeout=60_000)
        assert window.last_error is None, window.last_error
        assert window.last_turn.reply.kind == "chat" and window.last_turn.reply.text
        assert CHAT.id in str(load_settings().chat.model_path)
    finally:
        window.shutdown()
