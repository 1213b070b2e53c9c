"""A virtual loudspeaker for the speech-output tests: a PulseAudio null sink ``jarvis_speaker`` and a recorder of
its monitor (``parec``), plus helpers to compare what was heard with what was meant.

Shell equivalent::

    pulseaudio --start --exit-idle-time=-1
    pactl load-module module-null-sink sink_name=jarvis_speaker
    pacat --playback --latency-msec=20 --device=jarvis_speaker /dev/zero &      # keep-alive, see below
    PULSE_SINK=jarvis_speaker <play to sounddevice device "pulse">
    parec --device=jarvis_speaker.monitor --format=s16le --rate=16000 --channels=1 --latency-msec=10 > out.raw

Choices:

* **Routing**: the app plays to the sounddevice (ALSA) device ``"pulse"`` with ``PULSE_SINK=jarvis_speaker`` in
  the environment (libpulse reads it when the stream connects). The other tests' ``vsink`` / ``vmic``
  (``virtual_mic``) and the default source are never touched. ``jarvis_speaker`` is kept from being the default
  sink (:func:`_keep_speaker_off_the_default`): other tests' spoken replies go to the default device, and must
  not land in this recording.
* **Keep-alive**: an idle null sink renders 2 s blocks; a stream that connects then waits up to 2 s for its
  first callbacks, and the monitor delivers nothing in between (a null-sink artefact: hardware sinks rewind).
  A silent 20 ms-latency ``pacat`` stream keeps the sink's clock at 5-20 ms, so the monitor streams
  continuously and playback starts at once, as on a sound card. Zeros add nothing to the mix.
* **Clock alignment**: :class:`SinkRecorder` timestamps every read of ``parec``'s output with
  ``time.perf_counter()``. Sample ``k`` reached the monitor at ``t0 + k / 16000``; ``t0`` is estimated as the
  minimum over reads of ``arrival - samples_so_far / 16000``. Arrival can only be late, so the estimate maps a
  sample to a time at or after its true time (by the pipe and scheduling delay, a few ms): a check such as
  "silent from stop + 150 ms on" then looks at audio from slightly before that instant, never after. Honest.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from helpers_pulse import _listed, _run, pulse_running

SINK = "jarvis_speaker"
RATE = 16000


@dataclass(frozen=True)
class Recording:
    """What reached the sink's monitor: float32 ``(n,)`` mono 16 kHz, and the perf_counter time of sample 0."""

    samples: np.ndarray
    t0: float

    def index_at(self, t: float) -> int:
        """Index of the sample that reached the monitor at ``time.perf_counter()`` instant ``t`` (clamped)."""
        return int(min(max(0.0, (t - self.t0) * RATE), len(self.samples)))

    def between(self, start: float, end: float | None = None) -> np.ndarray:
        """Samples from perf_counter instant ``start`` to ``end`` (the end of the recording when None)."""
        return self.samples[self.index_at(start) : len(self.samples) if end is None else self.index_at(end)]


def rms(samples: np.ndarray) -> float:
    """Root mean square of float samples (0.0 for none)."""
    return float(np.sqrt(np.mean(np.square(samples, dtype=np.float64)))) if samples.size else 0.0


class SinkRecorder:
    """Record the null sink's monitor with ``parec`` while a ``with`` block runs; :attr:`recording` after it."""

    def __init__(self) -> None:
        self.recording: Recording | None = None
        self._reads: list[tuple[float, bytes]] = []
        self._proc: subprocess.Popen[bytes] | None = None
        self._reader: threading.Thread | None = None

    def __enter__(self) -> SinkRecorder:
        self._proc = subprocess.Popen(
            ["parec", f"--device={SINK}.monitor", "--format=s16le", f"--rate={RATE}", "--channels=1",
             "--latency-msec=10"],
            stdout=subprocess.PIPE,
        )  # fmt: skip
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        deadline = time.monotonic() + 5
        while not self._reads and time.monotonic() < deadline:
            time.sleep(0.01)
        assert self._reads, "parec delivered nothing in 5 s (is the keep-alive stream running?)"
        return self

    def _read(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        while chunk := self._proc.stdout.read1(4096):
            self._reads.append((time.perf_counter(), chunk))

    def __exit__(self, *exc: object) -> None:
        time.sleep(0.15)  # let the last blocks through
        assert self._proc is not None and self._reader is not None
        self._proc.terminate()
        self._proc.wait(timeout=5)
        self._reader.join(timeout=5)
        data = b"".join(chunk for _, chunk in self._reads)
        data = data[: len(data) // 2 * 2]
        count, offsets = 0, []
        for arrival, chunk in self._reads:
            count += len(chunk) // 2
            offsets.append(arrival - count / RATE)
        samples = np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0
        self.recording = Recording(samples, min(offsets))


@dataclass(frozen=True)
class SpeakerSink:
    """The virtual loudspeaker: pass :attr:`device` as the output device; ``record()`` what it plays."""

    name: str
    device: str = "pulse"

    def record(self) -> SinkRecorder:
        """A fresh recorder of the monitor (use as ``with sink.record() as rec: ...; rec.recording``)."""
        return SinkRecorder()


def _start_pulse() -> bool:
    """Start PulseAudio in user mode if it is not running; True if this call started it."""
    if pulse_running():
        return False
    result = _run("pulseaudio", "--start", "--exit-idle-time=-1", check=False)
    deadline = time.monotonic() + 10
    while not pulse_running() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert pulse_running(), f"pulseaudio --start failed: {result.stderr.strip()}"
    return True


def _keep_speaker_off_the_default(default_before: str) -> list[str]:
    """Make sure ``jarvis_speaker`` is not the default sink, so nothing else plays into it (other tests' speech
    goes to the default device). Loading it removes PulseAudio's placeholder ``auto_null``, which makes it the
    default: then the previous default is restored if it still exists, else a null sink ``jarvis_default``
    takes that role. Returns the modules loaded (to unload at the end)."""
    if _run("pactl", "get-default-sink", check=False).stdout.strip() != SINK:
        return []
    if default_before and default_before != SINK and _listed("sinks", default_before):
        _run("pactl", "set-default-sink", default_before)
        return []
    module = _run("pactl", "load-module", "module-null-sink", "sink_name=jarvis_default").stdout.strip()
    _run("pactl", "set-default-sink", "jarvis_default")
    return [module]


@pytest.fixture(scope="session")
def speaker_sink() -> Iterator[SpeakerSink]:
    """PulseAudio (started if needed), the null sink ``jarvis_speaker`` with its keep-alive stream, and
    ``PULSE_SINK=jarvis_speaker`` for this process. Skips only when PulseAudio is not installed. Cleans up what
    it created: the keep-alive, the modules, ``PULSE_SINK``, and the daemon if it started it and nothing else
    uses it (no ``vsink``, no stream playing)."""
    if not all(shutil.which(tool) for tool in ("pulseaudio", "pactl", "parec", "pacat")):
        pytest.skip("PulseAudio is not installed (apt install pulseaudio pulseaudio-utils libasound2-plugins)")
    started = _start_pulse()
    default_before = _run("pactl", "get-default-sink", check=False).stdout.strip()
    modules = []
    if not _listed("sinks", SINK):
        modules.append(_run("pactl", "load-module", "module-null-sink", f"sink_name={SINK}").stdout.strip())
    modules += _keep_speaker_off_the_default(default_before)
    keep_alive = subprocess.Popen(
        ["pacat", "--playback", "--latency-msec=20", f"--device={SINK}", "--format=s16le", f"--rate={RATE}",
         "--channels=1", "/dev/zero"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    previous = os.environ.get("PULSE_SINK")
    os.environ["PULSE_SINK"] = SINK
    time.sleep(0.3)
    yield SpeakerSink(SINK)
    if previous is None:
        os.environ.pop("PULSE_SINK", None)
    else:
        os.environ["PULSE_SINK"] = previous
    keep_alive.terminate()
    keep_alive.wait(timeout=5)
    for module in reversed(modules):
        _run("pactl", "unload-module", module, check=False)
    in_use = _run("pactl", "list", "short", "sink-inputs", check=False).stdout.strip()
    if started and not _listed("sinks", "vsink") and not in_use:
        _run("pulseaudio", "--kill", check=False)


# ---- what was heard --------------------------------------------------------------------------------------------
def heard_words(text: str) -> list[str]:
    """Words of a transcript or a speakable text, normalised alike (Whisper writes "3.30 p.m.", "10", "27th")."""
    from num2words import num2words

    text = text.lower().replace("a.m.", "a m").replace("p.m.", "p m").replace("o'clock", "")
    text = re.sub(r"(\d)([ap])m\b", r"\1 \2m", text)
    text = re.sub(r"\b([ap])m\b", r"\1 m", text)
    text = re.sub(r"\b(\d{1,2})(\d{2}) (?=[ap] m\b)", r"\1:\2 ", text)  # "730 a.m."

    def clock(m: re.Match[str]) -> str:
        minute = int(m.group(2))
        said = "" if minute == 0 else (f" oh {num2words(minute)}" if minute < 10 else f" {num2words(minute)}")
        return f"{num2words(int(m.group(1)))}{said}"

    text = re.sub(r"\b(\d{1,2})[.:](\d{2})\b", clock, text)
    text = re.sub(r"\b(\d+)(?:st|nd|rd|th)\b", lambda m: num2words(int(m.group(1)), to="ordinal"), text)
    text = re.sub(
        r"\b\d{4}\b",
        lambda m: num2words(int(m.group(0)), to="year" if 1100 <= int(m.group(0)) < 2100 else "cardinal"),
        text,
    )
    text = re.sub(r"\b\d+\b", lambda m: num2words(int(m.group(0))), text)
    return re.sub(r"[^a-z' ]+", " ", text.replace("-", " ").replace(",", "")).split()


def wer(reference: str, hypothesis: str) -> float:
    """Word error rate of ``hypothesis`` against ``reference`` after :func:`heard_words` on both (jiwer)."""
    import jiwer

    return float(jiwer.wer(" ".join(heard_words(reference)), " ".join(heard_words(hypothesis)) or "-"))


def load_wav_16k(path: Path) -> np.ndarray:
    """A WAV file as float32 mono 16 kHz (the app's loader)."""
    from jarvis_desktop.audio.wav import load_audio

    return load_audio(path)
