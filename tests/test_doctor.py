"""``jarvis-desktop doctor`` tells the truth: a bad settings file, a damaged chat model or an unknown time zone is
reported (status "missing", exit 1), through the real CLI on real files."""

from __future__ import annotations

import json
import shutil

import pytest

from jarvis_desktop.models import embedded_chat_gguf
from tests.cli_helpers import run_cli


def doctor(home) -> tuple[int, dict[str, dict[str, str]]]:
    """Run ``doctor --json`` with ``home`` as JARVIS_DESKTOP_HOME: (exit code, {check name: check})."""
    res = run_cli("doctor", "--json", env={"JARVIS_DESKTOP_HOME": str(home), "QT_QPA_PLATFORM": "offscreen"})
    assert res.stdout.strip(), res.stderr
    return res.returncode, {c["name"]: c for c in json.loads(res.stdout)}


def with_chat_model(home, data: bytes) -> None:
    (home / "model.gguf").write_bytes(data)
    (home / "settings.toml").write_text(f"[chat]\nmodel_path = '{home / 'model.gguf'}'\n")


def test_good_setup_reports_settings_chat_model_and_time_zone_ok(tmp_path):
    shutil.copyfile(embedded_chat_gguf(), tmp_path / "model.gguf")
    (tmp_path / "settings.toml").write_text(
        f"[chat]\nmodel_path = '{tmp_path / 'model.gguf'}'\n[nlu]\ntimezone = 'Europe/Lisbon'\n"
    )
    code, checks = doctor(tmp_path)
    assert checks["settings"]["status"] == "ok"
    assert checks["chat model"]["status"] == "ok" and "model.gguf" in checks["chat model"]["detail"]
    assert checks["time zone"] == {"name": "time zone", "status": "ok", "detail": "Europe/Lisbon", "fix": ""}
    assert code == (1 if any(c["status"] == "missing" for c in checks.values()) else 0)


@pytest.mark.parametrize(
    "damage, needle",
    [
        (lambda data: data[: len(data) // 2], "tensors need"),
        (lambda data: data[:-1], "truncated"),
        (lambda data: b"GGUX" + data[4:], "not a GGUF file"),
        (lambda data: data[:4] + bytes([data[4] ^ 0x40]) + data[5:], "unsupported GGUF version 67"),
        (lambda data: data[:8] + bytes([data[8] ^ 0x40]) + data[9:], "truncated or damaged"),
        (lambda data: b"this is a text file, not a model\n" * 10, "not a GGUF file"),
    ],
    ids=["half", "one-byte-short", "bad-magic", "flipped-version", "flipped-tensor-count", "text-file"],
)
def test_damaged_chat_model_is_not_ok_and_doctor_exits_1(tmp_path, damage, needle):
    with_chat_model(tmp_path, damage(embedded_chat_gguf().read_bytes()))
    code, checks = doctor(tmp_path)
    chat = checks["chat model"]
    assert chat["status"] == "missing" and needle in chat["detail"] and "model.gguf" in chat["detail"], chat
    assert chat["fix"] and code == 1


@pytest.mark.parametrize(
    "text, needle",
    [
        ("[chat\nn_ctx = 1", "not a valid settings file"),
        ("[remote]\nplacement = 'mars'", "'placement' = 'mars' is not allowed"),
        ("[nlu]\ntimezone = 'Mars/Olympus'", "'timezone' = 'Mars/Olympus' is not a known time zone"),
    ],
)
def test_bad_settings_file_is_reported_and_doctor_exits_1(tmp_path, text, needle):
    (tmp_path / "settings.toml").write_text(text)
    code, checks = doctor(tmp_path)
    assert checks["settings"]["status"] == "missing" and needle in checks["settings"]["detail"]
    assert str(tmp_path / "settings.toml") in checks["settings"]["detail"]
    assert checks["chat model"]["status"] == "ok"  # the other checks still run, on the defaults
    assert code == 1
