"""The numbered sources under grounded answers in the window (issue 15), as a user meets them: after a restart the
reloaded answers list their sources again (a click still opens the source; a file's list names its line), after a
switch to another chat and back too, and a hands-free spoken answer lists its sources like a typed one. Offscreen
Qt, a real SQLite file, the real models (the previous session is written by an engine Assistant on the same file,
the hands-free command is an espeak-ng recording)."""

from __future__ import annotations

import os

os.environ["QT_QPA_PLATFORM"] = "offscreen"  # before any QApplication exists

from datetime import datetime

import numpy as np
import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

import soundfile as sf
from helpers_audio import espeak_audio, pad
from helpers_window import make_home, shown_window
from PySide6.QtCore import Qt

from jarvis_desktop.assistant import Assistant
from jarvis_desktop.config import VoiceSettings, load_settings
from jarvis_desktop.ui.knowledge_tab import SourcesList
from jarvis_desktop.ui.main_window import MainWindow
from jarvis_desktop.voice.sources import FileSource

pytestmark = pytest.mark.slow

WAIT_MS = 120_000
LEASE = """# Lease agreement

## Term
The lease starts on 1 September 2025 and ends on 31 August 2027. Either party may give notice three months
before the end.
"""


def _sources(window: MainWindow) -> list[list[str]]:
    """The source labels under each assistant bubble, oldest first ([] for a bubble without sources)."""
    out = []
    for bubble in window.chat.bubbles:
        if bubble.role == "assistant":
            lists = bubble.findChildren(SourcesList)
            out.append(lists[0].labels() if lists else [])
    return out


def test_sources_come_back_after_a_restart_and_a_switch_and_under_a_spoken_answer(qtbot, tmp_path, monkeypatch):
    home = make_home(tmp_path, monkeypatch, "[chat]\nmax_tokens = 32\n[nlu]\nconfirm_below = 0.0\n")
    docs = home / "docs"
    docs.mkdir()
    (docs / "lease.md").write_text(LEASE, encoding="utf-8")
    before = Assistant(load_settings())  # the previous session: a folder indexed, a note, two grounded answers
    try:
        before.knowledge.add_folder(docs)
        before.ask_text("take a note: the plumber Marco comes on Thursday at 8 am to fix the kitchen tap")
        lease = before.ask_text("according to my documents, when does the lease end?").reply
        plumber = before.ask_text("what did I note about the plumber?").reply
    finally:
        before.close()
    assert lease.citations and plumber.citations, (lease.text, plumber.text)
    line = lease.citations[0].hit.location.line
    (home / "settings.toml").write_text("[chat]\nmax_tokens = 6\n[nlu]\nconfirm_below = 0.0\n", encoding="utf-8")

    window = shown_window(qtbot)  # the restart (answers now cut at 6 tokens: Continue is offered)
    try:
        qtbot.waitUntil(lambda: len(_sources(window)) == 3, timeout=WAIT_MS)
        shown = _sources(window)
        assert shown[0] == []  # "Noted: ..." has none
        assert shown[1] == [f"[{c.number}] {c.label}" for c in lease.citations]
        assert shown[2] == [f"[{c.number}] {c.label}" for c in plumber.citations]
        lease_bubble = [b for b in window.chat.bubbles if b.role == "assistant"][1]
        file_button = lease_bubble.findChildren(SourcesList)[0].buttons[0]
        assert str(docs / "lease.md") in file_button.toolTip() and f"line {line}" in file_button.toolTip()

        plumber_bubble = window.chat.bubbles[-1]
        plumber_bubble.findChildren(SourcesList)[0].buttons[0].click()  # a reloaded source still opens
        assert window.tabs.currentWidget() is window.notes_view
        assert window.knowledge_tab.opened[-1].source_id.startswith("note:")
        window.tabs.setCurrentIndex(0)

        conversation = window.conversations.current_id
        qtbot.mouseClick(window.sidebar.new_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: window.chat.messages() == [], timeout=WAIT_MS)
        window.conversations.switch_to(conversation)
        qtbot.waitUntil(lambda: len(_sources(window)) == 3, timeout=WAIT_MS)
        assert _sources(window) == shown  # the same lists after switching back

        audio = pad(espeak_audio("what did I note about the plumber", tmp_path), 0.8, 0.8)
        wav = tmp_path / "plumber.wav"
        sf.write(wav, audio.astype(np.float32), 16000, subtype="PCM_16")
        worker = window.start_voice_session(
            FileSource(wav, realtime=False), VoiceSettings(wake_word=False), now=datetime.now()
        )
        with qtbot.waitSignal(worker.stopped, timeout=WAIT_MS):
            pass
        event = window.last_voice_reply
        assert event is not None and event.reply_kind == "chat" and event.citations, event
        assert event.citations[0].hit.kind == "note" and event.message_id is not None
        spoken = window.chat.bubbles[-1]
        assert spoken.role == "assistant" and spoken.text() == event.text
        lists = spoken.findChildren(SourcesList)
        assert len(lists) == 1 and lists[0].labels()[0].startswith("[1] your note of ")

        with qtbot.waitSignal(window.turn_finished, timeout=WAIT_MS) as typed:
            assert window.submit_text("what did I note about the plumber?")
        cut = typed.args[0].reply
        assert cut.cut_off and cut.citations, cut
        qtbot.waitUntil(lambda: not window.busy, timeout=WAIT_MS)
        bubble = window.chat.bubbles[-1]
        assert bubble.buttons["continue"].isVisible()
        with qtbot.waitSignal(window.turn_finished, timeout=WAIT_MS) as continued:
            bubble.buttons["continue"].click()
        done = continued.args[0].reply
        qtbot.waitUntil(lambda: not window.busy, timeout=WAIT_MS)
        assert window.chat.bubbles[-1] is bubble and bubble.text() == done.text
        assert done.text.count(bubble.sources_sentence) == 1 and done.text.endswith(bubble.sources_sentence)
        lists = bubble.findChildren(SourcesList)
        assert len(lists) == 1 and lists[0].labels() == [f"[{c.number}] {c.label}" for c in cut.citations]
    finally:
        window.shutdown()
