"""Desktop notifications and the alarm sound, without Qt (the GUI adds its tray balloon on top).

* :func:`desktop_notify`: ``notify-send`` on Linux, ``osascript`` on macOS, when present. The title and body
  are passed as separate arguments of a list (never through a shell), after ``--`` so that text starting
  with "-" is not read as an option.
* :func:`play_sound`: ``paplay`` / ``pw-play`` / ``aplay`` (Linux) or ``afplay`` (macOS) of a WAV, started in
  the background; returns at once.

Both return False (and never raise) when the platform has no such tool or it fails: a notification that
cannot be shown is not an error of the action (the item is still marked fired and logged).
"""

from __future__ import annotations

import math
import shutil
import struct
import subprocess
import sys
import wave
from pathlib import Path

from jarvis_desktop.config import data_dir

SOUND_PATH = Path(__file__).resolve().parents[2] / "resources" / "sounds" / "alarm.wav"
_PLAYERS = ("paplay", "pw-play", "aplay", "afplay")


def desktop_notify(title: str, body: str, urgent: bool = False, timeout_s: float = 5.0) -> bool:
    """Show a notification through the platform's notifier; True if one was shown.

    ``urgent`` asks for a notification that stays until dismissed (alarms).
    """
    try:
        if sys.platform == "darwin" and shutil.which("osascript"):
            script = [
                "-e",
                "on run argv",
                "-e",
                "display notification (item 2 of argv) with title (item 1 of argv)",
                "-e",
                "end run",
            ]
            argv = ["osascript", *script, title, body]
        elif shutil.which("notify-send"):
            argv = [
                "notify-send",
                "--app-name=Jarvis",
                f"--urgency={'critical' if urgent else 'normal'}",
                "--",
                title,
                body,
            ]
        else:
            return False
        done = subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=timeout_s,
            check=False,
        )
        return done.returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def write_chime(path: Path, seconds: float = 1.2, rate: int = 22050) -> Path:
    """Write the built-in chime (two soft sine tones, 16-bit mono WAV) to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = bytearray()
    n = int(seconds * rate)
    for i in range(n):
        t = i / rate
        tone = 880.0 if t < seconds / 2 else 660.0
        local = t % (seconds / 2)
        envelope = min(1.0, local * 40) * math.exp(-local * 5)
        frames += struct.pack("<h", int(0.4 * 32767 * envelope * math.sin(2 * math.pi * tone * t)))
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(bytes(frames))
    return path


def sound_file(configured: str = "") -> Path:
    """The WAV to play: ``configured`` if it exists, else the shipped chime (written to the data dir if the
    resources folder is not installed)."""
    if configured and Path(configured).expanduser().is_file():
        return Path(configured).expanduser()
    if SOUND_PATH.is_file():
        return SOUND_PATH
    fallback = data_dir() / "alarm.wav"
    return fallback if fallback.is_file() else write_chime(fallback)


def play_sound(path: Path | None = None) -> bool:
    """Start playing ``path`` (default: :func:`sound_file`) in the background; True if a player started."""
    try:
        path = path or sound_file()
        player = next((p for p in _PLAYERS if shutil.which(p)), None)
        if player is None:
            return False
        subprocess.Popen(
            [player, str(path)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        return True
    except OSError:
        return False
