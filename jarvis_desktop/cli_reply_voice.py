"""Spoken replies for ``ask`` and ``do``: the reply is said as it is written, like in the window.

They speak when ``--speak`` is given, or when standard output is a terminal and ``[speech] enabled`` is on, unless
``--quiet``. A script (output piped or captured) gets no sound unless it asks for it: a shell loop over ``do``
must not queue minutes of speech behind it. With ``--json`` the turn's object gains
``"speak_start": {"latency_ms": ...}``, milliseconds from the request to the first reply sample handed to the
output device (``null`` when nothing was said).
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from typing import Any

from jarvis_desktop.config import Settings
from jarvis_desktop.tts.speaker import Speaker

__all__ = ["add_speech_flags", "ReplyVoice", "wants_speech"]

WAIT_S = 120.0
"""At most this long is waited for the reply to be said before the command returns."""


def add_speech_flags(parser: argparse.ArgumentParser) -> None:
    """``--speak`` / ``--quiet`` on ``ask`` and ``do``."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--speak", action="store_true", help="speak the reply (default on a terminal)")
    group.add_argument("--quiet", action="store_true", help="do not speak the reply")


def wants_speech(args: argparse.Namespace, settings: Settings) -> bool:
    """True when the reply is to be spoken (module docstring)."""
    if getattr(args, "quiet", False):
        return False
    return bool(getattr(args, "speak", False)) or (sys.stdout.isatty() and settings.speech.enabled)


class ReplyVoice:
    """One reply spoken through a :class:`~jarvis_desktop.tts.speaker.Speaker`: :meth:`feed` the deltas,
    :meth:`finish` waits until it has been said and returns the first-audio latency in ms (``None``: silent)."""

    def __init__(self, settings: Settings) -> None:
        self.speaker = Speaker(settings.speech)
        self._t0 = time.perf_counter()
        self._first: float | None = None
        self._got_first = threading.Event()
        self._stream = self.speaker.begin_stream(on_first_audio=self._on_first)

    def _on_first(self, at: float) -> None:
        self._first = (at - self._t0) * 1000.0
        self._got_first.set()

    def feed(self, delta: str) -> None:
        """The next piece of the reply (returns at once)."""
        self._stream.feed(delta)

    def finish(self) -> float | None:
        """End the reply, wait until it has been said (at most :data:`WAIT_S`), release the device."""
        self._stream.end()
        self.speaker.wait_idle(WAIT_S)
        self._got_first.wait(0.5)  # the event thread reports the first sample a moment after it played
        self.speaker.close()
        if self.speaker.last_error is not None:
            print(f"warning: {self.speaker.last_error.user_message()}", file=sys.stderr)
        return self._first

    def to_json(self) -> dict[str, Any]:
        """``{"latency_ms": ...}`` for the turn's JSON object."""
        return {"latency_ms": None if self._first is None else round(self._first, 1)}
