"""The app with no network at all: each CLI command runs in a new network namespace (``unshare -n``: only a
loopback that is down), as on a laptop in a plane. Everything that needs no hub works on the embedded models;
what needs one (a model download) fails at once with a clear message. Skipped where namespaces are not allowed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from tests.speech import speak

pytestmark = pytest.mark.slow


def _unshare_works() -> bool:
    if shutil.which("unshare") is None:
        return False
    return subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0


if not _unshare_works():
    pytest.skip("unshare -n is not permitted here (needs root or user namespaces)", allow_module_level=True)


@pytest.fixture
def offline(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    env = dict(os.environ, JARVIS_DESKTOP_HOME=str(home), PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
    env.pop("HF_HUB_OFFLINE", None)  # the app must not rely on the caller to say it is offline
    env.pop("JARVIS_REMOTE_BASE_URL", None)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["unshare", "-n", sys.executable, "-m", "jarvis_desktop", *args],
            capture_output=True,
            text=True,
            timeout=120,  # a hang fails the test; the seconds each command takes: bench/cli_latency.py
            env=env,
        )

    return run


def test_every_everyday_command_works_with_no_network(offline, tmp_path):
    wav = speak("set a timer for five minutes", tmp_path / "timer.wav")
    asked = offline("ask", "--json", str(wav))
    assert asked.returncode == 0, asked.stderr
    reply = json.loads(asked.stdout)
    assert reply["intent"] == "timer_set" and "5 minutes" in reply["reply"]["text"]

    noted = offline("do", "take a note: the spare key is under the blue pot")
    assert noted.returncode == 0, noted.stderr
    listed = offline("notes")
    assert "spare key" in listed.stdout

    chat = offline("chat", "Say hello in one short sentence.")
    assert chat.returncode == 0 and chat.stdout.strip(), chat.stderr

    doctor = offline("doctor")
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert "Traceback" not in doctor.stderr


def test_a_model_download_without_network_fails_fast_and_clearly(offline):
    out = offline("models", "download", "qwen2.5-0.5b")
    assert out.returncode != 0
    assert "Traceback" not in out.stderr
    message = (out.stdout + out.stderr).lower()
    assert "network" in message or "offline" in message or "reach" in message, message
