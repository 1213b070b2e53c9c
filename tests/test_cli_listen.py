"""``jarvis-desktop listen`` as a user runs it (a subprocess): real models, espeak-ng speech with pink noise."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import run_cli
from test_voice_session import NOW, make_clip

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("listen-speech")


def listen_json(wav: Path, *flags: str) -> list[dict]:
    result = run_cli("listen", "--input", str(wav), "--fast", "--json", "--dry-run", "--now", NOW, *flags)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def kinds(events: list[dict], kind: str) -> list[dict]:
    return [e for e in events if e["event"] == kind]


def test_hey_jarvis_set_a_timer_through_the_cli(cache, tmp_path):
    wav = make_clip(["hey jarvis", 0.6, "set a timer for ten minutes"], cache, tmp_path / "wake.wav")
    events = listen_json(wav)
    assert [w["accepted"] for w in kinds(events, "wake")] == [True]
    assert any("10 minutes" in t["text"] or "ten minutes" in t["text"] for t in kinds(events, "transcript"))
    (parse,) = kinds(events, "parse")
    assert parse["intent"] == "timer_set" and parse["date_keys"] == ["in_10_minutes"]
    assert parse["when"] == "2026-12-07T10:10" and parse["latency_ms"] > 0
    (action,) = kinds(events, "action")
    assert action["result"] == "dry_run" and action["intent"] == "timer_set" and action["latency_ms"] >= 0
    assert action["action"]["data"]["dry_run"] is True


def test_without_the_wake_phrase_nothing_happens_unless_no_wake(cache, tmp_path):
    wav = make_clip(["set a timer for ten minutes"], cache, tmp_path / "plain.wav")
    events = listen_json(wav)
    assert kinds(events, "action") == [] and kinds(events, "parse") == []
    assert [e["addressed"] for e in kinds(events, "endpoint")] == [False]
    events = listen_json(wav, "--no-wake")
    assert [a["intent"] for a in kinds(events, "action")] == ["timer_set"]


def test_text_output_one_line_per_event(cache, tmp_path):
    wav = make_clip(["set a timer for ten minutes"], cache, tmp_path / "plain.wav")
    result = run_cli("listen", "--input", str(wav), "--fast", "--dry-run", "--no-wake", "--now", NOW)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any(" parse      timer_set [in_10_minutes] when 2026-12-07T10:10" in line for line in lines), lines
    assert any(" action     timer_set: dry_run" in line for line in lines), lines


@pytest.mark.parametrize("content", [None, b"RIFF\x24\x00\x00\x00WAVEfmt garbage", b"just some text\n"])
def test_bad_input_file_exits_2_with_one_error_line(tmp_path, content):
    path = tmp_path / "clip.wav"
    if content is not None:
        path.write_bytes(content)
    result = run_cli("listen", "--input", str(path), "--json")
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and str(path) in lines[0]


def test_fast_needs_input_and_now_must_be_iso():
    result = run_cli("listen", "--fast")
    assert result.returncode == 2 and result.stderr.startswith("error: --fast needs --input")
    result = run_cli("listen", "--input", "x.wav", "--now", "tomorrow")
    assert result.returncode == 2 and "--now" in result.stderr


def test_missing_wake_word_package_names_it(cache, tmp_path):
    wav = make_clip(["set a timer"], cache, tmp_path / "short.wav")
    code = (
        "import sys; sys.modules['pyopen_wakeword'] = None\n"
        "from jarvis_desktop.cli import main\n"
        f"sys.exit(main(['listen', '--input', {str(wav)!r}, '--fast']))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180)
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and "pip install pyopen-wakeword" in result.stderr


def test_no_microphone_is_a_clear_error(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "settings.toml").write_text('[audio]\ndevice = "no-such-microphone-xyz"\n')
    result = run_cli("listen", "--no-wake", "--duration", "1", env={"JARVIS_DESKTOP_HOME": str(home)})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: no microphone found"), result.stderr
