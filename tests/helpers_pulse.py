"""A virtual microphone for tests: PulseAudio (user mode) with a null sink ``vsink`` whose monitor is remapped
to a source ``vmic``, made the default source. What ``paplay --device=vsink clip.wav`` plays, sounddevice
records from the "default"/"pulse" ALSA device.

Shell equivalent (what CI runs)::

    pulseaudio --start --exit-idle-time=-1
    pactl load-module module-null-sink sink_name=vsink
    pactl load-module module-remap-source master=vsink.monitor source_name=vmic
    pactl set-default-source vmic
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest


def _run(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(list(args), capture_output=True, text=True, timeout=30, check=check)


def pulse_running() -> bool:
    return shutil.which("pactl") is not None and _run("pactl", "info", check=False).returncode == 0


def _listed(kind: str, name: str) -> bool:
    out = _run("pactl", "list", "short", kind).stdout
    return any(line.split("\t")[1] == name for line in out.splitlines() if "\t" in line)


@pytest.fixture(scope="session")
def virtual_mic() -> Iterator[str]:
    """Start PulseAudio if needed, create ``vsink`` + ``vmic``, make ``vmic`` the default source.

    Yields the sink name to play into. Skips only when PulseAudio is not installed; any other failure fails.
    Cleans up what it created (modules it loaded; the daemon if it started it).
    """
    if not (shutil.which("pulseaudio") and shutil.which("pactl") and shutil.which("paplay")):
        pytest.skip("PulseAudio is not installed (apt install pulseaudio pulseaudio-utils libasound2-plugins)")
    started = False
    if not pulse_running():
        result = _run("pulseaudio", "--start", "--exit-idle-time=-1", check=False)
        deadline = time.monotonic() + 10
        while not pulse_running() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert pulse_running(), f"pulseaudio --start failed: {result.stderr.strip()}"
        started = True
    modules: list[str] = []
    if not _listed("sinks", "vsink"):
        modules.append(_run("pactl", "load-module", "module-null-sink", "sink_name=vsink").stdout.strip())
    if not _listed("sources", "vmic"):
        modules.append(
            _run(
                "pactl", "load-module", "module-remap-source", "master=vsink.monitor", "source_name=vmic"
            ).stdout.strip()
        )
    previous = _run("pactl", "get-default-source", check=False).stdout.strip()
    _run("pactl", "set-default-source", "vmic")
    yield "vsink"
    if previous and previous != "vmic":
        _run("pactl", "set-default-source", previous, check=False)
    for module in reversed(modules):
        _run("pactl", "unload-module", module, check=False)
    if started:
        _run("pulseaudio", "--kill", check=False)


def play(sink: str, wav: Path) -> None:
    """Play ``wav`` into ``sink`` and wait until it has been played."""
    _run("paplay", f"--device={sink}", str(wav))
