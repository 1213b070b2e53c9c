"""CLI contract: exit codes, one-line errors, the date-key vocabulary, doctor."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from cli_helpers import run_cli

from jarvis_desktop import cli
from jarvis_desktop.nlu.vocab import STATIC_KEYS, is_valid_key


@pytest.mark.slow
def test_usage_error_is_one_line_and_exit_2():
    res = run_cli("no-such-command")
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:")


def test_debug_flag_is_accepted_before_or_after_the_sub_command_and_shows_the_traceback(monkeypatch, capsys):
    """``--debug`` used to be rejected by argparse before main() could look for it."""
    monkeypatch.delenv("JARVIS_DEBUG", raising=False)

    def boom(args):
        raise RuntimeError("kaputt")

    for argv in (["--debug", "date-keys"], ["date-keys", "--debug"], ["schedule", "cancel", "3", "--debug"]):
        args = cli.parse_args(argv)
        assert args.debug is True, argv
        args.func = boom
        with pytest.raises(RuntimeError, match="kaputt"):
            cli.run(args)
    capsys.readouterr()
    quiet = cli.parse_args(["date-keys"])
    assert quiet.debug is False
    quiet.func = boom
    assert cli.run(quiet) == 1
    assert capsys.readouterr().err.strip() == "error: internal failure: RuntimeError: kaputt"


@pytest.mark.slow
def test_debug_flag_through_the_real_entry_point():
    res = run_cli("--debug", "date-keys")
    assert res.returncode == 0 and json.loads(res.stdout)["version"] == "2.1"
    assert run_cli("date-keys", "--debug").returncode == 0


@pytest.mark.slow
def test_cli_never_starts_the_gui():
    """No sub-command: the entry point starts the GUI; cli.main itself says what is missing (exit 2)."""
    res = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from jarvis_desktop import cli; rc = cli.main([]); "
            "sys.exit(rc if 'PySide6' not in sys.modules else 99)",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode == 2 and res.stderr.startswith("error: no sub-command")


@pytest.mark.slow
def test_date_keys_prints_the_vocabulary():
    res = run_cli("date-keys")
    assert res.returncode == 0
    vocab = json.loads(res.stdout)
    assert vocab["version"] == "2.1"
    assert len(vocab["intents"]) == 15
    assert set(vocab["static_keys"]) == set(STATIC_KEYS)
    assert {"tomorrow_morning", "next_tuesday", "last_weekend", "during_lunch"} <= set(vocab["static_keys"])
    patterns = {p["name"]: re.compile(p["regex"]) for p in vocab["dynamic_patterns"]}
    assert patterns["in_N_minutes"].match("in_120_minutes") and not patterns["in_N_minutes"].match("in_2_hours")
    assert patterns["in_N_seconds"].match("in_90_seconds") and not patterns["in_N_seconds"].match("in_90_second")
    clock = [re.compile(p["regex"]) for p in vocab["clock_time_patterns"] if "regex" in p]
    assert any(r.match("at_7_30am") for r in clock) and any(r.match("at_3pm") for r in clock)
    assert not any(r.match("at_13pm") or r.match("at_07am") or r.match("at_7_00am") for r in clock)


def test_clock_keys_follow_the_spec():
    from jarvis_desktop.nlu.vocab import clock_key, parse_clock_key

    assert clock_key(15, 30) == "at_3_30pm"
    assert clock_key(9, 5) == "at_9_05am"
    assert clock_key(12, 0) == "at_noon" and clock_key(0, 0) == "at_midnight"
    assert clock_key(0, 10) == "at_12_10am" and clock_key(12, 45) == "at_12_45pm"
    for h in range(24):
        for m in (0, 1, 30, 59):
            key = clock_key(h, m)
            assert is_valid_key(key) and parse_clock_key(key) == (h, m)


@pytest.mark.slow
def test_missing_audio_file_exit_2(tmp_path):
    res = run_cli("transcribe", str(tmp_path / "nope.wav"))
    assert res.returncode == 2
    assert res.stderr.startswith("error:") and "nope.wav" in res.stderr


@pytest.mark.slow
def test_corrupt_wav_exit_2(tmp_path):
    bad = tmp_path / "broken.wav"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt garbage" * 3)
    res = run_cli("ask", str(bad))
    assert res.returncode == 2 and res.stderr.startswith("error:") and "broken.wav" in res.stderr


@pytest.mark.slow
def test_missing_model_path_exit_2(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "settings.toml").write_text(f'[chat]\nmodel_path = "{tmp_path / "gone.gguf"}"\n')
    res = run_cli("chat", "hello", env={"JARVIS_DESKTOP_HOME": str(home)})
    assert res.returncode == 2
    assert "gone.gguf" in res.stderr and res.stderr.count("\n") == 1


@pytest.mark.slow
def test_bad_now_exit_2():
    res = run_cli("parse", "what time is it", "--now", "yesterday-ish")
    assert res.returncode == 2 and "--now" in res.stderr


@pytest.mark.slow
def test_empty_text_exit_2():
    res = run_cli("do", "   ")
    assert res.returncode == 2 and "empty" in res.stderr


@pytest.mark.slow
def test_doctor_reports_models_and_fixes():
    res = run_cli("doctor", "--json")
    checks = {c["name"]: c for c in json.loads(res.stdout)}
    assert checks["chat model"]["status"] == "ok"
    assert checks["speech-to-text model"]["status"] == "ok"
    assert all(c["status"] in ("ok", "warn", "missing") for c in checks.values())
    assert all(c["fix"] for c in checks.values() if c["status"] == "missing")
