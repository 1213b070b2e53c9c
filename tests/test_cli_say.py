"""``jarvis-desktop say`` as a user runs it (a subprocess): to a WAV file, to the null-sink speaker, and the
bad inputs, each a single ``error:`` line with exit code 2."""

from __future__ import annotations

import json

import pytest
from cli_helpers import run_cli
from helpers_speaker import heard_words, load_wav_16k, rms

pytestmark = pytest.mark.slow  # subprocesses, the voice model and audio devices


def events_of(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def test_say_to_a_wav_file_is_heard_back_and_reports_its_events(tmp_path, stt):
    out = tmp_path / "reply.wav"
    result = run_cli("say", "Your alarm is set for 07:30 tomorrow. Sleep well!", "--wav", str(out), "--json")
    assert result.returncode == 0, result.stderr
    events = events_of(result.stdout)
    kinds = [e["event"] for e in events]
    assert kinds == ["voice_loaded", "first_audio", "sentence", "sentence", "finished", "wrote"]
    assert [e["text"] for e in events if e["event"] == "sentence"] == [
        "Your alarm is set for 07:30 tomorrow.",
        "Sleep well!",
    ]
    assert all(isinstance(e["latency_ms"], float) for e in events[:-1])
    assert 2.0 < events[-1]["duration_s"] < 8.0
    heard = " ".join(heard_words(stt.transcribe(load_wav_16k(out)).text))
    assert "seven thirty" in heard and "sleep well" in heard, heard


def test_say_plays_to_the_output_device(speaker_sink, stt):
    with speaker_sink.record() as rec:
        result = run_cli("say", "Reminder: call the dentist at 3 pm.", "--device", speaker_sink.device)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("voice loaded in") and "first audio after" in result.stdout
    heard = " ".join(heard_words(stt.transcribe(rec.recording.samples).text))
    assert "call the dentist" in heard and "three p m" in heard, heard


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["   "], "TEXT is empty"),
        (["🎉 👍"], "no words to speak"),
        (["hello", "--volume", "1.5"], "volume 1.5 is outside 0..1"),
        (["hello", "--rate", "3"], "rate 3.0 is outside 0.5..2.0"),
        (["hello", "--voice", "emma"], "'emma' is not available"),
        (["hello", "--wav", "/nonexistent-dir/x.wav"], "cannot write /nonexistent-dir/x.wav"),
    ],
)
def test_bad_input_is_one_error_line_and_exit_2(args, message, tmp_path):
    result = run_cli("say", *args)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0], result.stderr
    assert result.stdout == ""


def test_no_output_device_is_a_clear_error(tmp_path):
    # PULSE_SERVER at nothing: PortAudio then sees no output device at all, as on a machine without sound.
    result = run_cli("say", "hello", env={"PULSE_SERVER": f"unix:{tmp_path}/no-pulse"})
    assert result.returncode == 2
    assert result.stderr.startswith("error: no audio output device found") and "--wav" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_an_unknown_device_is_named(speaker_sink):
    result = run_cli("say", "hello", "--device", "no-such-speaker")
    assert result.returncode == 2
    assert "output device 'no-such-speaker' not found" in result.stderr and "pulse" in result.stderr


def test_say_is_registered_with_its_options():
    result = run_cli("say", "--help")
    assert result.returncode == 0
    for option in ("--device", "--volume", "--rate", "--voice", "--wav", "--json"):
        assert option in result.stdout


def test_do_speaks_its_reply_when_asked_and_reports_the_first_audio(speaker_sink, stt):
    with speaker_sink.record() as rec:
        result = run_cli(
            "do", "set a timer for ten minutes", "--dry-run", "--json", "--speak", "--now", "2026-12-07T10:00"
        )
    assert result.returncode == 0, result.stderr
    turn = json.loads(result.stdout)
    latency = turn["speak_start"]["latency_ms"]
    assert latency is not None and 0 < latency < turn["timings_ms"]["total"] + 3000
    assert rec.recording is not None
    heard = heard_words(stt.transcribe(rec.recording.samples).text)
    assert "timer" in heard, heard


def test_do_in_a_script_is_silent_unless_asked(speaker_sink):
    # stdout is a pipe here (not a terminal): no --speak, no sound and no speak_start
    with speaker_sink.record() as rec:
        result = run_cli("do", "set a timer for ten minutes", "--dry-run", "--json", "--now", "2026-12-07T10:00")
    assert result.returncode == 0, result.stderr
    assert "speak_start" not in json.loads(result.stdout)
    assert rec.recording is not None and rms(rec.recording.samples) < 0.003
