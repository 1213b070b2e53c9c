"""The GUI's widgets on their own (no models): chat bubbles and streaming, the understanding strip,
push-to-talk semantics of the mic button, the level meter. Offscreen."""

from __future__ import annotations

import os

os.environ["QT_QPA_PLATFORM"] = "offscreen"

from datetime import datetime
from types import SimpleNamespace

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt

from jarvis_desktop.nlu.result import ParseResult
from jarvis_desktop.ui.chat_panel import ChatPanel, badge_from_meta, format_badge
from jarvis_desktop.ui.mic_button import LevelMeter, MicButton
from jarvis_desktop.ui.understanding_strip import UnderstandingStrip


def test_chat_panel_streams_into_one_bubble_and_restores_history(qtbot):
    panel = ChatPanel()
    qtbot.addWidget(panel)
    panel.resize(600, 400)
    panel.show()
    assert panel.empty_hint.isVisible()
    history = [
        SimpleNamespace(role="user", content="hello", meta={}),
        SimpleNamespace(
            role="assistant",
            content="Hi!",
            meta={"intent": "general_chat", "backend": "local", "timings_ms": {"first_token": 81.2, "total": 1520}},
        ),
    ]
    assert panel.load_history(history) == 2
    assert not panel.empty_hint.isVisible()
    assert panel.bubbles[-1].badge_text() == "general_chat · local · first token 81 ms · total 1.5 s"

    panel.add_message("user", "what is a transformer")
    for piece in ["A ", "transformer ", "is ", "a model."]:
        panel.append_token(piece)
    assert panel.streaming and len(panel.bubbles) == 4
    panel.finish_reply("A transformer is a model.", "general_chat · local")
    assert not panel.streaming
    assert panel.messages()[-1] == ("assistant", "A transformer is a model.")
    # a long reply wraps inside the panel instead of widening it
    long = panel.add_message("assistant", "word " * 400)
    qtbot.waitUntil(lambda: long.isVisible() and long.height() > 100, timeout=2000)
    assert long.width() <= panel.scroll_area.viewport().width()
    # narrowing the window re-wraps the bubbles
    panel.resize(400, 400)
    qtbot.waitUntil(lambda: long.width() <= panel.scroll_area.viewport().width(), timeout=2000)


def test_abandoned_empty_reply_leaves_no_bubble(qtbot):
    panel = ChatPanel()
    qtbot.addWidget(panel)
    panel.begin_reply()
    panel.abandon_reply()
    assert panel.bubbles == [] and not panel.streaming
    with pytest.raises(ValueError):
        panel.add_message("robot", "x")


def test_badge_formatting_units():
    assert format_badge("timer_set", "local", {"stt": 312.4, "nlu": 3.9, "total": 2400}) == (
        "timer_set · local · stt 312 ms · nlu 4 ms · total 2.4 s"
    )
    assert format_badge("datetime_query", "local", {"stt": 300, "total": 320}, kind="direct") == (
        "datetime_query · direct answer · stt 300 ms · total 320 ms"
    )
    assert format_badge("general_chat", "local", {"first_token": 80}, tokens_per_s=91.6, kind="chat") == (
        "general_chat · local · first token 80 ms · 92 tok/s"
    )
    assert format_badge(None, None, {}) == ""
    assert badge_from_meta(None) == ""


def test_strip_shows_intent_keys_and_resolved_time(qtbot):
    strip = UnderstandingStrip()
    qtbot.addWidget(strip)
    parse = ParseResult(
        text="remind me to call mom tomorrow at three pm",
        intent="reminder_set",
        date_keys=["tomorrow", "at_3pm"],
        when=datetime(2026, 11, 23, 15, 0).strftime("%Y-%m-%dT%H:%M"),
        confidence=0.97,
        payload="call mom",
    )
    strip.show_parse(parse, transcript="remind me to call mom tomorrow at three pm")
    chips = strip.chip_texts()
    assert chips[0].startswith("reminder_set") and "97%" in chips[0]
    assert "tomorrow" in chips and "at_3pm" in chips and "“call mom”" in chips
    assert any("Mon 23 Nov 2026, 15:00" in c for c in chips)
    assert "three pm" in strip.transcript_label.text()
    # a dict (ParseResult.to_dict()) with an ISO "when" and no keys
    strip.show_parse({"intent": "general_chat", "date_keys": [], "when": None}, typed=True)
    assert strip.chip_texts() == ["general_chat", "no date keys"]
    assert strip.transcript is None


def test_mic_button_hold_is_push_to_talk_and_click_toggles(qtbot):
    button = MicButton()
    qtbot.addWidget(button)
    events: list[str] = []
    button.recording_started.connect(lambda: events.append("start"))
    button.recording_stopped.connect(lambda: events.append("stop"))

    button.HOLD_MS = 0  # every press counts as a hold
    qtbot.mousePress(button, Qt.MouseButton.LeftButton)
    assert button.recording
    qtbot.mouseRelease(button, Qt.MouseButton.LeftButton)
    assert not button.recording and events == ["start", "stop"]

    button.HOLD_MS = 60_000  # every press is a quick click
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert button.recording  # first click starts and keeps recording
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert not button.recording  # second click stops
    assert events == ["start", "stop", "start", "stop"]


def test_level_meter_maps_linear_and_db_levels():
    assert LevelMeter.normalise(0.0) == 0.0
    assert LevelMeter.normalise(1.0) == pytest.approx(1.0)
    assert 0.4 < LevelMeter.normalise(0.05) < 0.65  # typical speech RMS shows mid-scale
    assert LevelMeter.normalise(-60.0) == 0.0 and LevelMeter.normalise(-30.0) == pytest.approx(0.5)
    assert LevelMeter.normalise(float("nan")) == 0.0


def test_signal_emit_keeps_reference_counts_intact(qtbot):
    """PySide6 6.12.0's ``Signal.emit()`` drops a reference to ``True`` on every call; a streamed reply
    (one emit per token) then aborts the interpreter ("bool_dealloc"). pyproject excludes that release."""
    import sys

    from PySide6.QtCore import QObject, Signal

    class Emitter(QObject):
        text = Signal(str)

    emitter = Emitter()
    before = sys.getrefcount(True)
    for _ in range(200):
        emitter.text.emit("token")
    assert sys.getrefcount(True) - before >= 0, "this PySide6 release corrupts refcounts on emit: use another"
