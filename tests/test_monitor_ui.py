"""The Monitor tab and the Settings dialog (PySide6, offscreen): live figures from a real ResourceMonitor,
the model table, settings saved without the key, and the chat badge for a fallback."""

from __future__ import annotations

import time

import pytest

pytest.importorskip("PySide6")

from PySide6.QtWidgets import QLabel

from jarvis_desktop.config import Settings, load_settings
from jarvis_desktop.monitor import ResourceMonitor
from jarvis_desktop.ui.chat_panel import badge_from_meta
from jarvis_desktop.ui.monitor_panel import COLUMNS, MonitorPanel, Sparkline
from jarvis_desktop.ui.settings_dialog import SettingsDialog, describe_hotkey_support
from jarvis_desktop.voice.hotkey import probe
from jarvis_desktop.voice.wake import LICENCE


def test_the_panel_shows_samples_and_models_and_stops_the_thread(qtbot):
    monitor = ResourceMonitor(interval_s=0.05)
    monitor.registry.register("chat: tiny", "llama.cpp", size_mib=100.0, estimate_mib=150.0)
    monitor.registry.update("chat: tiny", placement="remote", reason="not enough RAM: ...", state="unloaded")
    panel = MonitorPanel(monitor, interval_ms=100)
    qtbot.addWidget(panel)
    panel.resize(800, 500)
    panel.show()
    monitor.start()
    qtbot.waitUntil(lambda: len(panel.cpu_graph.values) >= 3, timeout=5000)
    assert "GiB" in panel.ram_graph.caption and "%" in panel.cpu_graph.caption
    assert "Jarvis process" in panel.figures.text() and "Swap" in panel.figures.text()
    assert panel.table.rowCount() == 1 and panel.table.columnCount() == len(COLUMNS)
    row = [panel.table.item(0, c).text() for c in range(len(COLUMNS))]
    assert row[:3] == ["chat: tiny", "remote", "llama.cpp"] and "est." in row[4] and row[5] == "unloaded"
    panel.grab()  # paints the sparklines
    t0 = time.perf_counter()
    panel.stop()
    assert time.perf_counter() - t0 < 1.0 and not monitor.running and not panel.timer.isActive()


def test_the_panel_refresh_never_samples(qtbot):
    monitor = ResourceMonitor(interval_s=10)
    panel = MonitorPanel(monitor, interval_ms=10_000)
    qtbot.addWidget(panel)
    panel.refresh()  # no sample yet: nothing shown, nothing taken
    assert monitor.snapshot().history == []
    monitor.sample_now()
    panel.refresh()
    assert len(monitor.snapshot().history) == 1 and panel.cpu_graph.caption


def test_sparkline_paints_with_few_or_many_values(qtbot):
    line = Sparkline("CPU")
    qtbot.addWidget(line)
    line.resize(200, 90)
    for values in ([], [5.0], [1.0, 50.0, 120.0, -3.0]):
        line.set_values(values, "x")
        assert not line.grab().isNull()


def test_settings_dialog_saves_remote_and_monitor_but_never_the_key(qtbot, tmp_path):
    written = []
    dialog = SettingsDialog(settings=Settings(), save=lambda s: written.append(s))
    qtbot.addWidget(dialog)
    dialog.base_url.setText("http://gpu-box:8000/v1")
    dialog.model.setText("llama-3.1-8b")
    dialog.placement.setCurrentIndex(dialog.placement.findData("remote"))
    dialog.buffer_gib.setValue(6.0)
    dialog.buffer_pct.setValue(30)
    dialog.hysteresis.setValue(0.5)
    with qtbot.waitSignal(dialog.saved, timeout=3000) as blocker:
        dialog.save()
    new = blocker.args[0]
    assert written and written[0] is new
    assert (new.remote.base_url, new.remote.model, new.remote.placement) == (
        "http://gpu-box:8000/v1",
        "llama-3.1-8b",
        "remote",
    )
    assert (new.monitor.buffer_gib, new.monitor.buffer_fraction, new.monitor.hysteresis_gib) == (6.0, 0.3, 0.5)


def test_settings_dialog_rejects_a_bad_url_and_a_real_save_round_trips(qtbot, tmp_path):
    from tests.remote_helpers import MemoryKeyring

    backend, restore = MemoryKeyring.install()
    qtbot_cleanup = restore
    dialog = SettingsDialog(settings=Settings())
    qtbot.addWidget(dialog)
    dialog.base_url.setText("gpu-box:8000")
    dialog.save()
    assert dialog.error.isVisibleTo(dialog) and "http://" in dialog.error.text()
    dialog.base_url.setText("https://example.invalid/v1")
    dialog.api_key.setText("sk-secret-do-not-store")
    try:
        with qtbot.waitSignal(dialog.saved, timeout=5000):
            dialog.save()  # the key goes to the keyring (on a thread), the rest to settings.toml
        assert backend.store == {("jarvis-desktop", "remote-api-key"): "sk-secret-do-not-store"}
    finally:
        qtbot_cleanup()
    from jarvis_desktop.config import settings_path

    text = settings_path().read_text()
    assert "https://example.invalid/v1" in text and "sk-secret" not in text
    assert load_settings().remote.base_url == "https://example.invalid/v1"
    settings_path().unlink()


def test_settings_dialog_without_a_keyring_keeps_the_dialog_open_with_the_reason(qtbot):
    import keyring
    from keyring.backends.fail import Keyring as FailKeyring

    old = keyring.get_keyring()
    keyring.set_keyring(FailKeyring())
    written = []
    try:
        dialog = SettingsDialog(settings=Settings(), save=written.append)
        qtbot.addWidget(dialog)
        dialog.api_key.setText("sk-x")
        dialog.save()
        qtbot.waitUntil(lambda: dialog.error.isVisibleTo(dialog), timeout=5000)
        assert "JARVIS_REMOTE_API_KEY" in dialog.error.text() and written
        assert dialog.api_key.text() == ""  # the key is not kept in the widget
    finally:
        keyring.set_keyring(old)


def test_settings_dialog_voice_group_refuses_a_bad_hotkey_and_round_trips_through_the_file(qtbot):
    from jarvis_desktop.config import settings_path

    path = settings_path()
    before = path.read_text() if path.exists() else None
    dialog = SettingsDialog(settings=Settings())
    qtbot.addWidget(dialog)
    dialog.show()
    # the licence line: CC BY-NC-SA 4.0, non-commercial, visible in the dialog
    dialog.tabs.setCurrentWidget(dialog.licence.parentWidget())  # the "Listening" page, as a user opens it
    assert dialog.licence.text() == LICENCE and dialog.licence.isVisible()
    assert "CC BY-NC-SA 4.0" in dialog.licence.text() and "non-commercial" in dialog.licence.text()
    # the probe runs on a thread; its answer (here: what this session really offers) becomes the status line
    expected = describe_hotkey_support(probe())
    qtbot.waitUntil(lambda: dialog.hotkey_status.text() == expected, timeout=5000)
    if not dialog.hotkey_support.can_grab:
        assert "jarvis-desktop listen --toggle" in dialog.hotkey_status.text()
    assert dialog.hotkey.text() == "<ctrl>+<alt>+j"
    # a bad hotkey (a bare letter would be taken from typing) is refused: the error shows, nothing is written
    dialog.hotkey.setText("j")
    dialog.save()
    assert dialog.error.isVisible() and "bad hotkey" in dialog.error.text()
    assert (path.read_text() if path.exists() else None) == before
    dialog.hotkey.setText("<Super> + <F9>")
    dialog.wake_word.setChecked(False)
    dialog.sensitivity.setValue(0.45)
    dialog.follow_up.setValue(8.0)
    with qtbot.waitSignal(dialog.saved, timeout=3000) as blocker:
        dialog.save()
    try:
        assert blocker.args[0].voice.hotkey == "<super>+<f9>"
        voice = load_settings().voice
        assert (voice.wake_word, voice.sensitivity, voice.follow_up_s, voice.hotkey) == (
            False,
            0.45,
            8.0,
            "<super>+<f9>",
        )
        again = SettingsDialog(settings=load_settings())
        qtbot.addWidget(again)
        assert not again.wake_word.isChecked() and again.sensitivity.value() == 0.45
        assert again.follow_up.value() == 8.0 and again.hotkey.text() == "<super>+<f9>"
    finally:
        if before is None:
            path.unlink()
        else:
            path.write_text(before)


def test_badge_for_history_records():
    assert "remote" in badge_from_meta({"intent": "general_chat", "kind": "chat", "backend": "remote"})
    assert "remote → local" in badge_from_meta(
        {"intent": "general_chat", "kind": "chat", "backend": "local", "notice": "remote failed"}
    )


def test_settings_dialog_spoken_replies_page_and_it_fits_a_small_screen(qtbot):
    dialog = SettingsDialog(settings=Settings(), save=lambda s: None)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.sizeHint().height() < 700  # a 1366x768 laptop screen, with a panel and a title bar
    dialog.tabs.setCurrentIndex(dialog.tabs.count() - 1)
    assert dialog.tabs.tabText(dialog.tabs.currentIndex()) == "Spoken replies"
    assert "Apache-2.0" in dialog.findChild(QLabel, "voiceLicence").text()
    dialog.speak.setChecked(False)
    dialog.volume.setValue(40)
    dialog.rate.setValue(1.3)
    dialog.speak_chat.setChecked(False)
    speech = dialog.values().speech
    assert (speech.enabled, speech.volume, speech.rate, speech.speak_chat) == (False, 0.4, 1.3, False)
