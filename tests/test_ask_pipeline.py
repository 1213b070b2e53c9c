"""The whole voice pipeline on real speech: espeak-ng WAV -> Whisper -> NLU -> action or chat."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from cli_helpers import run_cli
from speech import speak, write_noise, write_silence

from jarvis_desktop.assistant import Assistant
from jarvis_desktop.errors import BadInputError, NoSpeechError

pytestmark = pytest.mark.slow

NOW = datetime(2026, 11, 22, 18, 5)  # a Sunday evening

# (spoken command, intent, date keys, when, words the reply must contain)
COMMANDS = [
    (
        "remind me to call mom tomorrow at three pm",
        "reminder_set",
        ["tomorrow", "at_3pm"],
        "2026-11-23T15:00",
        ["call mom", "tomorrow 15:00"],
    ),
    ("set a timer for ten minutes", "timer_set", ["in_10_minutes"], "2026-11-22T18:15", ["10 minutes"]),
    ("what time is it", "datetime_query", [], None, ["18:05"]),
    (
        "wake me up at six thirty tomorrow",
        "alarm_set",
        ["at_6_30am", "tomorrow"],
        "2026-11-23T06:30",
        ["tomorrow 06:30"],
    ),
    (
        "schedule a meeting with the design team next tuesday at two pm",
        "calendar_set",
        ["next_tuesday", "at_2pm"],
        "2026-11-24T14:00",
        ["meeting"],
    ),
    ("how much memory am I using", "system_status", [], None, ["GiB"]),
    ("pause the music", "media_control", [], None, []),
    ("take a note that the wifi password is on the fridge", "note_create", [], None, ["noted", "password", "fridge"]),
    # the reminder above was stored: asking for tomorrow lists it
    ("what's on my schedule tomorrow", "schedule_query", ["tomorrow"], "2026-11-23T09:00", ["call mom"]),
    ("cancel the timer", "schedule_remove", [], None, ["timer"]),
    ("set the volume to forty percent", "volume_set", [], None, []),
    ("search the web for chocolate cake recipes", "web_search", [], None, ["chocolate cake"]),
    ("what's the weather in paris tomorrow", "weather_query", ["tomorrow"], "2026-11-23T09:00", []),
    ("open the calculator", "app_open", [], None, ["calculator"]),
]


@pytest.fixture(scope="module")
def assistant():
    a = Assistant(record_history=False)
    yield a
    a.close()


@pytest.fixture(scope="module")
def wav_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("speech")


@pytest.mark.parametrize("spoken, intent, keys, when, reply_words", COMMANDS, ids=[c[1] for c in COMMANDS])
def test_spoken_command_is_understood_and_answered(assistant, wav_dir, spoken, intent, keys, when, reply_words):
    wav = speak(spoken, wav_dir / f"{intent}.wav")
    turn = assistant.ask_audio(wav, now=NOW)
    assert turn.parse.intent == intent, turn.transcript.text
    assert turn.parse.date_keys == keys, turn.transcript.text
    assert turn.parse.when == when
    for word in reply_words:
        assert word.lower() in turn.reply.text.lower()
    # every command is carried out (or refused/failed with a reason) by its action, never sent to chat
    assert turn.reply.kind in ("direct", "done", "refused", "failed") and turn.reply.text.strip()
    assert turn.reply.action.get("intent") == intent
    assert turn.timings_ms["stt"] > 0 and turn.timings_ms["total"] >= turn.timings_ms["stt"]


def test_general_question_streams_a_chat_reply(assistant, wav_dir):
    wav = speak("what is a transformer", wav_dir / "chat.wav")
    deltas = []
    turn = assistant.ask_audio(wav, now=NOW, on_token=deltas.append)
    assert turn.parse.intent == "general_chat"
    assert turn.reply.kind == "chat" and len(deltas) >= 2
    assert "".join(deltas).strip() == turn.reply.text and len(turn.reply.text) > 10
    assert turn.timings_ms["first_token"] > 0


def test_cli_ask_json_gives_transcript_parse_reply_and_timings(wav_dir):
    wav = speak("remind me to call mom tomorrow at three pm", wav_dir / "cli.wav")
    res = run_cli("ask", str(wav), "--now", "2026-11-22T18:05", "--json")
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert "call mom" in out["transcript"].lower()
    assert out["intent"] == "reminder_set" and out["date_keys"] == ["tomorrow", "at_3pm"]
    assert out["when"] == "2026-11-23T15:00"
    assert set(out["timings_ms"]) >= {"stt", "nlu", "total"}
    assert "call mom" in out["reply"]["text"].lower()


def test_silence_and_noise_are_no_speech(assistant, tmp_path):
    with pytest.raises(NoSpeechError):
        assistant.ask_audio(write_silence(tmp_path / "silence.wav"), now=NOW)
    with pytest.raises(NoSpeechError):
        assistant.ask_audio(write_noise(tmp_path / "noise.wav", amplitude=0.02), now=NOW)
    res = run_cli("ask", str(tmp_path / "silence.wav"))
    assert res.returncode == 2 and "no speech" in res.stderr


def test_empty_text_is_refused(assistant):
    with pytest.raises(BadInputError):
        assistant.ask_text("  ", now=NOW)
